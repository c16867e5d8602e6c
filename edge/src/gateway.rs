//! Wiring: serial readers → capture (dedup, pairing) → outbox → forwarder.

use std::sync::Arc;

use tokio::sync::{Notify, mpsc};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::Error;
use crate::capture::{Capture, run_capture};
use crate::config::Config;
use crate::forwarder::{Forwarder, StatusReporter};
use crate::outbox::{Outbox, OutboxLimits, OutboxWriter};
use crate::readers::Tables;
use crate::readers::poll::PollConfig;
use crate::readers::serial::DeviceReader;
use crate::telemetry::Metrics;

/// Readings that may wait between the readers and the capture loop.
const READINGS_QUEUE: usize = 1024;

/// A running gateway. Dropping it does not stop it: cancel the token (or call
/// [`Gateway::shutdown`]) and await [`Gateway::wait`].
#[derive(Debug)]
pub struct Gateway {
    outbox: Arc<Outbox>,
    metrics: Metrics,
    inputs: crate::ops::Inputs,
    shutdown: CancellationToken,
    tasks: JoinSet<&'static str>,
}

impl Gateway {
    /// Validates `config`, opens the outbox (creating `data_dir`), and starts every task. Fails
    /// only on configuration, disk or Kafka client-property errors; an unreachable broker or a
    /// missing serial port is retried in the background.
    pub async fn start(config: Config, shutdown: CancellationToken) -> Result<Self, Error> {
        config.validate()?;
        std::fs::create_dir_all(&config.data_dir).map_err(|source| Error::DataDir {
            path: config.data_dir.clone(),
            source,
        })?;
        let path = config.outbox_path();
        let limits = OutboxLimits::from(&config.outbox);
        let outbox = tokio::task::spawn_blocking(move || Outbox::open_with_limits(&path, limits))
            .await
            .map_err(|e| Error::Task(e.to_string()))??;
        let outbox = Arc::new(outbox);
        let appended = Arc::new(Notify::new());
        let metrics = Metrics::new();
        let forwarder = Forwarder::new(
            &config.kafka,
            &config.gateway_id,
            outbox.clone(),
            appended.clone(),
        )?
        .with_metrics(metrics.clone());
        let tables = Tables::from_config(&config)?;

        let mut tasks = JoinSet::new();
        let inputs = crate::ops::Inputs::new();
        let registry_path = config.data_dir.join("registry.redb");
        let registry =
            tokio::task::spawn_blocking(move || crate::chute::Registry::open(&registry_path))
                .await
                .map_err(|e| Error::Task(e.to_string()))??;
        let registry = std::sync::Arc::new(registry);
        let (writer, writer_task) =
            OutboxWriter::spawn_with_metrics(outbox.clone(), appended, metrics.clone());
        let data_dir = config.data_dir.clone();
        let (key, _made) =
            tokio::task::spawn_blocking(move || crate::identity::load_or_create(&data_dir))
                .await
                .map_err(|e| Error::Task(e.to_string()))??;
        tracing::info!(
            gateway_id = %config.gateway_id,
            key_id = %key.key_id(),
            public_key = %key.public_key().to_base64(),
            "signing events with the gateway key"
        );
        let key = Arc::new(key);
        let status = StatusReporter::new(
            &config.kafka,
            &config.feedlot_id,
            &config.gateway_id,
            outbox.clone(),
            key.clone(),
        )?;
        let writer = writer.with_registry(registry.clone()).with_signer(key);
        crate::profile::send(
            config.feedlot.as_ref(),
            &config.feedlot_id,
            &config.gateway_id,
            &writer,
        )
        .await?;
        tasks.spawn(async move {
            let _ = writer_task.await;
            "outbox writer"
        });
        let (readings_tx, readings_rx) = mpsc::channel(READINGS_QUEUE);
        for device in &config.devices {
            let parser = tables
                .parser(device.role, device.format.as_deref())
                .map_err(|e| crate::config::ConfigError::invalid("devices.format", e))?;
            let input = inputs.register(format!("serial:{}", device.device_id), "serial");
            let reader = DeviceReader::new(&device.device_id, parser, readings_tx.clone())
                .with_metrics(metrics.clone())
                .with_input(input)
                .with_idle_gap(std::time::Duration::from_millis(device.idle_gap_ms))
                .with_poll(device.poll.as_ref().map(PollConfig::to_poll));
            let (path, baud_rate, stop) = (device.path.clone(), device.baud_rate, shutdown.clone());
            tasks.spawn(async move {
                reader.run_serial(&path, baud_rate, stop).await;
                "serial reader"
            });
        }
        drop(readings_tx);
        crate::mqtt::start(
            &config,
            writer.clone(),
            &inputs,
            &mut tasks,
            &shutdown,
            &metrics,
        )
        .await?;
        let ops_state = crate::ops::AppState {
            outbox: outbox.clone(),
            metrics: metrics.clone(),
            kafka_brokers: config.kafka.brokers.clone(),
            inputs: inputs.clone(),
            data_dir: config.data_dir.clone(),
        };
        let api = crate::http::app(
            crate::api::ApiState {
                feedlot_id: config.feedlot_id.clone(),
                gateway_id: config.gateway_id.clone(),
                tokens: std::sync::Arc::new(config.api.tokens.clone()),
                writer: writer.clone(),
            },
            ops_state.clone(),
            registry,
        );
        let tls = config.http.tls()?;
        // Bind now so a taken port fails the start instead of a background task.
        let bind = |addr: String| async move {
            tokio::net::TcpListener::bind(&addr)
                .await
                .map_err(|source| Error::Listen { addr, source })
        };
        let listener = bind(config.http.listen.clone()).await?;
        let ops_listener = if config.http.ops_listen.is_empty() {
            None
        } else {
            Some(bind(config.http.ops_listen.clone()).await?)
        };
        let stop = shutdown.clone();
        tasks.spawn(async move {
            if let Err(error) = crate::http::serve(listener, tls, api, stop).await {
                tracing::error!(%error, "local HTTP server stopped");
            }
            "http server"
        });
        if let Some(ops_listener) = ops_listener {
            let (stop, app) = (shutdown.clone(), crate::ops::app(ops_state));
            tasks.spawn(async move {
                if let Err(error) = crate::http::serve(ops_listener, None, app, stop).await {
                    tracing::error!(%error, "ops HTTP server (/metrics) stopped");
                }
                "ops http server"
            });
        }
        // Capture ends when every serial reader has: without any (a yard of MQTT trucks only)
        // it would end at once and stop the gateway, so it only runs when there are devices.
        if !config.devices.is_empty() {
            let capture = Capture::new(&config).with_metrics(metrics.clone());
            let stop = shutdown.clone();
            tasks.spawn(async move {
                run_capture(capture, readings_rx, writer, stop).await;
                "capture"
            });
        }
        let stop = shutdown.clone();
        let input = inputs.register("forwarder", "forwarder");
        tasks.spawn(async move {
            // Up while it runs: an unreachable Kafka is retried (see `kafka` in `/healthz`).
            input.up(None);
            forwarder.run(stop).await;
            drop(input);
            "forwarder"
        });
        if let Some(status) = status {
            let stop = shutdown.clone();
            tasks.spawn(async move {
                status.run(stop).await;
                "status reporter"
            });
        }
        tracing::info!(
            feedlot = %config.feedlot_id,
            gateway = %config.gateway_id,
            devices = config.devices.len(),
            outbox = %config.outbox_path().display(),
            brokers = %config.kafka.brokers,
            "gateway started"
        );
        Ok(Self {
            outbox,
            metrics,
            inputs,
            shutdown,
            tasks,
        })
    }

