//! The demo's gateway: its configuration (virtual chute cables, the truck's MQTT account, the
//! office's records API token, the yard's profile) and the truck's connection to it.

use std::time::Duration;

use edge::config::{DeviceConfig, DeviceRole};

use super::{DEMO_TRUCK, DEMO_TRUCK_PASSWORD, DemoOptions, GATEWAY_ID};
use crate::cable::VirtualCable;
use crate::devices::truck::TruckSetup;

/// The gateway's configuration for the demo: the chute on two virtual cables, the truck's
/// MQTT account, the office's records API token and the yard's profile (region `US-NE`).
pub(super) fn config(
    options: &DemoOptions,
    reader: &VirtualCable,
    scale: &VirtualCable,
    token: &str,
) -> edge::Config {
    let mut config = edge::Config {
        feedlot_id: options.feedlot_id.clone(),
        gateway_id: GATEWAY_ID.into(),
        data_dir: options.data_dir.clone(),
        devices: vec![
            DeviceConfig::new("rfid-1", &reader.port_path, DeviceRole::Rfid),
            DeviceConfig::new("scale-1", &scale.port_path, DeviceRole::Scale),
        ],
        ..edge::Config::default()
    };
    config.kafka.brokers = options.kafka_brokers.clone();
    config.mqtt.embedded = true;
    config.mqtt.listen = options.mqtt_listen.clone();
    config
        .mqtt
        .users
        .insert(DEMO_TRUCK.into(), DEMO_TRUCK_PASSWORD.into());
    config.http.listen = options.records_listen.clone();
    config.api.tokens = vec![edge::api::ApiToken {
        token: token.into(),
        user: "office".into(),
        role: edge::api::Role::Manager,
    }];
    config.feedlot = Some(edge::profile::FeedlotProfileConfig {
        name: "Demo Yard".into(),
        region: crate::loadgen::PEER_REGION.into(),
        country: "US".into(),
        latitude: super::DEMO_POSITION_DEG.0,
        longitude: super::DEMO_POSITION_DEG.1,
        capacity_head: u32::try_from(options.pens * options.head_per_lot).ok(),
    });
    config
}

/// The demo truck's MQTT setup.
pub(super) fn truck_setup(options: &DemoOptions) -> TruckSetup {
    let (host, port) = options
        .mqtt_listen
        .rsplit_once(':')
        .unwrap_or(("127.0.0.1", "1883"));
    TruckSetup {
        feedlot_id: options.feedlot_id.clone(),
        truck_id: DEMO_TRUCK.into(),
        host: host.into(),
        port: port.parse().unwrap_or(1883),
        credentials: Some((DEMO_TRUCK.into(), DEMO_TRUCK_PASSWORD.into())),
        operator: "demo-driver".into(),
        resend_after: Duration::from_secs(3),
    }
}
