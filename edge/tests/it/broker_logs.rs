//! The real `edge` binary with the embedded broker: a truck dropping its connection (out of
//! Wi-Fi range) is routine and must not be logged as an ERROR by default, while `RUST_LOG`
//! still lets an operator see rumqttd's own account of it.

#![allow(clippy::unwrap_used)] // In tests a failed unwrap is a failed test.

use std::process::Stdio;
use std::time::Duration;

use rumqttc::{AsyncClient, Event, MqttOptions, Packet};
use tokio::io::AsyncReadExt;
use tokio::process::Command;

/// Runs the gateway (embedded broker, anonymous devices allowed) with `rust_log` (none: the
/// binary's default filter), lets two trucks connect and vanish without a DISCONNECT, stops
/// the gateway and returns everything it logged.
async fn gateway_log_around_dropped_connections(rust_log: Option<&str>) -> String {
    let dir = tempfile::tempdir().unwrap();
    let mqtt_port = testkit::free_port().unwrap();
    let config = dir.path().join("edge.toml");
    std::fs::write(
        &config,
        format!(
            r#"feedlot_id = "yard-logs"
data_dir = "{data}"

[kafka]
brokers = "127.0.0.1:{kafka_port}"

[http]
listen = "127.0.0.1:0"

[mqtt]
embedded = true
listen = "127.0.0.1:{mqtt_port}"
allow_anonymous = true
"#,
            data = dir.path().join("data").display(),
            kafka_port = testkit::free_port().unwrap(),
        ),
    )
    .unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_edge"));
    command
        .args(["run", "--config"])
        .arg(&config)
        .env("NO_COLOR", "1")
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    if let Some(filter) = rust_log {
        command.env("RUST_LOG", filter);
    }
    let mut gateway = command.spawn().unwrap();

    for truck in ["T1", "T2"] {
        let options = MqttOptions::new(format!("truck-{truck}"), "127.0.0.1", mqtt_port);
        let (_client, mut events) = AsyncClient::new(options, 8);
        let connected = tokio::time::timeout(Duration::from_secs(15), async {
            loop {
                match events.poll().await {
                    Ok(Event::Incoming(Packet::ConnAck(_))) => return,
                    Ok(_) => {}
                    Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
                }
            }
        })
        .await;
        assert!(connected.is_ok(), "truck {truck} could not connect");
        // Dropping the event loop closes the socket without a DISCONNECT packet.
    }
    tokio::time::sleep(Duration::from_millis(500)).await;

    let pid = gateway.id().unwrap().to_string();
    let term = Command::new("kill").args(["-TERM", &pid]).status().await;
    assert!(term.unwrap().success());
    let (mut stdout, mut stderr) = (String::new(), String::new());
    let mut out = gateway.stdout.take().unwrap();
    let mut err = gateway.stderr.take().unwrap();
    let (read_out, read_err, status) = tokio::join!(
        out.read_to_string(&mut stdout),
        err.read_to_string(&mut stderr),
        tokio::time::timeout(Duration::from_secs(20), gateway.wait()),
    );
    read_out.unwrap();
    read_err.unwrap();
    assert!(status.unwrap().unwrap().success(), "{stdout}\n{stderr}");
    stdout + &stderr
}

fn rumqttd_errors(log: &str) -> Vec<&str> {
    log.lines()
        .filter(|l| l.contains(" ERROR ") && l.contains("rumqttd"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trucks_dropping_their_connection_are_not_logged_as_errors_by_default() {
    // rumqttd itself calls it an error: the scenario really produces the noise...
    let verbose = gateway_log_around_dropped_connections(Some("info")).await;
    assert!(
        !rumqttd_errors(&verbose).is_empty(),
        "rumqttd logs dropped connections at ERROR under RUST_LOG=info:\n{verbose}"
    );
    // ...and the binary's default filter keeps it out of the operator's log.
    let default = gateway_log_around_dropped_connections(None).await;
    assert_eq!(rumqttd_errors(&default), Vec::<&str>::new(), "{default}");
    assert!(
        default.contains("embedded MQTT broker started"),
        "the gateway's own info lines still show: {default}"
    );
}