    /// The outbox, for observing it (depth, oldest entry) while the gateway runs.
    pub fn outbox(&self) -> Arc<Outbox> {
        self.outbox.clone()
    }

    /// The gateway's metrics (what `/metrics` serves).
    pub fn metrics(&self) -> Metrics {
        self.metrics.clone()
    }

    /// The inputs and their states (what `/healthz` reports under `inputs`).
    pub fn inputs(&self) -> crate::ops::Inputs {
        self.inputs.clone()
    }

    /// How many captured events wait to be acknowledged by Kafka.
    pub async fn outbox_depth(&self) -> Result<u64, Error> {
        let outbox = self.outbox.clone();
        Ok(tokio::task::spawn_blocking(move || outbox.depth())
            .await
            .map_err(|e| Error::Task(e.to_string()))??)
    }

    /// Asks every task to stop (same as cancelling the token given to [`Gateway::start`]).
    pub fn shutdown(&self) {
        self.shutdown.cancel();
    }

    /// Waits until every task has stopped: readers first, then capture commits what they read,
    /// the forwarder collects the reports of the round in flight. If a task fails, the others
    /// are stopped and the failure is returned. The outbox file is closed when this returns.
    pub async fn wait(mut self) -> Result<(), Error> {
        let mut failure = None;
        while let Some(done) = self.tasks.join_next().await {
            match done {
                Ok(task) => {
                    if !self.shutdown.is_cancelled() {
                        tracing::error!(task, "gateway task stopped unexpectedly; shutting down");
                        self.shutdown.cancel();
                        failure.get_or_insert_with(|| Error::Task(format!("{task} stopped")));
                    }
                }
                Err(error) => {
                    tracing::error!(%error, "gateway task failed; shutting down");
                    self.shutdown.cancel();
                    failure.get_or_insert(Error::Task(error.to_string()));
                }
            }
        }
        tracing::info!("gateway stopped");
        failure.map_or(Ok(()), Err)
    }
}
