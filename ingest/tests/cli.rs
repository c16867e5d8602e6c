//! The real `ingest` binary's command line: `--version`, `--help`, `check-config`, the exit
//! codes and `completions`. Needs no Kafka or ClickHouse: `check-config` connects to nothing.
//!
//! ```text
//! cargo test -p ingest --test cli
//! ```

#![allow(clippy::unwrap_used)] // In tests a failed unwrap is a failed test.

use std::path::Path;
use std::process::Output;

use testkit::cli::text;

const BIN: &str = env!("CARGO_BIN_EXE_ingest");

/// Runs `ingest` with `args` and only the `INGEST_*` variables in `env` (none inherited).
fn ingest(args: &[&str], env: &[(&str, &str)]) -> Output {
    testkit::cli::run(BIN, "INGEST_", args, env)
}

/// A config file in `dir` with `body`, its path as a string.
fn config_file(dir: &Path, body: &str) -> String {
    let path = dir.join("ingest.toml");
    std::fs::write(&path, body).unwrap();
    path.to_str().unwrap().to_owned()
}

#[test]
fn version_prints_the_crate_version() {
    let out = ingest(&["--version"], &[]);
    assert!(out.status.success());
    assert_eq!(
        text(&out.stdout),
        format!("ingest {}\n", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn help_shows_examples_and_every_exit_code() {
    let out = ingest(&["--help"], &[]);
    assert!(out.status.success());
    let help = text(&out.stdout);
    assert!(help.contains("Examples:"), "{help}");
    assert!(
        help.contains("ingest --config ingest.toml check-config"),
        "{help}"
    );
    assert!(help.contains("Exit codes:"), "{help}");
    for code in ["  0 ", "  1 ", "  2 ", "  3 ", "  86 "] {
        assert!(help.contains(code), "{code:?} in {help}");
    }
    assert!(help.contains("INGEST_FAULT_EXIT_BEFORE_COMMIT"), "{help}");
}

#[test]
fn check_config_accepts_the_example_file_and_the_defaults() {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("ingest.example.toml");
    let out = ingest(
        &["--config", example.to_str().unwrap(), "check-config"],
        &[("INGEST_KAFKA_BROKERS", "kafka-1:9092")],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let said = text(&out.stdout);
    assert!(said.starts_with("ok: "), "{said}");
    assert!(
        said.contains("kafka.brokers (INGEST_KAFKA_BROKERS)"),
        "{said}"
    );

    let out = ingest(&["check-config"], &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "ok: no file, the defaults\n");
}

#[test]
fn check_config_names_the_bad_field_and_exits_3() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        // A value of the wrong type.
        (
            "[kafka]\npartitions = \"abc\"\n",
            vec![],
            "`kafka.partitions`",
        ),
        // An unknown field (the config denies them).
        ("[batch]\nmax_rowz = 5\n", vec![], "`batch.max_rowz`"),
        // A value that parses but cannot work.
        ("[batch]\nmax_rows = 0\n", vec![], "`batch.max_rows`"),
        // A bad environment override.
        (
            "",
            vec![("INGEST_KAFKA_PARTITIONS", "abc")],
            "`kafka.partitions` (from INGEST_KAFKA_PARTITIONS)",
        ),
        // Kafka transport security that cannot work.
        (
            "[kafka]\nsecurity_protocol = \"tls\"\n",
            vec![],
            "`kafka.security_protocol`",
        ),
        (
            "[kafka]\nsecurity_protocol = \"sasl_ssl\"\nsasl_mechanism = \"SCRAM-SHA-512\"\nsasl_username = \"ingest\"\n",
            vec![],
            "`kafka.sasl_password`",
        ),
        (
            "[kafka]\nsecurity_protocol = \"ssl\"\nssl_ca_location = \"/nonexistent/ca.pem\"\n",
            vec![],
            "`kafka.ssl_ca_location`",
        ),
        // Security needs signatures unless switched off for a migration window; the refresh
        // has a floor.
        (
            "[security]\nregistry_refresh_ms = 10\n",
            vec![],
            "`security.registry_refresh_ms`",
        ),
    ];
    for (body, env, named) in cases {
        let path = config_file(dir.path(), body);
        let out = ingest(&["check-config", "--config", &path], &env);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{body:?} {env:?}: {stderr}");
        assert!(stderr.contains(named), "{named} in {stderr}");
        assert!(out.stdout.is_empty(), "{}", text(&out.stdout));
    }
}

#[test]
fn a_bad_argument_exits_2() {
    let out = ingest(&["consume", "--no-such-flag"], &[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
}

#[test]
fn completions_print_a_script_for_the_binary() {
    let out = ingest(&["completions", "bash"], &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let script = text(&out.stdout);
    assert!(script.contains("_ingest()"), "{script}");
    assert!(script.contains("check-config"), "{script}");
    for shell in ["zsh", "fish"] {
        let out = ingest(&["completions", shell], &[]);
        assert!(out.status.success() && !out.stdout.is_empty(), "{shell}");
    }
}
