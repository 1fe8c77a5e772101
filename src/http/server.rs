//! The accept loop: serves the poem endpoint over hyper-util, with connection hygiene that
//! `poem::Server` does not offer.
//!
//! # Why not `poem::Server`
//!
//! poem's server leaves Nagle's algorithm on (so a response written in two parts waits for the
//! client's delayed ACK, about 40 ms on Linux), never gives hyper a timer (so hyper's HTTP/1
//! header-read timeout is off), and has no body or handshake timeouts: a client that connects
//! and sends nothing keeps its socket forever. This module does what `poem::Server` does (one
//! task per connection, hyper-util's `auto` builder with upgrades, HTTP/1 and HTTP/2 cleartext
//! with prior knowledge, graceful shutdown) and adds:
//!
//! - **`TCP_NODELAY`** on every accepted socket.
//! - **A first-request deadline** (`header_read_timeout`): from the moment it connects, a client
//!   has that long to deliver a complete first request head. This covers what hyper cannot: the
//!   `auto` builder first reads bytes to tell HTTP/1 from HTTP/2, with no timer, so a client that
//!   sends nothing at all, or a partial HTTP/2 preface, is never timed out by hyper.
//! - **hyper's HTTP/1 header-read timer** (`header_read_timeout` again) for every later request on
//!   a keep-alive connection. In hyper 1.x this timer is armed as soon as hyper waits for the next
//!   request head (`proto/h1/conn.rs`, `poll_read_head`; hyper sets `notify_read` when a request
//!   ends exactly so that it starts at once), so it also runs while an HTTP/1 keep-alive connection
//!   is idle between requests. In effect, **an idle HTTP/1 connection is closed after
//!   `min(header_read_timeout, idle_timeout)`**, 10 s with the defaults; `idle_timeout` governs
//!   HTTP/2, and HTTP/1 only when it is the shorter of the two.
//! - **An idle timeout** (`idle_timeout`): a connection on which no request is being handled (the
//!   service future; counted per connection) and no byte has been read or written for that long
//!   is shut down gracefully (HTTP/2: GOAWAY). This closes idle keep-alive connections of both
//!   protocols, and also a client that stopped reading a response (the write makes no progress).
//!   Activity is one relaxed atomic store of a millisecond timestamp per read or write: the
//!   per-connection watchdog sleeps until the earliest deadline and re-reads it, so there is no
//!   wake-up per read. Consequence for future endpoints: a streamed response (SSE, long poll)
//!   must send something more often than `idle_timeout`.
//! - **A WebSocket handshake deadline** (`websocket_handshake_timeout`): after a
//!   `101 Switching Protocols` answer, hyper hands the socket over only once the request is over;
//!   if that does not happen in time, the connection is dropped. `http::ws` bounds its own wait
//!   for the socket with the same limit.
//! - **A cap on open connections** (`max_connections`). A connection counts from accept until
//!   its socket closes, including after it became a WebSocket (the count rides inside the socket
//!   wrapper, which the WebSocket session ends up owning). At the cap, a new connection is still
//!   accepted, its request head read, and answered with a minimal `HTTP/1.1 503`, the JSON body
//!   `{"code":"too_many_connections",…}` and `Connection: close`, then closed, all within
//!   [`BUSY_ANSWER_TIME`], so clients get an answer instead of hanging in the listen backlog. A warning is logged once when
//!   the cap is reached, and an info line once open connections are back to 90 % of the cap.
//!
//! The request-body deadline (`body_read_timeout`, answered with 408) lives in
//! `http::middleware::limit_body`, where the body is read.
//!
//! # Shutdown
//!
//! When the signal future completes the listener is dropped (no new connections) and every
//! connection starts hyper's graceful shutdown: HTTP/1 closes after the response in flight,
//! HTTP/2 sends GOAWAY and finishes its open streams. After `shutdown_timeout` whatever is left is
//! dropped. A connection that has nothing in flight and shows no I/O for [`CLOSE_GRACE`] after a
//! graceful shutdown began (an HTTP/2 client that never acknowledges the GOAWAY ping) is dropped
//! too. Upgraded WebSocket sessions are not connections of this loop any more: `AppState::ws_tasks`
//! tracks them.
//!
//! # TLS
//!
//! [`run`] serves several [`Listener`]s (plain HTTP and HTTPS) through the same limits: one
//! connection cap for all of them, the same timeouts. On an HTTPS listener the TLS handshake
//! (tokio-rustls, certificate from `crate::tls`) is a step between accepting (TCP accept,
//! `TCP_NODELAY`, the cap) and serving: it wraps the tracked socket, is bounded by
//! `header_read_timeout` (it is part of the time to a first request: the first-request deadline
//! counts from the TCP accept) and by shutdown, and the requests it carries get `Scheme::HTTPS`
//! (`poem::Request::scheme`), which is how the rest of the server knows a request came over
//! TLS: never from a client-set header. Over the cap, an HTTPS connection gets its 503 after a
//! handshake, within the same [`BUSY_ANSWER_TIME`].

