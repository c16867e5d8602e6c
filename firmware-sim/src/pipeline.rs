//! The cloud side in one process, for the demo, the bench cases and the tests: `ingest`'s
//! consumer ([`ingest::run_consumer`]) and the pages ([`dashboards::serve`]) side by side. In
//! production they are two processes (`ingest consume`, `dashboards serve`).

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// Starts both roles until `shutdown` is cancelled; the task ends when both have stopped and
/// fails with the first role's error. A role that stops with an error cancels `shutdown`, so
/// the other stops too.
pub fn spawn(
    consumer: ingest::Config,
    pages: dashboards::Config,
    shutdown: CancellationToken,
) -> JoinHandle<anyhow::Result<()>> {
    let (stop_consumer, stop_pages) = (shutdown.clone(), shutdown.clone());
    let consumer = tokio::spawn(async move {
        let result = ingest::run_consumer(consumer, stop_consumer.clone()).await;
        if result.is_err() {
            stop_consumer.cancel();
        }
        result
    });
    let pages = tokio::spawn(async move {
        let result = dashboards::serve(pages, stop_pages.clone()).await;
        if result.is_err() {
            stop_pages.cancel();
        }
        result
    });
    tokio::spawn(async move {
        let consumed = consumer.await?;
        let served = pages.await?;
        consumed?;
        served?;
        Ok(())
    })
}

/// Makes (or reads) the key of the gateway whose data directory is `data_dir` and enrols it
/// for `feedlots` as gateway `gateway_id`, as an operator does with `edge keygen` and
/// `ingest gateways enroll`: the consumer stores only events signed by an enrolled key.
/// Applies the migrations first (the registry is a table).
pub async fn enroll_gateway(
    clickhouse: &ingest::config::ClickHouseConfig,
    data_dir: &std::path::Path,
    gateway_id: &str,
    feedlots: &[String],
) -> anyhow::Result<()> {
    use anyhow::Context;
    let (key, _) = edge::identity::load_or_create(data_dir).context("the gateway's key")?;
    let ddl = ingest::sink::ddl_client(clickhouse);
    ingest::schema::migrate_on(&ddl, &clickhouse.database, clickhouse.cluster())
        .await
        .context("applying the ClickHouse migrations")?;
    ingest::gateways::enroll(
        &ingest::sink::client(clickhouse),
        &clickhouse.database,
        gateway_id,
        feedlots,
        &key.public_key().to_base64(),
        "firmware-sim",
    )
    .await
    .context("enrolling the gateway's key")?;
    Ok(())
}
