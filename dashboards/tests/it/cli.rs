//! The real `dashboards` binary's command line: `--version`, `--help`, `check-config`, the exit
//! codes and `completions`. Needs no ClickHouse: `check-config` connects to nothing.

#![allow(clippy::unwrap_used)] // In tests a failed unwrap is a failed test.

use std::path::Path;
use std::process::Output;

use testkit::cli::text;

const BIN: &str = env!("CARGO_BIN_EXE_dashboards");

/// Runs `dashboards` with `args` and only the `DASHBOARDS_*` variables in `env`.
fn dashboards(args: &[&str], env: &[(&str, &str)]) -> Output {
    testkit::cli::run(BIN, "DASHBOARDS_", args, env)
}

#[test]
fn version_prints_the_crate_version() {
    let out = dashboards(&["--version"], &[]);
    assert!(out.status.success());
    assert_eq!(
        text(&out.stdout),
        format!("dashboards {}\n", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn help_shows_examples_and_the_exit_codes() {
    let out = dashboards(&["--help"], &[]);
    assert!(out.status.success());
    let help = text(&out.stdout);
    assert!(help.contains("Examples:"), "{help}");
    assert!(help.contains("dashboards hash-token --generate"), "{help}");
    assert!(help.contains("Exit codes:"), "{help}");
    for code in ["  0 ", "  1 ", "  2 ", "  3 "] {
        assert!(help.contains(code), "{code:?} in {help}");
    }
}

#[test]
fn check_config_accepts_the_example_file_and_counts_the_users_file() {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("dashboards.example.toml");
    let dir = tempfile::tempdir().unwrap();
    let users = dir.path().join("users.toml");
    std::fs::write(
        &users,
        format!(
            "[[users]]\nname = \"sandhills-manager\"\ntoken_sha256 = \"{}\"\nfeedlots = [\"sandhills\"]\n",
            "ab".repeat(32)
        ),
    )
    .unwrap();
    let out = dashboards(
        &["check-config", "--config", example.to_str().unwrap()],
        &[("DASHBOARDS_WEB_USERS_FILE", users.to_str().unwrap())],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let said = text(&out.stdout);
    assert!(said.starts_with("ok: "), "{said}");
    assert!(
        said.contains("web.users_file (DASHBOARDS_WEB_USERS_FILE); 1 web user(s)"),
        "{said}"
    );
}

#[test]
fn check_config_names_the_bad_field_and_exits_3() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dashboards.toml");
    let cases = [
        // A value of the wrong type.
        (
            "[web]\nsession_hours = \"twelve\"\n",
            vec![],
            "`web.session_hours`",
        ),
        // An unknown field (the config denies them).
        ("[web]\nlisten_on = \"x\"\n", vec![], "`web.listen_on`"),
        // A value that parses but cannot work.
        ("[web]\nsession_hours = 0\n", vec![], "`web.session_hours`"),
        // A bad environment override.
        (
            "",
            vec![("DASHBOARDS_CLICKHOUSE_URL", "ftp://x")],
            "DASHBOARDS_CLICKHOUSE_URL",
        ),
    ];
    for (body, env, named) in cases {
        std::fs::write(&path, body).unwrap();
        let out = dashboards(&["--config", path.to_str().unwrap(), "check-config"], &env);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{body:?} {env:?}: {stderr}");
        assert!(stderr.contains(named), "{named} in {stderr}");
    }
}

#[test]
fn a_bad_argument_exits_2() {
    let out = dashboards(&["serve", "--no-such-flag"], &[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
}

#[test]
fn completions_print_a_script_for_the_binary() {
    let out = dashboards(&["completions", "bash"], &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let script = text(&out.stdout);
    assert!(script.contains("_dashboards()"), "{script}");
    assert!(script.contains("hash-token"), "{script}");
}
