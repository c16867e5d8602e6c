//! The real `edge` binary's command line: `--version`, `--help`, `check-config`, the exit codes
//! and `completions`. Needs no broker and no serial port: `check-config` opens nothing.

#![allow(clippy::unwrap_used)] // In tests a failed unwrap is a failed test.

use std::path::Path;
use std::process::{Command, Output};

use testkit::cli::text;

const BIN: &str = env!("CARGO_BIN_EXE_edge");

/// Runs `edge` with `args` and only the `EDGE_*` variables in `env`.
fn edge(args: &[&str], env: &[(&str, &str)]) -> Output {
    testkit::cli::run(BIN, "EDGE_", args, env)
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

/// Runs `edge` with `args` and `input` on stdin.
fn edge_with_stdin(args: &[&str], input: &[u8]) -> Output {
    use std::io::Write;
    let mut child = Command::new(BIN)
        .args(args)
        .env_remove("EDGE_CONFIG")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn check_device_prints_what_each_scale_line_would_give() {
    let out = edge_with_stdin(
        &["check-device", "--format", "rice_lake", "-"],
        b"\x02    1234LG \r\n\x02    1230LGM\r\n\x02    12a4LG \r\n",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "\"    1234LG \" => weight 1234 lb, gross, stable\n\
         \"    1230LGM\" => weight 1230 lb, gross, motion\n\
         \"    12a4LG \" => refused (scale_field): rice_lake line has an unknown weight \"   12a4\"\n"
    );
}

#[test]
fn check_device_reads_a_file_with_the_configs_own_scale_row_and_an_rfid_reader() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("edge.toml");
    std::fs::write(
        &config,
        "[[scale.shapes]]\nname = \"csv_kg\"\npattern = '^(?P<gross_net>[GN]),(?P<motion>[SM]),(?P<weight>-?[\\d.]+)$'\n\
         unit = \"kg\"\nstable = [\"S\"]\nmotion = [\"M\"]\nsamples = [{ line = \"G,S,412.5\", kg = 412.5 }]\n",
    )
    .unwrap();
    let lines = dir.path().join("lines.txt");
    std::fs::write(&lines, "N,M,410\nG,S,412.5\n").unwrap();
    let (config, lines) = (config.to_str().unwrap(), lines.to_str().unwrap());
    let out = edge(&["check-device", "-f", "csv_kg", "-c", config, lines], &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "\"N,M,410\" => weight 410 kg, net, motion\n\"G,S,412.5\" => weight 412.5 kg, gross, stable\n"
    );
    let out = edge_with_stdin(
        &["check-device", "--format", "auto", "--role", "rfid"],
        b"LA 982 000001088420\r\nLR 0006 0000000018514243\r\n",
    );
    let said = text(&out.stdout);
    assert!(
        said.starts_with("\"LA 982 000001088420\" => tag 982000001088420\n"),
        "{said}"
    );
    assert!(said.contains("=> refused (rejected): "), "{said}");
}

#[test]
fn check_device_refuses_a_format_in_two_tables_without_a_role() {
    let out = edge_with_stdin(&["check-device", "--format", "tru_test"], b"[]\r");
    assert_eq!(out.status.code(), Some(3));
    assert!(
        text(&out.stderr).contains("--role"),
        "{}",
        text(&out.stderr)
    );
    let out = edge_with_stdin(
        &["check-device", "--format", "tru_test", "--role", "scale"],
        b"[]\r[WL410]\r",
    );
    assert_eq!(
        text(&out.stdout),
        "\"[]\" => no reading\n\"[WL410]\" => weight 410 kg, motion\n"
    );
}

#[tokio::test]
async fn check_device_reads_a_live_port_for_the_given_seconds() {
    use tokio::io::AsyncWriteExt;
    let cable = testkit::PtyPair::new().await.unwrap();
    let host = cable.host_end.to_str().unwrap().to_string();
    let run = tokio::task::spawn_blocking(move || {
        edge(
            &[
                "check-device",
                "-f",
                "sma",
                "--port",
                &host,
                "--seconds",
                "2",
            ],
            &[],
        )
    });
    tokio::time::sleep(std::time::Duration::from_millis(700)).await;
    let mut device = tokio::fs::OpenOptions::new()
        .write(true)
        .open(&cable.device_end)
        .await
        .unwrap();
    device
        .write_all(b"\n 1G      1234.0lb \r\n 2NM      560.5kg \r")
        .await
        .unwrap();
    device.flush().await.unwrap();
    let out = run.await.unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "\" 1G      1234.0lb \" => weight 1234 lb, gross, stable\n\
         \" 2NM      560.5kg \" => weight 560.5 kg, net, motion\n"
    );
}
