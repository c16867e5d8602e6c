//! The test services themselves work: a pty pair carries bytes, a ClickHouse database is created.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::test]
async fn bytes_written_at_the_device_end_arrive_at_the_host_end() {
    let pair = testkit::PtyPair::new().await.unwrap();
    let mut host = tokio::fs::OpenOptions::new()
        .read(true)
        .open(&pair.host_end)
        .await
        .unwrap();
    let mut device = tokio::fs::OpenOptions::new()
        .write(true)
        .open(&pair.device_end)
        .await
        .unwrap();
    device.write_all(b"LA 982 000001088420\r\n").await.unwrap();
    device.flush().await.unwrap();
    let mut buf = vec![0u8; 64];
    let mut got = Vec::new();
    while !got.ends_with(b"\r\n") {
        let n = tokio::time::timeout(Duration::from_secs(5), host.read(&mut buf))
            .await
            .unwrap()
            .unwrap();
        got.extend_from_slice(&buf[..n]);
    }
    assert_eq!(got, b"LA 982 000001088420\r\n");
}

#[tokio::test]
async fn each_test_gets_its_own_clickhouse_database() {
    let a = testkit::ClickHouseDb::create("testkit_a").await.unwrap();
    let b = testkit::ClickHouseDb::create("testkit_a").await.unwrap();
    assert_ne!(a.database, b.database);
    let n: u64 = a
        .client()
        .query("SELECT count() FROM system.databases WHERE name = ?")
        .bind(&b.database)
        .fetch_one()
        .await
        .unwrap();
    assert_eq!(n, 1);
}

#[tokio::test]
async fn a_tansu_broker_starts_takes_a_topic_and_restarts_on_its_port() {
    let mut broker = testkit::Tansu::start().await.unwrap();
    broker.create_topic("testkit.topic", 2).await.unwrap();
    let port = broker.port();
    broker.stop().await;
    assert!(
        tokio::net::TcpStream::connect(&broker.bootstrap)
            .await
            .is_err()
    );
    broker.restart().await.unwrap();
    assert_eq!(broker.port(), port);
    assert!(
        tokio::net::TcpStream::connect(&broker.bootstrap)
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn a_private_clickhouse_server_keeps_its_data_through_a_kill_and_restart() {
    let mut server = testkit::ClickHouseServer::start().await.unwrap();
    let db = server.create_db("testkit_private").await.unwrap();
    let client = db.client();
    client
        .query("CREATE TABLE t (n UInt32) ENGINE = MergeTree ORDER BY n")
        .execute()
        .await
        .unwrap();
    client
        .query("INSERT INTO t VALUES (1), (2)")
        .execute()
        .await
        .unwrap();
    server.stop().await;
    assert!(client.query("SELECT 1").execute().await.is_err());
    server.restart().await.unwrap();
    let n: u64 = client
        .query("SELECT count() FROM t")
        .fetch_one()
        .await
        .unwrap();
    assert_eq!(n, 2);
}
