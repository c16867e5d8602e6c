//! The real `edge` binary's command line: `--version`, `--help`, `check-config`, the exit codes
//! and `completions`. Needs no broker and no serial port: `check-config` opens nothing.

#![allow(clippy::unwrap_used)] // In tests a failed unwrap is a failed test.

use std::path::Path;
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_edge");

/// Runs `edge` with `args` and only the `EDGE_*` variables in `env`.
fn edge(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(BIN);
    for (name, _) in std::env::vars().filter(|(name, _)| name.starts_with("EDGE_")) {
        command.env_remove(name);
    }
    command
        .args(args)
        .envs(env.iter().copied())
        .env("RUST_BACKTRACE", "0")
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn version_prints_the_crate_version() {
    let out = edge(&["--version"], &[]);
    assert!(out.status.success());
    assert_eq!(
        text(&out.stdout),
        format!("edge {}\n", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn help_shows_examples_and_the_exit_codes() {
    let out = edge(&["--help"], &[]);
    assert!(out.status.success());
    let help = text(&out.stdout);
    assert!(help.contains("Examples:"), "{help}");
    assert!(
        help.contains("edge run --config /etc/feedlot/edge.toml"),
        "{help}"
    );
    assert!(help.contains("Exit codes:"), "{help}");
    for code in ["  0 ", "  1 ", "  2 ", "  3 "] {
        assert!(help.contains(code), "{code:?} in {help}");
    }
}

#[test]
fn check_config_accepts_the_example_file_with_overrides() {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("edge.example.toml");
    let out = edge(
        &["check-config", "--config", example.to_str().unwrap()],
        &[("EDGE_GATEWAY_ID", "gw-chute-north")],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let said = text(&out.stdout);
    assert!(said.starts_with("ok: "), "{said}");
    assert!(said.contains("gateway_id (EDGE_GATEWAY_ID)"), "{said}");
    assert!(said.contains("gateway gw-chute-north of feedlot"), "{said}");
}

#[test]
fn check_config_names_the_bad_field_and_exits_3() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("edge.toml");
    let device = "[[devices]]\ndevice_id = \"r\"\npath = \"/dev/ttyS0\"\nrole = \"rfid\"\n";
    let cases = [
        // A value of the wrong type, in an array of tables.
        (
            format!("{device}baud_rate = \"fast\"\n"),
            "`devices[0].baud_rate`",
        ),
        // An unknown field (the config denies them).
        ("[kafka]\nbroker = \"x:9092\"\n".into(), "`kafka.broker`"),
        // A value that parses but cannot work.
        (
            format!("{device}format = \"digi_star\"\n"),
            "`devices[0].format`",
        ),
    ];
    for (body, named) in cases {
        std::fs::write(&path, &body).unwrap();
        // The file named by EDGE_CONFIG, as a service unit would.
        let out = edge(
            &["check-config"],
            &[("EDGE_CONFIG", path.to_str().unwrap())],
        );
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{body:?}: {stderr}");
        assert!(stderr.contains(named), "{named} in {stderr}");
    }
}

#[test]
fn a_bad_argument_exits_2() {
    let out = edge(&["run", "--no-such-flag"], &[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
}

#[test]
fn completions_print_a_script_for_the_binary() {
    let out = edge(&["completions", "bash"], &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let script = text(&out.stdout);
    assert!(script.contains("_edge()"), "{script}");
    assert!(script.contains("check-config"), "{script}");
}
