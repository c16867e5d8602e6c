//! An indicator that answers only when asked, on a socat pseudo-terminal: the gateway polls it
//! (`devices[].poll`) and its answers become weighings in the outbox; without a poll it stays
//! silent and nothing is weighed. Kafka is unreachable on purpose, so what the gateway captured
//! is exactly what its outbox holds.

#![allow(clippy::unwrap_used)] // In tests a failed unwrap is a failed test.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use edge::config::PollConfig;
use schemas::Event;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::watch;
use tokio_serial::SerialPortBuilderExt;

use crate::support::{self, Chute};

/// The Tru-Test poll command.
const POLL: &[u8] = b"{RP}\r";

/// A Tru-Test indicator on `path` that writes nothing unless polled: each `{RP}\r` it reads is
/// answered with the stable weight `shows` holds (`[WS412.5]`), or `[]` when it holds none.
/// Counts the polls in `polls`. Runs until the test ends.
fn polled_indicator(
    path: PathBuf,
    shows: watch::Receiver<Option<f64>>,
    polls: Arc<AtomicUsize>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let port = tokio_serial::new(path.to_string_lossy(), 9600)
            .open_native_async()
            .unwrap();
        let (mut read, mut write) = tokio::io::split(port);
        let mut pending = Vec::new();
        let mut chunk = [0u8; 64];
        loop {
            let n = read.read(&mut chunk).await.unwrap();
            pending.extend_from_slice(&chunk[..n]);
            while let Some(at) = pending.windows(POLL.len()).position(|w| w == POLL) {
                pending.drain(..at + POLL.len());
                polls.fetch_add(1, Ordering::SeqCst);
                let answer = match *shows.borrow() {
                    Some(kg) => format!("[WS{kg:.1}]\r\n"),
                    None => "[]\r\n".into(),
                };
                write.write_all(answer.as_bytes()).await.unwrap();
            }
        }
    })
}

/// (EID, kg) of every weighing in `gateway`'s outbox, in capture order.
fn weighings_in_outbox(gateway: &edge::Gateway) -> Vec<(String, f64)> {
    gateway
        .outbox()
        .peek(usize::MAX)
        .unwrap()
        .iter()
        .filter_map(
            |entry| match schemas::decode(&entry.record.payload).unwrap().event {
                Event::Weighing(w) => Some((w.eid.to_string(), w.weight.kg())),
                _ => None,
            },
        )
        .collect()
}

/// A chute whose scale is a polled Tru-Test indicator (polled every 100 ms when `poll`).
async fn start(
    chute: &Chute,
    data: &std::path::Path,
    poll: bool,
) -> (edge::Gateway, watch::Sender<Option<f64>>, Arc<AtomicUsize>) {
    let kafka = format!("127.0.0.1:{}", testkit::free_port().unwrap());
    let mut config = support::offline_config(chute, data, &kafka, "feedlot.events.v1");
    config.devices[1].format = Some("tru_test".into());
    config.devices[1].poll = poll.then(|| PollConfig {
        command: "{RP}\r".into(),
        interval_ms: 100,
    });
    let (shows, showing) = watch::channel(None);
    let polls = Arc::new(AtomicUsize::new(0));
    polled_indicator(chute.scale_device_end(), showing, polls.clone());
    let gateway = support::start(config).await;
    (gateway, shows, polls)
}

#[tokio::test]
async fn a_polled_indicator_answers_only_when_asked_and_its_answers_become_weighings() {
    let data = tempfile::tempdir().unwrap();
    let mut chute = Chute::new().await;
    let (gateway, shows, polls) = start(&chute, data.path(), true).await;

    let animals = [
        ("982000001088420", 412.5),
        ("840003123456789", 398.0),
        ("982000001088421", 431.5),
    ];
    for (i, (eid, kg)) in animals.iter().enumerate() {
        shows.send_replace(None);
        chute
            .rfid_line(format!("LA {} {}\r\n", &eid[..3], &eid[3..]).as_bytes())
            .await;
        shows.send_replace(Some(*kg));
        let metrics = gateway.metrics();
        let weighed = testkit::wait_until(Duration::from_secs(5), || async {
            metrics.weighings("scale-1") == i as u64 + 1
        })
        .await;
        assert!(weighed, "animal {eid} not weighed within 5 s of its tag");
    }
    let expected: Vec<_> = animals.iter().map(|(e, kg)| (e.to_string(), *kg)).collect();
    assert_eq!(weighings_in_outbox(&gateway), expected);
    // Polled every 100 ms from the start (0.5 s before the first tag), so well over 3 polls.
    assert!(polls.load(Ordering::SeqCst) >= 5, "{polls:?} polls");
    assert_eq!(gateway.metrics().device_errors("scale-1", "poll_write"), 0);
    gateway.shutdown();
    gateway.wait().await.unwrap();
}

#[tokio::test]
async fn without_a_poll_config_a_silent_indicator_gives_no_weighing() {
    let data = tempfile::tempdir().unwrap();
    let mut chute = Chute::new().await;
    let (gateway, shows, polls) = start(&chute, data.path(), false).await;

    shows.send_replace(Some(412.5));
    chute.rfid_line(b"LA 982 000001088420\r\n").await;
    // The tag read is captured (the gateway works) but nothing asks the indicator.
    support::wait_for_depth(&gateway, 1, Duration::from_secs(10)).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(weighings_in_outbox(&gateway), vec![]);
    assert_eq!(gateway.metrics().weighings("scale-1"), 0);
    assert_eq!(polls.load(Ordering::SeqCst), 0);
    gateway.shutdown();
    gateway.wait().await.unwrap();
}
