//! Integration tests against real services: socat pseudo-terminals stand in for the chute's
//! serial cables and a tansu broker per test stands in for Kafka (see `testkit`).

mod process;
mod support;
mod trucks;

mod broker_logs;
mod chute_page;
mod chute_to_kafka;
mod cli;
mod corrections;
mod crash;
mod dead_letters;
mod forms_browser;
mod health;
mod http_listeners;
mod imports;
mod mqtt;
mod mqtt_acl;
mod mqtt_soak;
mod office;
mod offline;
mod records_api;
mod records_idempotency;
mod records_placements;
mod route_matrix;
mod serial_combined;
mod serial_lines;
mod serial_poll;
mod shipment_plans;
mod shutdown;
mod status_report;
mod yard_profile;
