//! Client-side failover across a cluster's ClickHouse servers.
//!
//! The `clickhouse` crate talks to one URL. With a cluster, any server can take any query (the
//! `Distributed` tables route it), so the client only needs *a* live one: this connector
//! ignores the request's host and connects to the configured servers in turn, starting from
//! the next in a round robin so load spreads, and skipping for a few seconds a server that
//! refused a connection or went silent. A connection that waits longer than the read timeout
//! for a byte of the answer fails with `TimedOut`, so a frozen server (SIGSTOP, a hung disk)
//! costs one request, not a caller stuck forever; the next connection goes elsewhere.
//!
//! Requests are not retried here: a failed insert is retried by the consumer (deduplicated by
//! ClickHouse), a failed page load by the reader.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use hyper::Uri;
use hyper::rt::{Read, ReadBufCursor, Write};
use hyper_util::client::legacy::connect::{Connected, Connection, HttpConnector};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tower_service::Service;

/// How long a server that failed is tried only after the others.
const AVOID_FOR: Duration = Duration::from_secs(5);

/// How long a connection attempt to one server may take before the next is tried.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// Why a ClickHouse URL cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FailoverError {
    /// The URL is not `http://host:port`.
    #[error("`{0}` is not an http://host[:port] URL")]
    BadUrl(String),
    /// Every server refused or timed out.
    #[error("no ClickHouse server could be reached (tried {tried}); last error: {last}")]
    AllDown {
        /// The servers tried.
        tried: usize,
        /// The last server's error.
        last: String,
    },
}

/// One ClickHouse server's HTTP address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Server {
    host: String,
    port: u16,
}

impl Server {
    /// Parses `http://host[:port][/]` (port 8123 when absent).
    pub fn parse(url: &str) -> Result<Self, FailoverError> {
        let bad = || FailoverError::BadUrl(url.to_owned());
        let uri: Uri = url.parse().map_err(|_| bad())?;
        if uri.scheme_str() != Some("http") {
            return Err(bad());
        }
        let host = uri.host().filter(|h| !h.is_empty()).ok_or_else(bad)?;
        if !matches!(uri.path(), "" | "/") {
            return Err(bad());
        }
        Ok(Self {
            host: host.to_owned(),
            port: uri.port_u16().unwrap_or(8123),
        })
    }

    fn uri(&self) -> Result<Uri, hyper::http::Error> {
        Uri::builder()
            .scheme("http")
            .authority(format!("{}:{}", self.host, self.port))
            .path_and_query("/")
            .build()
    }
}

/// The servers and which of them to avoid for now.
#[derive(Debug)]
struct Servers {
    list: Vec<Server>,
    next: AtomicUsize,
    /// Per server: ms since `epoch` until which it is tried last.
    avoid_until_ms: Vec<AtomicU64>,
    epoch: Instant,
}

impl Servers {
    fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// The order to try: round robin from the next server, avoided servers last.
    fn order(&self) -> Vec<usize> {
        let n = self.list.len();
        let start = self.next.fetch_add(1, Ordering::Relaxed) % n;
        let now = self.now_ms();
        let (mut fine, avoided): (Vec<usize>, Vec<usize>) = (0..n)
            .map(|i| (start + i) % n)
            .partition(|&i| self.avoid_until_ms[i].load(Ordering::Relaxed) <= now);
        fine.extend(avoided);
        fine
    }

    fn avoid(&self, index: usize) {
        let until = self.now_ms().saturating_add(AVOID_FOR.as_millis() as u64);
        self.avoid_until_ms[index].store(until, Ordering::Relaxed);
    }
}

/// A hyper connector that picks a live server for each new connection (see the module doc).
#[derive(Debug, Clone)]
pub struct FailoverConnector {
    servers: Arc<Servers>,
    http: HttpConnector,
    read_timeout: Duration,
}