use std::{
    convert::Infallible,
    future::Future,
    io,
    net::SocketAddr,
    pin::Pin,
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering},
    },
    task::{Context, Poll},
    time::Duration,
};

use bytes::Bytes;
use hyper::{body::Incoming, service::service_fn};
use hyper_util::{
    rt::{TokioExecutor, TokioIo, TokioTimer},
    server::conn::auto,
};
use poem::{
    Endpoint, EndpointExt, IntoEndpoint, Response,
    endpoint::BoxEndpoint,
    http::{StatusCode, uri::Scheme},
    web::{LocalAddr, RemoteAddr},
};
use tokio::{
    io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf},
    net::{TcpListener, TcpStream},
    sync::Notify,
    time::Instant,
};
use tokio_rustls::TlsAcceptor;
use tokio_util::{sync::CancellationToken, task::TaskTracker};

use crate::config::HttpConfig;

/// How long the 503 answer to a connection over the cap may take in all: reading the request
/// head (at most half of it), writing the answer, then reading what the client still sends until
/// it closes (closing with unread data would reset the connection and could destroy the answer
/// before the client reads it). 1 second.
pub const BUSY_ANSWER_TIME: Duration = Duration::from_secs(1);

/// Most connections over the cap being answered with 503 at the same time: 64. Beyond that (a
/// flood), a new connection is closed without an answer instead of holding yet another socket.
pub const MAX_BUSY_ANSWERS: usize = 64;

/// After a graceful shutdown of a connection began (idle, no first request, server shutdown), how
/// long it may go with nothing in flight and no I/O before it is dropped: 1 second. A well-behaved
/// HTTP/2 client answers the GOAWAY ping well within it.
pub const CLOSE_GRACE: Duration = Duration::from_secs(1);

/// Pause after an accept error that is not about one connection (for example `EMFILE`, out of
/// file descriptors): 100 milliseconds, so the loop does not spin while the condition lasts.
pub const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(100);

/// The limits [`run`] enforces, from `[http]` (`None` = off).
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Most open connections (`max_connections`). Default 10000.
    pub max_connections: Option<usize>,
    /// Time to deliver a complete request head (`header_read_timeout_secs`). Default 10 s.
    pub header_read_timeout: Option<Duration>,
    /// Time without a request being handled and without I/O before a connection is closed
    /// (`idle_timeout_secs`). Default 60 s.
    pub idle_timeout: Option<Duration>,
    /// Time from a `101` answer until the socket is handed over
    /// (`websocket_handshake_timeout_secs`). Default 10 s.
    pub websocket_handshake_timeout: Option<Duration>,
}

impl From<&HttpConfig> for Limits {
    fn from(http: &HttpConfig) -> Self {
        Self {
            max_connections: http.connection_cap(),
            header_read_timeout: http.header_read_timeout(),
            idle_timeout: http.idle_timeout(),
            websocket_handshake_timeout: http.websocket_handshake_timeout(),
        }
    }
}

/// A listening socket and, for HTTPS, the TLS handshake its connections go through.
pub struct Listener {
    /// The bound socket.
    pub tcp: TcpListener,
    /// `Some`: every accepted connection does this TLS handshake first (bounded by
    /// `header_read_timeout`), and its requests have the scheme `https`.
    pub tls: Option<TlsAcceptor>,
}

impl From<TcpListener> for Listener {
    fn from(tcp: TcpListener) -> Self {
        Self { tcp, tls: None }
    }
}

/// What the accept loops of one [`run`] share: one cap and one set of connection tasks for
/// all listeners.
#[derive(Clone)]
struct Accepting {
    server: Arc<Shared>,
    gate: Arc<Gate>,
    busy: Arc<AtomicUsize>,
    tasks: TaskTracker,
    stop: CancellationToken,
}

