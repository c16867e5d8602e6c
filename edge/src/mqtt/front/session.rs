//! One device connection through the front: CONNECT binding, then packet by packet to the
//! broker and back.
//!
//! Both directions are framed by rumqttc's MQTT 3.1.1 codec with the packet limit, so a
//! connection holds at most one packet (plus a read chunk) per direction: a larger packet is
//! refused from its fixed header, before its body is read.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use rumqttc::mqttbytes::Error as MqttError;
use rumqttc::{Codec, ConnAck, Login, Packet, SubAck, Subscribe, SubscribeReasonCode};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_util::codec::{FramedRead, FramedWrite};
use tokio_util::sync::CancellationToken;

use super::Shared;
use super::acl::{Device, Refusal};

/// How long a new connection may take to send its CONNECT.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Partly refused SUBSCRIBEs waiting for the broker's SUBACK, per connection, at most.
const MAX_PENDING_SUBSCRIBES: usize = 16;

/// Initial read buffer per direction (it grows to one packet at most).
const READ_BUFFER: usize = 4 * 1024;

/// Serves one device connection until it or the broker closes it, a refusal closes it, or
/// `shutdown`.
pub async fn serve<S>(stream: S, peer: SocketAddr, shared: &Shared, shutdown: &CancellationToken)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let codec = Codec {
        max_incoming_size: shared.max_packet_bytes,
        max_outgoing_size: shared.max_packet_bytes,
    };
    let (read, write) = tokio::io::split(stream);
    let mut device_in = FramedRead::with_capacity(read, codec.clone(), READ_BUFFER);
    let mut device_out = FramedWrite::new(write, codec.clone());

    let first = tokio::time::timeout(CONNECT_TIMEOUT, device_in.next()).await;
    let mut connect = match first {
        Err(_) => return shared.refused("unknown", Refusal::ConnectTimeout, peer, None),
        Ok(None) => return,
        Ok(Some(Err(error))) => {
            return shared.refused("unknown", refusal_of(&error), peer, None);
        }
        Ok(Some(Ok(Packet::Connect(connect)))) => connect,
        Ok(Some(Ok(_))) => return shared.refused("unknown", Refusal::Malformed, peer, None),
    };
    let device = match shared.accounts.bind(&connect) {
        Ok(device) => device,
        Err(refusal) => {
            let claimed = connect
                .login
                .as_ref()
                .map(|l| l.username.as_str())
                .filter(|user| shared.accounts.has_account(user))
                .unwrap_or(if connect.login.is_some() {
                    "unknown"
                } else {
                    "anonymous"
                });
            let _ = device_out
                .send(Packet::ConnAck(ConnAck::new(refusal.connack_code(), false)))
                .await;
            return shared.refused(claimed, refusal, peer, Some(&connect.client_id));
        }
    };
    let client_id = connect.client_id.clone();
    connect.login = Some(Login::new(&shared.login.user, &shared.login.password));
    let upstream = match tokio::net::TcpStream::connect(shared.upstream).await {
        Ok(upstream) => upstream,
        Err(error) => {
            tracing::error!(%error, upstream = %shared.upstream, "MQTT front cannot reach the embedded broker");
            let code = rumqttc::ConnectReturnCode::ServiceUnavailable;
            let _ = device_out
                .send(Packet::ConnAck(ConnAck::new(code, false)))
                .await;
            return;
        }
    };
    let (read, write) = upstream.into_split();
    let mut broker_in = FramedRead::with_capacity(read, codec.clone(), READ_BUFFER);
    let mut broker_out = FramedWrite::new(write, codec);
    if broker_out.send(Packet::Connect(connect)).await.is_err() {
        return;
    }
    tracing::debug!(%peer, account = device.label(), client_id, "MQTT device connected through the front");
    let mut pending: HashMap<u16, Vec<bool>> = HashMap::new();
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            packet = device_in.next() => {
                let packet = match packet {
                    None => return,
                    Some(Err(error)) => {
                        return shared.refused(device.label(), refusal_of(&error), peer, Some(&client_id));
                    }
                    Some(Ok(packet)) => packet,
                };
                match from_device(packet, &device, &mut pending) {
                    Step::Forward(packet) => {
                        if broker_out.send(packet).await.is_err() {
                            return;
                        }
                    }
                    Step::Answer(packet, refusal) => {
                        if let Some(refusal) = refusal {
                            shared.counted(device.label(), refusal, peer, &client_id);
                        }
                        if device_out.send(packet).await.is_err() {
                            return;
                        }
                    }
                    Step::ForwardAndCount(packet, refusal) => {
                        shared.counted(device.label(), refusal, peer, &client_id);
                        if broker_out.send(packet).await.is_err() {
                            return;
                        }
                    }
                    Step::Close(refusal) => {
                        return shared.refused(device.label(), refusal, peer, Some(&client_id));
                    }
                    Step::Disconnect => {
                        let _ = broker_out.send(Packet::Disconnect).await;
                        return;
                    }
                }
            }
            packet = broker_in.next() => {
                let packet = match packet {
                    None | Some(Err(_)) => return,
                    Some(Ok(Packet::SubAck(ack))) => Packet::SubAck(spliced(ack, &mut pending)),
                    Some(Ok(packet)) => packet,
                };
                if device_out.send(packet).await.is_err() {
                    return;
                }
            }
        }
    }
}

