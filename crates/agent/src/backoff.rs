//! Exponential backoff with jitter and a cap, for retries against the server.
//!
//! Delay `n` (from 0) is `min(max, initial * factor^n)`, then scaled down by up to
//! `jitter` (a fraction): with `jitter = 0.5` a 4 s step waits between 2 s and 4 s. The
//! jitter spreads a fleet that lost the server at the same moment, so its reconnects do
//! not arrive in lockstep. Everything is configurable so tests run with millisecond
//! delays.

use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backoff {
    pub initial: Duration,
    pub max: Duration,
    pub factor: f64,
    /// Fraction in `[0, 1]` of each delay that is randomized away.
    pub jitter: f64,
}

impl Default for Backoff {
    fn default() -> Backoff {
        Backoff {
            initial: Duration::from_secs(1),
            max: Duration::from_secs(300),
            factor: 2.0,
            jitter: 0.5,
        }
    }
}

/// A retry delay for a log line: "2.3 s", "4 min 10 s".
pub fn human(d: Duration) -> String {
    let secs = d.as_secs_f64();
    if secs < 10.0 {
        format!("{secs:.1} s")
    } else if secs < 60.0 {
        format!("{secs:.0} s")
    } else {
        let s = d.as_secs();
        format!("{} min {} s", s / 60, s % 60)
    }
}

impl Backoff {
    /// The delay before retry number `attempt` (0 for the first retry).
    pub fn delay(&self, attempt: u32) -> Duration {
        self.delay_with(attempt, rand::random::<f64>())
    }

    /// [`Backoff::delay`] with the random draw `r` in `[0, 1)` given (for tests).
    pub fn delay_with(&self, attempt: u32, r: f64) -> Duration {
        let max = self.max.as_secs_f64();
        let factor = if self.factor.is_finite() && self.factor >= 1.0 {
            self.factor
        } else {
            1.0
        };
        let exp = factor.powi(attempt.min(64) as i32);
        let base = (self.initial.as_secs_f64() * exp).min(max);
        let jitter = self.jitter.clamp(0.0, 1.0);
        let secs = base * (1.0 - jitter * r.clamp(0.0, 1.0));
        Duration::from_secs_f64(secs.max(0.0))
    }
}

/// Retry state: counts consecutive failures.
#[derive(Debug, Clone)]
pub struct Retry {
    pub backoff: Backoff,
    attempt: u32,
}

impl Retry {
    pub fn new(backoff: Backoff) -> Retry {
        Retry {
            backoff,
            attempt: 0,
        }
    }
    /// A failure: the delay to wait before the next try.
    pub fn failed(&mut self) -> Duration {
        let d = self.backoff.delay(self.attempt);
        self.attempt = self.attempt.saturating_add(1);
        d
    }
    /// A success: the next failure starts from `initial` again.
    pub fn succeeded(&mut self) {
        self.attempt = 0;
    }
    /// Consecutive failures so far.
    pub fn failures(&self) -> u32 {
        self.attempt
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_exponentially_to_the_cap() {
        let b = Backoff {
            initial: Duration::from_millis(100),
            max: Duration::from_secs(1),
            factor: 2.0,
            jitter: 0.0,
        };
        let ms: Vec<u128> = (0..6).map(|n| b.delay_with(n, 0.7).as_millis()).collect();
        assert_eq!(ms, [100, 200, 400, 800, 1000, 1000]);
        assert_eq!(b.delay_with(u32::MAX, 0.0), Duration::from_secs(1));
    }

    #[test]
    fn jitter_stays_within_its_fraction() {
        let b = Backoff {
            initial: Duration::from_secs(4),
            max: Duration::from_secs(60),
            factor: 2.0,
            jitter: 0.5,
        };
        assert_eq!(b.delay_with(0, 0.0), Duration::from_secs(4));
        assert_eq!(b.delay_with(0, 1.0), Duration::from_secs(2));
        for _ in 0..100 {
            let d = b.delay(0);
            assert!(
                d >= Duration::from_secs(2) && d <= Duration::from_secs(4),
                "{d:?}"
            );
        }
    }

    #[test]
    fn nonsense_settings_do_not_panic() {
        let b = Backoff {
            initial: Duration::from_secs(1),
            max: Duration::from_secs(10),
            factor: f64::NAN,
            jitter: 7.0,
        };
        assert_eq!(b.delay_with(5, 0.5), Duration::from_millis(500));
        let b = Backoff {
            jitter: -1.0,
            factor: 0.1,
            ..b
        };
        assert_eq!(b.delay_with(5, 0.5), Duration::from_secs(1));
    }

    #[test]
    fn retry_resets_on_success() {
        let mut r = Retry::new(Backoff {
            initial: Duration::from_millis(10),
            max: Duration::from_millis(100),
            factor: 2.0,
            jitter: 0.0,
        });
        assert_eq!(r.failed(), Duration::from_millis(10));
        assert_eq!(r.failed(), Duration::from_millis(20));
        r.succeeded();
        assert_eq!(r.failed(), Duration::from_millis(10));
    }
}