/// Serves `endpoint` on every listener (plain HTTP and HTTPS) until `signal` completes, then
/// shuts down gracefully: stops accepting, lets every connection finish what is in flight, and
/// drops what is left after `shutdown_timeout` (today 10 s). Returns once every connection is
/// closed. The limits are shared: `max_connections` caps the HTTP and HTTPS connections
/// together, since they hold the same resources (sockets, memory). Errors: a listener without a
/// local address (accept errors are logged and retried).
pub async fn run<E>(
    listeners: Vec<Listener>,
    endpoint: E,
    limits: Limits,
    signal: impl Future<Output = ()>,
    shutdown_timeout: Duration,
) -> io::Result<()>
where
    E: IntoEndpoint,
    E::Endpoint: 'static,
{
    let server = Arc::new(Shared::new(endpoint, limits));
    let ctx = Accepting {
        server: server.clone(),
        gate: Arc::new(Gate::new(limits.max_connections)),
        busy: Arc::new(AtomicUsize::new(0)),
        tasks: TaskTracker::new(),
        stop: CancellationToken::new(),
    };
    let mut loops = tokio::task::JoinSet::new();
    for listener in listeners {
        let local_addr = listener.tcp.local_addr()?;
        loops.spawn(accept_loop(listener, local_addr, ctx.clone()));
    }
    signal.await;
    ctx.stop.cancel();
    while loops.join_next().await.is_some() {}
    let tasks = ctx.tasks;
    server.shutdown.cancel();
    tasks.close();
    if tokio::time::timeout(shutdown_timeout, tasks.wait())
        .await
        .is_err()
    {
        tracing::warn!(
            connections = tasks.len(),
            "HTTP connections still busy after the shutdown timeout; closing them"
        );
        server.force_close.cancel();
        tasks.wait().await;
    }
    Ok(())
}

/// Accepts connections on one listener until `ctx.stop`, then drops the listener.
async fn accept_loop(listener: Listener, local_addr: SocketAddr, ctx: Accepting) {
    let Listener { tcp, tls } = listener;
    let mut accept_failing = false;
    loop {
        let accepted = tokio::select! {
            biased;
            () = ctx.stop.cancelled() => break,
            accepted = tcp.accept() => accepted,
        };
        let (stream, remote_addr) = match accepted {
            Ok(accepted) => accepted,
            Err(err) if is_connection_error(&err) => continue,
            Err(err) => {
                if !accept_failing {
                    tracing::warn!(error = %err, listen = %local_addr, "cannot accept connections; retrying");
                }
                accept_failing = true;
                tokio::select! {
                    () = ctx.stop.cancelled() => break,
                    () = tokio::time::sleep(ACCEPT_ERROR_PAUSE) => continue,
                }
            }
        };
        if accept_failing {
            tracing::info!(listen = %local_addr, "accepting connections again");
            accept_failing = false;
        }
        if let Err(err) = stream.set_nodelay(true) {
            tracing::debug!(error = %err, "cannot set TCP_NODELAY");
        }
        match ctx.gate.enter() {
            Some(slot) => {
                let io = TrackedIo::new(stream, slot);
                let activity = io.activity.clone();
                let server = ctx.server.clone();
                match &tls {
                    None => {
                        ctx.tasks.spawn(serve_connection(
                            server,
                            io,
                            activity,
                            local_addr,
                            remote_addr,
                            Scheme::HTTP,
                        ));
                    }
                    Some(acceptor) => {
                        let acceptor = acceptor.clone();
                        ctx.tasks.spawn(async move {
                            let Some(io) = handshake(&server, &acceptor, io, remote_addr).await
                            else {
                                return;
                            };
                            serve_connection(
                                server,
                                io,
                                activity,
                                local_addr,
                                remote_addr,
                                Scheme::HTTPS,
                            )
                            .await;
                        });
                    }
                }
            }
            None => {
                ctx.gate.refused();
                if ctx.busy.fetch_add(1, Ordering::AcqRel) < MAX_BUSY_ANSWERS {
                    let busy = ctx.busy.clone();
                    let answer = ctx.server.busy_answer.clone();
                    let tls = tls.clone();
                    ctx.tasks.spawn(async move {
                        answer_busy(stream, tls, &answer).await;
                        busy.fetch_sub(1, Ordering::AcqRel);
                    });
                } else {
                    ctx.busy.fetch_sub(1, Ordering::AcqRel);
                    drop(stream);
                }
            }
        }
    }
}