/// What to do with a device's packet.
#[derive(Debug)]
enum Step {
    /// Pass it to the broker.
    Forward(Packet),
    /// Pass this (a reduced SUBSCRIBE) to the broker, and count the refusal.
    ForwardAndCount(Packet, Refusal),
    /// Answer the device directly (a SUBACK refusing every filter).
    Answer(Packet, Option<Refusal>),
    /// Close the connection for this reason.
    Close(Refusal),
    /// The device said goodbye.
    Disconnect,
}

fn from_device(packet: Packet, device: &Device, pending: &mut HashMap<u16, Vec<bool>>) -> Step {
    match packet {
        Packet::Publish(publish) if !device.may_publish(&publish.topic) => {
            Step::Close(Refusal::ForbiddenPublish)
        }
        Packet::Subscribe(subscribe) => {
            let allowed: Vec<bool> = subscribe
                .filters
                .iter()
                .map(|f| device.may_subscribe(&f.path))
                .collect();
            if allowed.iter().all(|a| *a) {
                return Step::Forward(Packet::Subscribe(subscribe));
            }
            if !allowed.iter().any(|a| *a) {
                let codes = vec![SubscribeReasonCode::Failure; allowed.len()];
                return Step::Answer(
                    Packet::SubAck(SubAck::new(subscribe.pkid, codes)),
                    Some(Refusal::ForbiddenSubscribe),
                );
            }
            if pending.len() >= MAX_PENDING_SUBSCRIBES {
                return Step::Close(Refusal::Malformed);
            }
            let filters = subscribe
                .filters
                .into_iter()
                .zip(&allowed)
                .filter(|(_, ok)| **ok)
                .map(|(f, _)| f)
                .collect();
            pending.insert(subscribe.pkid, allowed);
            Step::ForwardAndCount(
                Packet::Subscribe(Subscribe {
                    pkid: subscribe.pkid,
                    filters,
                }),
                Refusal::ForbiddenSubscribe,
            )
        }
        // Only a broker sends these; a second CONNECT is a protocol violation.
        Packet::Connect(_)
        | Packet::ConnAck(_)
        | Packet::SubAck(_)
        | Packet::UnsubAck(_)
        | Packet::PingResp => Step::Close(Refusal::Malformed),
        Packet::Disconnect => Step::Disconnect,
        other => Step::Forward(other),
    }
}

/// The broker's SUBACK for a partly refused SUBSCRIBE, with 0x80 put back where the front
/// took filters out.
fn spliced(ack: SubAck, pending: &mut HashMap<u16, Vec<bool>>) -> SubAck {
    let Some(allowed) = pending.remove(&ack.pkid) else {
        return ack;
    };
    let mut from_broker = ack.return_codes.into_iter();
    let codes = allowed
        .into_iter()
        .map(|ok| {
            if ok {
                from_broker.next().unwrap_or(SubscribeReasonCode::Failure)
            } else {
                SubscribeReasonCode::Failure
            }
        })
        .collect();
    SubAck::new(ack.pkid, codes)
}

fn refusal_of(error: &MqttError) -> Refusal {
    match error {
        MqttError::PayloadSizeLimitExceeded(_) => Refusal::PacketTooLarge,
        _ => Refusal::Malformed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rumqttc::QoS;

    #[test]
    fn a_partly_refused_subscription_gets_failure_where_the_filter_was_taken_out() {
        let mut pending = HashMap::from([(3, vec![false, true, false])]);
        let ack = SubAck::new(3, vec![SubscribeReasonCode::Success(QoS::AtLeastOnce)]);
        assert_eq!(
            spliced(ack, &mut pending).return_codes,
            vec![
                SubscribeReasonCode::Failure,
                SubscribeReasonCode::Success(QoS::AtLeastOnce),
                SubscribeReasonCode::Failure
            ]
        );
        assert!(pending.is_empty());
    }
}
