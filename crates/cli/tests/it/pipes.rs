//! A stdout closed by its reader (`patchpilot … | head`) ends every command quietly:
//! exit 0, no panic, nothing on stderr but the command's own warnings.

use crate::support::{audit_fixture, run_with_closed_stdout, stderr, with_feeds};

/// Exit 0 and no panic or error text.
fn assert_quiet(what: &str, o: &std::process::Output) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(0), "{what}: {err}");
    assert!(
        !err.contains("panicked") && !err.contains("Broken pipe") && !err.contains("error"),
        "{what}: {err}"
    );
}

#[test]
fn closed_stdout_ends_every_command_quietly() {
    let Some((shared, _keep, data)) =
        with_feeds("closed_stdout_ends_every_command_quietly", &["crates.io"])
    else {
        return;
    };
    let lock = audit_fixture(&shared, "base64_vuln");
    let kev = shared
        .join("feeds/kev/history/2024-01-19.json")
        .display()
        .to_string();
    let kev_after = shared
        .join("feeds/kev/known_exploited_vulnerabilities.json")
        .display()
        .to_string();
    let commands: Vec<Vec<&str>> = vec![
        vec!["scan", &lock],
        vec!["scan", "--format", "json", &lock],
        vec!["scan", "--format", "sarif", &lock],
        vec!["scan", "--prioritize", &lock],
        vec!["explain", "RUSTSEC-2017-0004"],
        vec!["explain", "--format", "json", "RUSTSEC-2017-0004"],
        vec!["feeds", "status"],
        vec!["feeds", "import", &kev],
        vec![
            "eval",
            "prioritize",
            "--kev-before",
            &kev,
            "--kev-after",
            &kev_after,
        ],
        vec!["version", "compare", "deb", "1:1.0-1", "2.0"],
        vec!["audit", "verify"],
        vec!["audit", "verify", "--json"],
    ];
    for args in commands {
        let mut argv = vec!["--data-dir", data.as_str()];
        argv.extend(&args);
        let o = run_with_closed_stdout(&argv, None);
        assert_quiet(&args.join(" "), &o);
    }
    let pairs = "1.0 2.0\n".repeat(10_000);
    let o = run_with_closed_stdout(&["version", "compare", "pep440", "--batch"], Some(&pairs));
    assert_quiet("version compare --batch", &o);
}
