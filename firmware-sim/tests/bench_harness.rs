//! The benchmark harness runs every pair against real services and reports ratios.
//! (It measures; it asserts no speed.) The mqtt pair starts its own brokers: the gateway's
//! embedded one in a `bench-broker` process, and mosquitto.

#![allow(clippy::unwrap_used)] // In tests a failed unwrap is a failed test.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bench_command_reports_a_ratio_and_memory_for_every_pair() {
    let broker = testkit::Tansu::start().await.unwrap();
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_firmware-sim"))
        .args([
            "bench",
            "--events",
            "300",
            "--kafka-brokers",
            &broker.bootstrap,
        ])
        .args(["--clickhouse-url", &testkit::ClickHouseDb::server_url()])
        .output()
        .await
        .unwrap();
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{table}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for pair in ["outbox", "forwarder", "ingest", "mqtt"] {
        let row = table
            .lines()
            .find(|l| l.starts_with(&format!("| {pair} ")))
            .unwrap_or_else(|| panic!("no {pair} row in\n{table}"));
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        let ratio: f64 = cells[4].parse().unwrap();
        assert!(ratio > 0.0, "{row}");
        let memory: Vec<f64> = cells[5]
            .split(" / ")
            .map(|mib| mib.parse().unwrap())
            .collect();
        assert!(
            memory.len() == 2 && memory.iter().all(|mib| *mib > 0.0),
            "memory of ours and the baseline reported: {row}"
        );
    }
}