/// The TLS handshake of an accepted connection, bounded by `header_read_timeout` (the time a
/// client has for its first request head, which the handshake is part of) and by server
/// shutdown. `None`: it failed or took too long; the connection is dropped.
async fn handshake<T>(
    server: &Shared,
    acceptor: &TlsAcceptor,
    io: T,
    remote_addr: SocketAddr,
) -> Option<tokio_rustls::server::TlsStream<T>>
where
    T: AsyncRead + AsyncWrite + Unpin,
{
    let accept = acceptor.accept(io);
    let outcome = tokio::select! {
        () = server.shutdown.cancelled() => return None,
        outcome = timeout_opt(server.limits.header_read_timeout, accept) => outcome,
    };
    match outcome {
        Some(Ok(stream)) => Some(stream),
        Some(Err(err)) => {
            tracing::debug!(error = %err, remote = %remote_addr, "TLS handshake failed");
            None
        }
        None => {
            tracing::debug!(remote = %remote_addr, "TLS handshake not completed in time; closing");
            None
        }
    }
}

/// `fut` within `limit` (`None` = no limit); `None` when the time ran out.
async fn timeout_opt<F: Future>(limit: Option<Duration>, fut: F) -> Option<F::Output> {
    match limit {
        Some(limit) => tokio::time::timeout(limit, fut).await.ok(),
        None => Some(fut.await),
    }
}

/// Accept errors that concern one connection only: retry at once.
fn is_connection_error(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::Interrupted
    )
}

/// What every connection task shares.
struct Shared {
    endpoint: BoxEndpoint<'static, Response>,
    builder: auto::Builder<TokioExecutor>,
    limits: Limits,
    busy_answer: Arc<[u8]>,
    /// Server shutdown began: finish gracefully.
    shutdown: CancellationToken,
    /// The shutdown timeout passed: drop the connection.
    force_close: CancellationToken,
}

impl Shared {
    fn new<E>(endpoint: E, limits: Limits) -> Self
    where
        E: IntoEndpoint,
        E::Endpoint: 'static,
    {
        let mut builder = auto::Builder::new(TokioExecutor::new());
        builder
            .http1()
            .timer(TokioTimer::new())
            .header_read_timeout(limits.header_read_timeout);
        // The HTTP/2 settings poem::Server used.
        builder
            .http2()
            .max_pending_accept_reset_streams(Some(20))
            .max_header_list_size(16 * 1024);
        Self {
            endpoint: endpoint.into_endpoint().map_to_response().boxed(),
            builder,
            limits,
            busy_answer: busy_answer().into(),
            shutdown: CancellationToken::new(),
            force_close: CancellationToken::new(),
        }
    }
}

/// The complete answer to a connection over the cap.
fn busy_answer() -> Vec<u8> {
    let body = serde_json::json!({
        "code": "too_many_connections",
        "message": "the server has too many open connections; try again shortly",
    })
    .to_string();
    format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json; charset=utf-8\r\n\
         content-length: {}\r\nconnection: close\r\nretry-after: 1\r\n\
         x-content-type-options: nosniff\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// Writes the 503 once the request head is in (or after half of [`BUSY_ANSWER_TIME`]), then
/// lingers until the client closes, all within [`BUSY_ANSWER_TIME`]; on the HTTPS listener after
/// a TLS handshake, which counts against the same time. Waiting for the request matters: a
/// client that gets an answer before it has sent its request (hyper's, for one) takes it for a
/// broken connection, not for a 503.
async fn answer_busy(stream: TcpStream, tls: Option<TlsAcceptor>, answer: &[u8]) {
    let _ = tokio::time::timeout(BUSY_ANSWER_TIME, async {
        match tls {
            None => busy_exchange(stream, answer).await,
            Some(acceptor) => busy_exchange(acceptor.accept(stream).await?, answer).await,
        }
    })
    .await;
}

async fn busy_exchange<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    answer: &[u8],
) -> io::Result<()> {
    let mut head = Vec::with_capacity(1024);
    let _ = tokio::time::timeout(BUSY_ANSWER_TIME / 2, async {
        while head.len() < 8 * 1024 && !head.windows(4).any(|w| w == b"\r\n\r\n") {
            if stream.read_buf(&mut head).await? == 0 {
                break;
            }
        }
        io::Result::Ok(())
    })
    .await;
    stream.write_all(answer).await?;
    stream.shutdown().await?;
    let mut sink = [0_u8; 1024];
    while stream.read(&mut sink).await? > 0 {}
    Ok(())
}

