//! The subscriber's link: polls the MQTT connection, hands messages to the worker, reconnects.
//!
//! This half waits only for the network, the back-off timer and the shutdown token, so
//! rumqttc's request channel (acks, replies, subscriptions sent by the worker) is always
//! drained and the worker can never wait on it forever. The hand-over channel is unbounded so
//! that the link never waits for the worker either; what can pile up in it is bounded by the
//! broker's in-flight window, since nothing is acknowledged before it is captured (QoS 1:
//! 100 messages on rumqttd, 20 on a default mosquitto; QoS 0 publishes have no such window).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use rumqttc::{Event, EventLoop, Packet, Publish};
use tokio::sync::mpsc::UnboundedSender;
use tokio_util::sync::CancellationToken;

use crate::backoff::Backoff;
use crate::ops::InputHandle;

/// First delay before reconnecting after the link died.
const RECONNECT_INITIAL: Duration = Duration::from_millis(200);
/// Longest delay between reconnect attempts.
const RECONNECT_MAX: Duration = Duration::from_secs(5);

/// Counts connections: a message is acknowledged only on the connection it came from (a
/// packet id means nothing on the next one, where the broker re-sends what was not acked).
#[derive(Debug, Clone, Default)]
pub struct Epoch(Arc<AtomicU64>);

impl Epoch {
    /// The current connection's number.
    pub fn current(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }

    fn next(&self) -> u64 {
        self.0.fetch_add(1, Ordering::SeqCst) + 1
    }
}

/// What the link hands the worker.
#[derive(Debug)]
pub enum Handed {
    /// A (re)connection: subscribe.
    Connected,
    /// A message, received on connection `epoch`.
    Message {
        /// The connection it came on.
        epoch: u64,
        /// The message.
        publish: Publish,
    },
}

/// The polling half.
pub struct Link {
    /// rumqttc's event loop.
    pub events: EventLoop,
    /// To the worker.
    pub handed: UnboundedSender<Handed>,
    /// The connection counter shared with the worker.
    pub epoch: Epoch,
    /// `host:port`, for logs and `/healthz`.
    pub address: String,
    /// The `/healthz` input of this link.
    pub input: InputHandle,
}

impl Link {
    /// Polls until `drained` (the worker finished after shutdown). After `shutdown` it keeps
    /// polling, so the worker's last acks and replies go out, but stops on the first error.
    pub async fn run(mut self, shutdown: &CancellationToken, drained: &CancellationToken) {
        let mut backoff = Backoff::new(RECONNECT_INITIAL, RECONNECT_MAX);
        loop {
            let event = tokio::select! {
                biased;
                _ = drained.cancelled() => return,
                event = self.events.poll() => event,
            };
            match event {
                Ok(Event::Incoming(Packet::ConnAck(ack))) => {
                    let epoch = self.epoch.next();
                    tracing::info!(address = %self.address, session_present = ack.session_present, epoch, "MQTT connected");
                    self.input.up(Some(self.address.clone()));
                    backoff.reset();
                    let _ = self.handed.send(Handed::Connected);
                }
                Ok(Event::Incoming(Packet::Publish(publish))) => {
                    let epoch = self.epoch.current();
                    let _ = self.handed.send(Handed::Message { epoch, publish });
                }
                Ok(_) => {}
                Err(error) => {
                    // Acks still queued for the dead connection must not reach the next one.
                    self.epoch.next();
                    self.input.down(format!("{}: {error}", self.address));
                    if shutdown.is_cancelled() {
                        return;
                    }
                    let delay = backoff.next_delay();
                    tracing::warn!(address = %self.address, %error, retry_in_ms = delay.as_millis() as u64, "MQTT link lost; reconnecting");
                    tokio::select! {
                        _ = shutdown.cancelled() => return,
                        _ = tokio::time::sleep(delay) => {}
                    }
                }
            }
        }
    }
}
