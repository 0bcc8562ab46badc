//! Coverage and efficiency of a ranking, as in the EPSS papers (Jacobs et al.):
//! remediate the top `effort` share of findings by score; *coverage* is the share of the
//! positives (e.g. findings whose CVE was later added to CISA KEV) that were remediated,
//! *efficiency* the share of remediated findings that are positives.
//!
//! Ties are common (missing CVSS or EPSS), and breaking them by id would reward or punish
//! a method by accident. The cut-off group is therefore counted at its expected value
//! under random tie-breaking: if the budget takes `k` of a tied group of `n` holding `p`
//! positives, it contributes `p·k/n` positives.

/// Coverage and efficiency at one effort level.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    /// Share of findings remediated, 0..=1.
    pub effort: f64,
    /// Findings remediated (rounded up).
    pub remediated: usize,
    pub coverage: f64,
    pub efficiency: f64,
}

/// Evaluate `(score, positive)` pairs at each effort level.
pub fn coverage_efficiency(items: &[(f64, bool)], efforts: &[f64]) -> Vec<Point> {
    let mut sorted: Vec<(f64, bool)> = items.to_vec();
    sorted.sort_by(|a, b| b.0.total_cmp(&a.0));
    let positives = sorted.iter().filter(|x| x.1).count() as f64;
    efforts
        .iter()
        .map(|&effort| {
            let budget = ((effort * sorted.len() as f64).ceil() as usize).min(sorted.len());
            let mut taken = 0usize;
            let mut hits = 0f64;
            let mut i = 0;
            while i < sorted.len() && taken < budget {
                let mut j = i;
                while j < sorted.len() && sorted[j].0 == sorted[i].0 {
                    j += 1;
                }
                let n = j - i;
                let p = sorted[i..j].iter().filter(|x| x.1).count() as f64;
                let k = n.min(budget - taken);
                hits += p * k as f64 / n as f64;
                taken += k;
                i = j;
            }
            Point {
                effort,
                remediated: budget,
                coverage: if positives > 0.0 {
                    hits / positives
                } else {
                    0.0
                },
                efficiency: if budget > 0 {
                    hits / budget as f64
                } else {
                    0.0
                },
            }
        })
        .collect()
}

/// The 95% Wilson score interval of a proportion `p` observed on `n` trials (`(0, 1)` for
/// `n = 0`). Coverage is a proportion of the positives, so with few positives its interval
/// is wide: differences inside it are not evidence. `p` may be fractional (expected hits
/// under random tie-breaking); the interval is the usual one at that point estimate.
pub fn wilson_interval(p: f64, n: usize) -> (f64, f64) {
    if n == 0 {
        return (0.0, 1.0);
    }
    const Z: f64 = 1.959_963_984_540_054;
    let n = n as f64;
    let p = p.clamp(0.0, 1.0);
    let z2 = Z * Z;
    let center = (p + z2 / (2.0 * n)) / (1.0 + z2 / n);
    let half = Z * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt() / (1.0 + z2 / n);
    ((center - half).max(0.0), (center + half).min(1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wilson_intervals_match_the_textbook_values() {
        let close =
            |a: (f64, f64), b: (f64, f64)| (a.0 - b.0).abs() < 5e-4 && (a.1 - b.1).abs() < 5e-4;
        // Newcombe (1998), table I: 81/263 → 0.2553–0.3662; 15/148 → 0.0624–0.1605.
        assert!(close(wilson_interval(81.0 / 263.0, 263), (0.2553, 0.3662)));
        assert!(close(wilson_interval(15.0 / 148.0, 148), (0.0624, 0.1605)));
        // 0 of 10 and 10 of 10 (Newcombe: 0–0.2775, 0.7225–1).
        assert!(close(wilson_interval(0.0, 10), (0.0, 0.2775)));
        assert!(close(wilson_interval(1.0, 10), (0.7225, 1.0)));
        assert_eq!(wilson_interval(0.3, 0), (0.0, 1.0));
        // Three positives say little: one of three is anything from 6% to 79%.
        let (lo, hi) = wilson_interval(1.0 / 3.0, 3);
        assert!(lo < 0.07 && hi > 0.79, "{lo} {hi}");
    }

    #[test]
    fn perfect_ranking_covers_everything_at_the_positive_share() {
        let items: Vec<(f64, bool)> = (0..100).map(|i| (i as f64, i >= 90)).collect();
        let p = coverage_efficiency(&items, &[0.1, 0.05, 0.5]);
        assert_eq!((p[0].coverage, p[0].efficiency), (1.0, 1.0));
        assert_eq!((p[1].coverage, p[1].efficiency), (0.5, 1.0));
        assert_eq!((p[2].coverage, p[2].efficiency), (1.0, 0.2));
    }

    #[test]
    fn ties_count_at_their_expected_value() {
        // All tied: any effort finds positives at the base rate.
        let items: Vec<(f64, bool)> = (0..100).map(|i| (0.0, i % 10 == 0)).collect();
        let p = coverage_efficiency(&items, &[0.2]);
        assert!((p[0].coverage - 0.2).abs() < 1e-12);
        assert!((p[0].efficiency - 0.1).abs() < 1e-12);
    }

    #[test]
    fn inverted_ranking_finds_nothing_early() {
        let items: Vec<(f64, bool)> = (0..100).map(|i| (i as f64, i < 10)).collect();
        let p = coverage_efficiency(&items, &[0.5]);
        assert_eq!(p[0].coverage, 0.0);
    }
}
