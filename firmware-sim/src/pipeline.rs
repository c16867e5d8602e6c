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