/// Counts open connections against the cap and logs the episodes of being at it.
struct Gate {
    open: AtomicUsize,
    max: Option<usize>,
    /// Open connections at or below which an episode at the cap ends (90 % of the cap).
    low_water: usize,
    at_cap: AtomicBool,
    refused: AtomicU64,
}

impl Gate {
    fn new(max: Option<usize>) -> Self {
        let low_water = max.map_or(0, |max| max - (max / 10).max(1));
        Self {
            open: AtomicUsize::new(0),
            max,
            low_water,
            at_cap: AtomicBool::new(false),
            refused: AtomicU64::new(0),
        }
    }

    /// A slot for one more connection, unless the cap is reached.
    fn enter(self: &Arc<Self>) -> Option<Slot> {
        let max = self.max.unwrap_or(usize::MAX);
        self.open
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < max).then_some(n + 1)
            })
            .ok()?;
        Some(Slot(self.clone()))
    }

    /// A connection was turned away; the first one of an episode is logged.
    fn refused(&self) {
        self.refused.fetch_add(1, Ordering::Relaxed);
        if !self.at_cap.swap(true, Ordering::AcqRel) {
            tracing::warn!(
                max_connections = self.max.unwrap_or(0),
                "connection limit reached: new connections get 503 too_many_connections until \
                 some close (raise [http] max_connections or the file descriptor limit if this \
                 is normal load)"
            );
        }
    }

    fn leave(&self) {
        let open = self.open.fetch_sub(1, Ordering::AcqRel) - 1;
        if open <= self.low_water
            && self.at_cap.load(Ordering::Acquire)
            && self.at_cap.swap(false, Ordering::AcqRel)
        {
            tracing::info!(
                open,
                refused = self.refused.swap(0, Ordering::Relaxed),
                "back under the connection limit"
            );
        }
    }
}

/// One open connection's place under the cap; released when the socket is dropped.
struct Slot(Arc<Gate>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.leave();
    }
}

/// What the watchdog of one connection knows about it.
struct Activity {
    started: Instant,
    /// Milliseconds from `started` to the last successful read or write.
    last_io_ms: AtomicU64,
    /// Requests whose service future is running.
    in_flight: AtomicUsize,
    /// Whether any request head arrived.
    had_request: AtomicBool,
    /// Signalled (rarely) when a `101` answer was produced.
    upgrading: Notify,
}

impl Activity {
    fn new() -> Self {
        Self {
            started: Instant::now(),
            last_io_ms: AtomicU64::new(0),
            in_flight: AtomicUsize::new(0),
            had_request: AtomicBool::new(false),
            upgrading: Notify::new(),
        }
    }

    fn touch(&self) {
        let ms = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_io_ms.store(ms, Ordering::Relaxed);
    }

    fn last_io(&self) -> Instant {
        self.started + Duration::from_millis(self.last_io_ms.load(Ordering::Relaxed))
    }

    fn busy(&self) -> bool {
        self.in_flight.load(Ordering::Acquire) > 0
    }

    /// When the connection counts as idle for `limit` if nothing happens meanwhile; while a
    /// request is being handled, the time to look again.
    fn idle_deadline(&self, limit: Duration, now: Instant) -> Instant {
        if self.busy() {
            now + limit
        } else {
            self.last_io() + limit
        }
    }
}

/// Counts a request as in flight while its service future lives.
struct InFlight(Arc<Activity>);

