//! Simulators for the devices at a feedlot chute, speaking the real devices' byte formats, so
//! the gateway can be tested, demonstrated and loaded without owning a chute.
//!
//! - [`devices`]: RFID reader and scale indicator line renderers.
//! - [`chute`]: animals walking through a chute: tag read, scale motion, stable weight, empty.
//! - [`growth`]: how an animal grows and eats over days on feed.
//! - [`herd`]: a yard simulated day by day (lots, growth, feeding, health, markets), from a seed.
//! - [`loadgen`]: many yards' events straight into Kafka.
//! - [`cable`]: a pseudo-terminal standing in for a serial cable (used by the demo).
//! - [`bench`]: the benchmark harness (ours vs a bare-library baseline, same run).
//! - [`demo`]: a demo yard driving a local gateway (and the pipeline when it is reachable).
//! - [`pipeline`]: the cloud side in one process: `ingest`'s consumer and the `dashboards`.

pub mod bench;
pub mod cable;
pub mod chute;
pub mod demo;
pub mod devices;
pub mod growth;
pub mod herd;
pub mod loadgen;
pub mod pipeline;
pub mod port;
