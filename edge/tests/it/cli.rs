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
        // An MQTT account's truck that is already another account's.
        (
            "[mqtt.users]\nT7 = \"a\"\ncab = \"b\"\n[mqtt.trucks]\ncab = [\"T7\"]\n".into(),
            "`mqtt.trucks.cab`",
        ),
        // Kafka transport security that cannot work.
        (
            "[kafka]\nsecurity_protocol = \"sasl_ssl\"\nsasl_mechanism = \"GSSAPI\"\nsasl_username = \"gw\"\nsasl_password = \"pw\"\n".into(),
            "`kafka.sasl_mechanism`",
        ),
        (
            "[kafka]\nsasl_username = \"gw\"\n".into(),
            "`kafka.sasl_username`",
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

/// `edge check-device` with `args` as a child whose stdout the test reads as it goes.
fn spawn_edge(args: &[&str]) -> tokio::process::Child {
    tokio::process::Command::new(BIN)
        .args(args)
        .env_remove("EDGE_CONFIG")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap()
}

/// The next stdout line of `child`, within 3 s.
async fn next_line(
    lines: &mut tokio::io::Lines<tokio::io::BufReader<tokio::process::ChildStdout>>,
) -> String {
    tokio::time::timeout(std::time::Duration::from_secs(3), lines.next_line())
        .await
        .expect("a line within 3 s")
        .unwrap()
        .expect("a line before the end of output")
}

#[tokio::test]
async fn check_device_on_a_live_port_prints_each_line_as_it_is_read() {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt};
    let cable = testkit::PtyPair::new().await.unwrap();
    let host = cable.host_end.to_str().unwrap().to_string();
    let mut child = spawn_edge(&[
        "check-device",
        "-f",
        "sma",
        "--port",
        &host,
        "--seconds",
        "8",
    ]);
    let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    tokio::time::sleep(std::time::Duration::from_millis(700)).await;
    let mut device = tokio::fs::OpenOptions::new()
        .write(true)
        .open(&cable.device_end)
        .await
        .unwrap();
    for (sent, printed) in [
        (
            &b"\n 1G      1234.0lb \r"[..],
            "\" 1G      1234.0lb \" => weight 1234 lb, gross, stable",
        ),
        (
            &b"\nO1G  ----------kg \r"[..],
            "\"O1G  ----------kg \" => no weight shown, gross, out of range",
        ),
        (
            &b"\n 1G      12x4.0lb \r"[..],
            "\" 1G      12x4.0lb \" => refused (scale_field): sma line has an unknown weight \"    12x4.0\"",
        ),
    ] {
        device.write_all(sent).await.unwrap();
        device.flush().await.unwrap();
        assert_eq!(next_line(&mut lines).await, printed);
        // Printed while the check still runs (8 s), not at its end.
        assert!(child.try_wait().unwrap().is_none(), "edge exited early");
    }
    let status = child.wait().await.unwrap();
    assert!(status.success());
    assert_eq!(lines.next_line().await.unwrap(), None);
}

#[tokio::test]
async fn check_device_polls_a_configured_device_and_prints_its_answers() {
    use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};
    use tokio_serial::SerialPortBuilderExt;
    let cable = testkit::PtyPair::new().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("edge.toml");
    std::fs::write(
        &config,
        format!(
            "[[devices]]\ndevice_id = \"scale-1\"\npath = {:?}\nrole = \"scale\"\n\
             format = \"tru_test\"\npoll = {{ command = \"{{RP}}\\r\", interval_ms = 100 }}\n",
            cable.host_end.to_str().unwrap()
        ),
    )
    .unwrap();
    // The indicator answers each poll: nothing shown at first, then a stable weight.
    let indicator = cable.device_end.clone();
    let answering = tokio::spawn(async move {
        let port = tokio_serial::new(indicator.to_string_lossy(), 9600)
            .open_native_async()
            .unwrap();
        let (mut read, mut write) = tokio::io::split(port);
        let (mut pending, mut chunk, mut polls) = (Vec::new(), [0u8; 64], 0);
        while polls < 3 {
            let n = read.read(&mut chunk).await.unwrap();
            pending.extend_from_slice(&chunk[..n]);
            while let Some(at) = pending.windows(5).position(|w| w == b"{RP}\r") {
                pending.drain(..at + 5);
                polls += 1;
                let answer: &[u8] = if polls == 1 {
                    b"[]\r\n"
                } else {
                    b"[WS412.5]\r\n"
                };
                write.write_all(answer).await.unwrap();
            }
        }
        polls
    });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let config = config.to_str().unwrap().to_string();
    let mut child = spawn_edge(&[
        "check-device",
        "-c",
        &config,
        "--device",
        "scale-1",
        "--seconds",
        "8",
    ]);
    let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    assert_eq!(next_line(&mut lines).await, "\"[]\" => no reading");
    assert_eq!(
        next_line(&mut lines).await,
        "\"[WS412.5]\" => weight 412.5 kg, stable"
    );
    assert!(child.try_wait().unwrap().is_none(), "edge exited early");
    let polls = tokio::time::timeout(std::time::Duration::from_secs(3), answering)
        .await
        .expect("3 polls within 3 s")
        .unwrap();
    assert_eq!(polls, 3);
    child.kill().await.unwrap();
}