impl InFlight {
    fn new(activity: Arc<Activity>) -> Self {
        activity.had_request.store(true, Ordering::Release);
        activity.in_flight.fetch_add(1, Ordering::AcqRel);
        Self(activity)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.touch();
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The accepted socket: records I/O activity and holds the connection's slot under the cap for
/// as long as the socket lives (also inside an upgraded WebSocket).
struct TrackedIo<T> {
    inner: T,
    activity: Arc<Activity>,
    _slot: Slot,
}

impl<T> TrackedIo<T> {
    fn new(inner: T, slot: Slot) -> Self {
        Self {
            inner,
            activity: Arc::new(Activity::new()),
            _slot: slot,
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for TrackedIo<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.activity.touch();
        }
        polled
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for TrackedIo<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        polled
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Why a connection is being shut down gracefully.
#[derive(Debug, Clone, Copy)]
enum Closing {
    Shutdown,
    NoRequest,
    Idle,
}

type ResponseBody = http_body_util::combinators::BoxBody<Bytes, io::Error>;

/// Serves one connection until it ends, is upgraded, or is closed by a limit or by shutdown.
/// `io` is the [`TrackedIo`] whose `activity` is passed along, or a TLS stream over it.
async fn serve_connection<T>(
    server: Arc<Shared>,
    io: T,
    activity: Arc<Activity>,
    local_addr: SocketAddr,
    remote_addr: SocketAddr,
    scheme: Scheme,
) where
    T: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let limits = server.limits;
    let service = service_fn({
        let server = server.clone();
        let activity = activity.clone();
        let local_addr = LocalAddr(local_addr.into());
        let remote_addr = RemoteAddr(remote_addr.into());
        move |req: hyper::Request<Incoming>| {
            let in_flight = InFlight::new(activity.clone());
            let server = server.clone();
            let req =
                poem::Request::from((req, local_addr.clone(), remote_addr.clone(), scheme.clone()));
            async move {
                let resp = server.endpoint.get_response(req).await;
                if resp.status() == StatusCode::SWITCHING_PROTOCOLS {
                    in_flight.0.upgrading.notify_one();
                }
                drop(in_flight);
                Ok::<_, Infallible>(hyper::Response::<ResponseBody>::from(resp))
            }
        }
    });
    let conn = server
        .builder
        .serve_connection_with_upgrades(TokioIo::new(io), service);
    tokio::pin!(conn);

    let first_request_by = limits.header_read_timeout.map(|t| activity.started + t);
    let mut upgrade_by: Option<Instant> = None;
    let closing = loop {
        let now = Instant::now();
        let mut wake: Option<Instant> = upgrade_by;
        if !activity.had_request.load(Ordering::Acquire) {
            wake = earliest(wake, first_request_by);
        }
        if let Some(idle) = limits.idle_timeout {
            wake = earliest(wake, Some(activity.idle_deadline(idle, now)));
        }
        tokio::select! {
            result = conn.as_mut() => {
                if let Err(err) = result {
                    tracing::debug!(error = %err, remote = %remote_addr, "connection ended with an error");
                }
                return;
            }
            () = server.shutdown.cancelled() => break Closing::Shutdown,
            () = activity.upgrading.notified() => {
                upgrade_by = limits.websocket_handshake_timeout.map(|t| Instant::now() + t);
            }
            () = sleep_until(wake) => {
                let now = Instant::now();
                if upgrade_by.is_some_and(|by| now >= by) {
                    tracing::debug!(remote = %remote_addr, "upgrade not completed in time; closing");
                    return;
                }
                if !activity.had_request.load(Ordering::Acquire)
                    && first_request_by.is_some_and(|by| now >= by)
                {
                    break Closing::NoRequest;
                }
                if let Some(idle) = limits.idle_timeout
                    && !activity.busy()
                    && now >= activity.last_io() + idle
                {
                    break Closing::Idle;
                }
            }
        }
    };
    tracing::debug!(remote = %remote_addr, reason = ?closing, "closing connection");
    conn.as_mut().graceful_shutdown();
    loop {
        let wake = activity.idle_deadline(CLOSE_GRACE, Instant::now());
        tokio::select! {
            _ = conn.as_mut() => return,
            () = server.force_close.cancelled() => return,
            () = tokio::time::sleep_until(wake) => {
                if !activity.busy() && Instant::now() >= activity.last_io() + CLOSE_GRACE {
                    return;
                }
            }
        }
    }
}

fn earliest(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_busy_answer_is_complete_http() {
        let answer = String::from_utf8(busy_answer()).expect("utf-8");
        let (head, body) = answer.split_once("\r\n\r\n").expect("head and body");
        assert!(head.starts_with("HTTP/1.1 503 "));
        assert!(head.contains("connection: close"));
        assert!(head.contains(&format!("content-length: {}", body.len())));
        let json: serde_json::Value = serde_json::from_str(body).expect("JSON body");
        assert_eq!(json["code"], "too_many_connections");
    }

    #[poem::handler]
    fn switch(req: &poem::Request) -> Response {
        let on_upgrade = req.take_upgrade().expect("an upgrade request");
        tokio::spawn(async move {
            let _ = on_upgrade.await;
        });
        Response::builder()
            .status(StatusCode::SWITCHING_PROTOCOLS)
            .header("connection", "upgrade")
            .header("upgrade", "websocket")
            .finish()
    }

    /// The one thing a client can stall after a 101: the 101's own write, by not reading while
    /// the socket buffers are full. A 64-byte in-memory socket is full at once.
    #[tokio::test]
    async fn an_upgrade_that_cannot_complete_is_dropped_after_the_handshake_timeout() {
        let limits = Limits {
            max_connections: Some(1),
            header_read_timeout: None,
            idle_timeout: None,
            websocket_handshake_timeout: Some(Duration::from_millis(300)),
        };
        let server = Arc::new(Shared::new(switch, limits));
        let gate = Arc::new(Gate::new(limits.max_connections));
        let (mut client, socket) = tokio::io::duplex(64);
        let io = TrackedIo::new(socket, gate.enter().expect("a slot"));
        let activity = io.activity.clone();
        let addr = SocketAddr::from(([127, 0, 0, 1], 1));
        let serving = tokio::spawn(serve_connection(
            server,
            io,
            activity,
            addr,
            addr,
            Scheme::HTTP,
        ));
        client
            .write_all(
                b"GET / HTTP/1.1\r\nHost: t\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n",
            )
            .await
            .expect("request sent");
        let start = Instant::now();
        tokio::time::timeout(Duration::from_secs(5), serving)
            .await
            .expect("the stalled upgrade is dropped")
            .expect("connection task");
        assert!(start.elapsed() >= Duration::from_millis(250));
        assert_eq!(
            gate.open.load(Ordering::Acquire),
            0,
            "its slot is free again"
        );
    }

    /// Shutdown lets a request in flight run for `shutdown_timeout`, then drops its connection.
    #[tokio::test]
    async fn shutdown_gives_up_after_the_timeout() {
        let started = Arc::new(Notify::new());
        let endpoint = poem::endpoint::make({
            let started = started.clone();
            move |_req| {
                let started = started.clone();
                async move {
                    started.notify_one();
                    std::future::pending::<()>().await;
                }
            }
        });
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("address");
        let limits = Limits {
            max_connections: None,
            header_read_timeout: None,
            idle_timeout: None,
            websocket_handshake_timeout: None,
        };
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let signal = async {
            let _ = stopped.await;
        };
        let running = tokio::spawn(run(
            vec![listener.into()],
            endpoint,
            limits,
            signal,
            Duration::from_millis(300),
        ));
        let mut client = TcpStream::connect(addr).await.expect("connect");
        client
            .write_all(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
            .await
            .expect("request sent");
        tokio::time::timeout(Duration::from_secs(5), started.notified())
            .await
            .expect("the request is in flight");
        let start = Instant::now();
        stop.send(()).expect("server running");
        tokio::time::timeout(Duration::from_secs(5), running)
            .await
            .expect("the server gives up on the request")
            .expect("server task")
            .expect("clean stop");
        assert!(start.elapsed() >= Duration::from_millis(250));
        let mut buf = [0_u8; 64];
        let read = tokio::time::timeout(Duration::from_secs(1), client.read(&mut buf))
            .await
            .expect("the connection is closed");
        assert!(matches!(read, Ok(0) | Err(_)), "no answer: {read:?}");
    }

    #[test]
    fn the_gate_counts_and_caps() {
        let gate = Arc::new(Gate::new(Some(2)));
        let a = gate.enter().expect("first");
        let b = gate.enter().expect("second");
        assert!(gate.enter().is_none(), "third is over the cap");
        gate.refused();
        assert!(gate.at_cap.load(Ordering::Acquire));
        drop(a);
        assert_eq!(gate.open.load(Ordering::Acquire), 1);
        assert!(!gate.at_cap.load(Ordering::Acquire), "episode over");
        let _c = gate.enter().expect("room again");
        drop(b);
        assert!(Arc::new(Gate::new(None)).enter().is_some(), "no cap");
    }
}