impl FailoverConnector {
    /// A connector over `servers` (at least one), failing a read that waits past
    /// `read_timeout`.
    pub fn new(servers: Vec<Server>, read_timeout: Duration) -> Result<Self, FailoverError> {
        if servers.is_empty() {
            return Err(FailoverError::BadUrl(String::new()));
        }
        let mut http = HttpConnector::new();
        http.set_keepalive(Some(Duration::from_secs(60)));
        http.set_connect_timeout(Some(CONNECT_TIMEOUT));
        http.set_nodelay(true);
        let avoid_until_ms = servers.iter().map(|_| AtomicU64::new(0)).collect();
        Ok(Self {
            servers: Arc::new(Servers {
                list: servers,
                next: AtomicUsize::new(0),
                avoid_until_ms,
                epoch: Instant::now(),
            }),
            http,
            read_timeout,
        })
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

impl Service<Uri> for FailoverConnector {
    type Response = Conn;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Conn, BoxError>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _requested: Uri) -> Self::Future {
        let servers = self.servers.clone();
        let mut http = self.http.clone();
        let read_timeout = self.read_timeout;
        Box::pin(async move {
            let order = servers.order();
            let mut last = String::new();
            for &index in &order {
                let server = &servers.list[index];
                let uri = server.uri()?;
                match http.call(uri).await {
                    Ok(io) => {
                        return Ok(Conn {
                            io,
                            read_timeout,
                            deadline: None,
                            servers: servers.clone(),
                            index,
                        });
                    }
                    Err(e) => {
                        servers.avoid(index);
                        tracing::warn!(host = %server.host, port = server.port, error = %e,
                            "ClickHouse server unreachable; trying the next");
                        last = e.to_string();
                    }
                }
            }
            Err(FailoverError::AllDown {
                tried: order.len(),
                last,
            }
            .into())
        })
    }
}

/// A connection to one server that fails a read waiting longer than the read timeout.
#[derive(Debug)]
pub struct Conn {
    io: TokioIo<TcpStream>,
    read_timeout: Duration,
    deadline: Option<Pin<Box<tokio::time::Sleep>>>,
    servers: Arc<Servers>,
    index: usize,
}

impl Read for Conn {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        match Pin::new(&mut this.io).poll_read(cx, buf) {
            Poll::Ready(result) => {
                this.deadline = None;
                Poll::Ready(result)
            }
            Poll::Pending => {
                let timeout = this.read_timeout;
                let deadline = this
                    .deadline
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
                if deadline.as_mut().poll(cx).is_pending() {
                    return Poll::Pending;
                }
                this.deadline = None;
                this.servers.avoid(this.index);
                Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("no answer from ClickHouse in {} ms", timeout.as_millis()),
                )))
            }
        }
    }
}

impl Write for Conn {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write_vectored(cx, bufs)
    }
}

impl Connection for Conn {
    fn connected(&self) -> Connected {
        self.io.connected()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse_to_servers_and_bad_ones_are_named() {
        assert_eq!(
            Server::parse("http://ch-1:8124").unwrap(),
            Server {
                host: "ch-1".into(),
                port: 8124
            }
        );
        assert_eq!(Server::parse("http://ch/").unwrap().port, 8123);
        for bad in ["ch:8123", "https://ch:8443", "http://ch:8123/db", ""] {
            assert!(Server::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn connections_go_round_robin_and_an_avoided_server_comes_last() {
        let servers: Vec<Server> = ["http://a:1", "http://b:1", "http://c:1"]
            .iter()
            .map(|u| Server::parse(u).unwrap())
            .collect();
        let connector = FailoverConnector::new(servers, Duration::from_secs(1)).unwrap();
        let s = &connector.servers;
        assert_eq!(s.order(), vec![0, 1, 2]);
        assert_eq!(s.order(), vec![1, 2, 0]);
        s.avoid(0);
        assert_eq!(s.order(), vec![2, 1, 0]);
        assert_eq!(s.order(), vec![1, 2, 0]);
    }

    #[tokio::test]
    async fn a_refused_server_is_skipped_for_a_listening_one() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let live = listener.local_addr().unwrap().port();
        let dead = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let servers = vec![
            Server::parse(&format!("http://127.0.0.1:{dead}")).unwrap(),
            Server::parse(&format!("http://127.0.0.1:{live}")).unwrap(),
        ];
        let mut connector = FailoverConnector::new(servers, Duration::from_secs(1)).unwrap();
        let conn = connector
            .call(Uri::from_static("http://ignored:1/"))
            .await
            .unwrap();
        assert_eq!(conn.index, 1);
        assert_eq!(
            connector.servers.order()[1],
            0,
            "the refused server comes last"
        );
    }
}
