//! The real `firmware-sim` binary's command line: `--version`, `--help`, the usage exit code
//! and `completions`; and that its logs carry no colour codes when piped.
//!
//! ```text
//! cargo test -p firmware-sim --test cli
//! ```

#![allow(clippy::unwrap_used)] // In tests a failed unwrap is a failed test.

use std::process::Output;

use testkit::cli::text;

fn firmware_sim(args: &[&str]) -> Output {
    testkit::cli::run(env!("CARGO_BIN_EXE_firmware-sim"), "", args, &[])
}

#[test]
fn version_prints_the_crate_version() {
    let out = firmware_sim(&["--version"]);
    assert!(out.status.success());
    assert_eq!(
        text(&out.stdout),
        format!("firmware-sim {}\n", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn help_shows_examples_and_the_exit_codes() {
    let out = firmware_sim(&["--help"]);
    assert!(out.status.success());
    let help = text(&out.stdout);
    assert!(help.contains("Examples:"), "{help}");
    assert!(help.contains("firmware-sim demo --fast"), "{help}");
    assert!(help.contains("Exit codes:"), "{help}");
    for code in ["  0 ", "  1 ", "  2 "] {
        assert!(help.contains(code), "{code:?} in {help}");
    }
}

#[test]
fn a_bad_argument_exits_2() {
    let out = firmware_sim(&["demo", "--animals", "many"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
}

#[test]
fn completions_print_a_script_for_the_binary() {
    let out = firmware_sim(&["completions", "bash"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let script = text(&out.stdout);
    assert!(script.contains("-o default firmware-sim\n"), "{script}");
    assert!(script.contains("loadgen"), "{script}");
}

#[tokio::test]
async fn logs_piped_to_another_program_carry_no_colour_codes() {
    let reader = testkit::PtyPair::new().await.unwrap();
    let scale = testkit::PtyPair::new().await.unwrap();
    let (reader_end, scale_end) = (
        reader.device_end.display().to_string(),
        scale.device_end.display().to_string(),
    );
    let out = tokio::task::spawn_blocking(move || {
        testkit::cli::run(
            env!("CARGO_BIN_EXE_firmware-sim"),
            "",
            &[
                "chute",
                "--reader",
                &reader_end,
                "--scale",
                &scale_end,
                "--animals",
                "1",
                "--fast",
            ],
            &[("RUST_LOG", "info")],
        )
    })
    .await
    .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let logs = [out.stdout, out.stderr].concat();
    assert!(text(&logs).contains("weighed"), "{}", text(&logs));
    assert!(!logs.contains(&0x1b), "an ESC byte in {:?}", text(&logs));
}
