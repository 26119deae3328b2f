//! [`MediaServer`]: configuration, binding, serving, health, reflection, metrics and graceful
//! shutdown.

use std::fmt;
use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures_util::future::BoxFuture;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tonic::transport::server::{Router, TcpIncoming};
use tonic_health::ServingStatus;

use crate::agents::{AgentConfig, AgentTable};
use crate::config::{CallSettings, Detector, FailurePolicy, TlsConfig};
use crate::error::{Error, ErrorKind};
use crate::input::SessionEndReason;
use crate::linger::{self, LingeringIncoming, Lingers};
use crate::metrics::{self, Metrics};
use crate::proto::voice_virtual_agent_server::VoiceVirtualAgentServer;
use crate::registry::Registry;
use crate::reply::{InputConfig, InputMode};
use crate::service::VoiceAgentService;
use crate::shared::{self, Shared};
use crate::sink::{OutputMode, ReplyDefaults};
use crate::tracker::TaskTracker;
use crate::vad::EndpointerConfig;

/// The gRPC service name health checks report on.
const SERVICE_NAME: &str = "com.cisco.wcc.ccai.media.v1.VoiceVirtualAgent";

/// The default HTTP/2 connection window: room for tens of thousands of small audio frames
/// waiting unread on one connection (see [`MediaServerBuilder::http2_connection_window`]).
const DEFAULT_CONNECTION_WINDOW: u32 = 16 * 1024 * 1024;

/// How inbound calls are authenticated.
#[derive(Clone, Default)]
enum Auth {
    #[default]
    Unset,
    Disabled,
    #[cfg(feature = "jws")]
    Jws(byova_jws::Verifier),
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unset => f.write_str("Unset"),
            Self::Disabled => f.write_str("Disabled"),
            #[cfg(feature = "jws")]
            Self::Jws(_) => f.write_str("Jws"),
        }
    }
}

/// Builds a [`MediaServer`]. Every setting has a production default; see each method.
#[derive(Debug)]
#[must_use]
pub struct MediaServerBuilder {
    addr: SocketAddr,
    tls: Option<TlsConfig>,
    auth: Auth,
    agents: Vec<AgentConfig>,
    reply: ReplyDefaults,
    settings: CallSettings,
    http2_keepalive_interval: Option<Duration>,
    http2_keepalive_timeout: Duration,
    http2_connection_window: u32,
    tcp_keepalive: Option<Duration>,
    max_message_size: usize,
    max_calls: usize,
    max_concurrent_streams: Option<u32>,
    response_buffer: usize,
    shutdown_grace: Duration,
    tombstone_ttl: Duration,
    metrics_addr: Option<SocketAddr>,
}

impl Default for MediaServerBuilder {
    fn default() -> Self {
        Self {
            addr: SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 50051),
            tls: None,
            auth: Auth::Unset,
            agents: Vec::new(),
            reply: ReplyDefaults::default(),
            settings: CallSettings {
                idle_timeout: Duration::from_secs(600),
                max_call_duration: Some(Duration::from_secs(3600)),
                first_message_timeout: Duration::from_secs(30),
                session_end_timeout: Duration::from_secs(10),
                reap_interval: Duration::from_secs(1),
                endpointing: EndpointerConfig::default(),
                detector: Detector::default(),
                on_failure: FailurePolicy::default(),
            },
            http2_keepalive_interval: Some(Duration::from_secs(30)),
            http2_keepalive_timeout: Duration::from_secs(20),
            http2_connection_window: DEFAULT_CONNECTION_WINDOW,
            tcp_keepalive: Some(Duration::from_secs(60)),
            max_message_size: 4 * 1024 * 1024,
            max_calls: 5000,
            max_concurrent_streams: Some(10_000),
            response_buffer: 16,
            shutdown_grace: Duration::from_secs(20),
            tombstone_ttl: Duration::from_secs(120),
            metrics_addr: None,
        }
    }
}

impl MediaServerBuilder {
    /// The listening address (default `0.0.0.0:50051`). Port 0 picks a free port; read it from
    /// [`RunningServer::local_addr`].
    pub fn addr(mut self, addr: SocketAddr) -> Self {
        self.addr = addr;
        self
    }

    /// The listening host, keeping the port.
    pub fn host(mut self, host: IpAddr) -> Self {
        self.addr.set_ip(host);
        self
    }

    /// The listening port, keeping the host.
    pub fn port(mut self, port: u16) -> Self {
        self.addr.set_port(port);
        self
    }

    /// Serves over TLS (rustls with ring), optionally requiring client certificates.
    pub fn tls(mut self, tls: TlsConfig) -> Self {
        self.tls = Some(tls);
        self
    }

    /// Authenticates every call with the Webex JWS in its `authorization` metadata (health checks
    /// and reflection are exempt). The verified [`Claims`](byova_jws::Claims) reach agents through
    /// [`Context::claims`](crate::Context::claims).
    #[cfg(feature = "jws")]
    pub fn jws(mut self, verifier: byova_jws::Verifier) -> Self {
        self.auth = Auth::Jws(verifier);
        self
    }

    /// Turns authentication off, for local development and tests only: anyone who can reach the
    /// port can then drive calls. Authentication is required otherwise.
    pub fn disable_authentication(mut self) -> Self {
        self.auth = Auth::Disabled;
        self
    }

    /// Registers a virtual agent.
    pub fn agent(mut self, agent: AgentConfig) -> Self {
        self.agents.push(agent);
        self
    }

    /// The default output mode of agents that set none (default CHUNK).
    pub fn output_mode(mut self, mode: OutputMode) -> Self {
        self.reply.mode = mode;
        self
    }

    /// Whether prompts may be interrupted by default (default `false`).
    pub fn barge_in(mut self, enabled: bool) -> Self {
        self.reply.barge_in = enabled;
        self
    }

    /// The default next input mode (default voice and DTMF).
    pub fn input_mode(mut self, mode: InputMode) -> Self {
        self.reply.input_mode = mode;
        self
    }

    /// The default input handling config (default [`InputConfig::gateway_default`]).
    pub fn input_config(mut self, config: InputConfig) -> Self {
        self.reply.input_config = config;
        self
    }

    /// Endpointing settings (speech onset debounce, trailing silence, maximum utterance,
    /// pre-roll).
    pub fn endpointing(mut self, config: EndpointerConfig) -> Self {
        self.settings.endpointing = config;
        self
    }

    /// The voice detector (default [`Detector::Earshot`]).
    pub fn detector(mut self, detector: Detector) -> Self {
        self.settings.detector = detector;
        self
    }

    /// What happens when an agent fails (default: a spoken apology, then a transfer).
    pub fn on_failure(mut self, policy: FailurePolicy) -> Self {
        self.settings.on_failure = policy;
        self
    }

    /// Conversations without any traffic for this long are closed (default 10 minutes).
    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.settings.idle_timeout = timeout;
        self
    }

    /// The longest call; older conversations are ended with a session-end event (default one
    /// hour; `None` for no limit).
    pub fn max_call_duration(mut self, duration: Option<Duration>) -> Self {
        self.settings.max_call_duration = duration;
        self
    }

    /// How long an RPC may stay open without its first message (default 30 s).
    pub fn first_message_timeout(mut self, timeout: Duration) -> Self {
        self.settings.first_message_timeout = timeout;
        self
    }

    /// How long an agent's `on_session_end` may take, and how long closing messages wait for a
    /// caller that does not read (default 10 s).
    pub fn session_end_timeout(mut self, timeout: Duration) -> Self {
        self.settings.session_end_timeout = timeout;
        self
    }

    /// How often idle and over-long conversations are looked for (default 1 s).
    pub fn reap_interval(mut self, interval: Duration) -> Self {
        self.settings.reap_interval = interval.max(Duration::from_millis(1));
        self
    }

    /// HTTP/2 keepalive pings: interval (default 30 s; `None` disables) and timeout (default
    /// 20 s).
    pub fn keepalive(mut self, interval: Option<Duration>, timeout: Duration) -> Self {
        self.http2_keepalive_interval = interval;
        self.http2_keepalive_timeout = timeout;
        self
    }

    /// TCP keepalive (default 60 s; `None` disables).
    pub fn tcp_keepalive(mut self, keepalive: Option<Duration>) -> Self {
        self.tcp_keepalive = keepalive;
        self
    }

    /// The largest gRPC message accepted or sent, in bytes (default 4 MiB).
    pub fn max_message_size(mut self, bytes: usize) -> Self {
        self.max_message_size = bytes;
        self
    }

    /// The most concurrent calls; a call beyond it is refused at once with RESOURCE_EXHAUSTED
    /// (default 5000).
    pub fn max_calls(mut self, calls: usize) -> Self {
        self.max_calls = calls;
        self
    }

    /// The HTTP/2 connection-level receive window in bytes (default 16 MiB).
    ///
    /// Webex may carry many calls on one connection, each sending a small DATA frame every
    /// 20 ms. h2 bounds how many small frames may wait unread at once by half this window and
    /// closes the whole connection (GOAWAY `ENHANCE_YOUR_CALM`) beyond it, so a small window
    /// would drop every call of a busy connection whenever the server falls behind briefly.
    pub fn http2_connection_window(mut self, bytes: u32) -> Self {
        self.http2_connection_window = bytes.clamp(65_535, 0x7FFF_FFFF);
        self
    }

    /// The most concurrent RPCs on one HTTP/2 connection (default 10 000).
    pub fn max_concurrent_streams(mut self, streams: Option<u32>) -> Self {
        self.max_concurrent_streams = streams;
        self
    }

    /// Responses buffered per RPC before the sender waits (default 16).
    pub fn response_buffer(mut self, messages: usize) -> Self {
        self.response_buffer = messages.max(1);
        self
    }

    /// On shutdown, how long running turns may take to finish before they are ended (default
    /// 20 s).
    pub fn shutdown_grace(mut self, grace: Duration) -> Self {
        self.shutdown_grace = grace;
        self
    }

    /// Serves `/metrics` (Prometheus text), `/healthz` and `/readyz` over HTTP on this address
    /// (port 0 picks a free port; read it from [`RunningServer::metrics_addr`]).
    pub fn metrics_addr(mut self, addr: SocketAddr) -> Self {
        self.metrics_addr = Some(addr);
        self
    }

    pub(crate) fn reply_input_config(&self) -> InputConfig {
        self.reply.input_config
    }

    pub(crate) fn endpointing_config(&self) -> EndpointerConfig {
        self.settings.endpointing.clone()
    }

    pub(crate) fn addr_value(&self) -> SocketAddr {
        self.addr
    }

    /// Checks the settings and builds the server.
    ///
    /// # Errors
    /// [`ErrorKind::Config`] when no agent is registered, agent ids clash, authentication is
    /// neither configured nor explicitly disabled, or a limit is zero.
    pub fn build(self) -> Result<MediaServer, Error> {
        if matches!(self.auth, Auth::Unset) {
            return Err(Error::config(if cfg!(feature = "jws") {
                "JWS authentication is on by default: configure a verifier with `MediaServerBuilder::jws` \
                 (or WEBEX_MEDIA_DATASOURCE_URL), or opt out explicitly with `disable_authentication` \
                 (WEBEX_MEDIA_VERIFY_TOKENS=false) for local development"
            } else {
                "this build has no JWS support (the `jws` feature is off): opt out of authentication \
                 explicitly with `disable_authentication` (WEBEX_MEDIA_VERIFY_TOKENS=false)"
            }));
        }
        if self.max_calls == 0 {
            return Err(Error::config("max_calls must be at least 1"));
        }
        if self.max_message_size < 1024 {
            return Err(Error::config(
                "max_message_size must be at least 1024 bytes",
            ));
        }
        self.settings.validate()?;
        let agents = AgentTable::new(self.agents, &self.reply)
            .map_err(|err| Error::config(err.to_string()))?;
        let metrics = Arc::new(Metrics::new());
        let shared = Arc::new(Shared {
            agents,
            registry: Registry::new(self.max_calls, self.tombstone_ttl, Arc::clone(&metrics)),
            settings: self.settings,
            metrics,
            tasks: TaskTracker::default(),
        });
        Ok(MediaServer {
            shared,
            net: Net {
                addr: self.addr,
                tls: self.tls,
                auth: self.auth,
                http2_keepalive_interval: self.http2_keepalive_interval,
                http2_keepalive_timeout: self.http2_keepalive_timeout,
                http2_connection_window: self.http2_connection_window,
                tcp_keepalive: self.tcp_keepalive,
                max_message_size: self.max_message_size,
                max_concurrent_streams: self.max_concurrent_streams,
                response_buffer: self.response_buffer,
                shutdown_grace: self.shutdown_grace,
                metrics_addr: self.metrics_addr,
            },
        })
    }
}

/// Network settings, used when binding.
#[derive(Debug)]
struct Net {
    addr: SocketAddr,
    tls: Option<TlsConfig>,
    auth: Auth,
    http2_keepalive_interval: Option<Duration>,
    http2_keepalive_timeout: Duration,
    http2_connection_window: u32,
    tcp_keepalive: Option<Duration>,
    max_message_size: usize,
    max_concurrent_streams: Option<u32>,
    response_buffer: usize,
    shutdown_grace: Duration,
    metrics_addr: Option<SocketAddr>,
}

/// The BYOVA media server: the gRPC server Webex calls during every call.
///
/// It serves `VoiceVirtualAgent` (`ProcessCallerInput`, `ListVirtualAgents`), the gRPC health
/// service and server reflection; see the [crate docs](crate) for an example.
pub struct MediaServer {
    shared: Arc<Shared>,
    net: Net,
}

impl fmt::Debug for MediaServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MediaServer")
            .field("addr", &self.net.addr)
            .field("tls", &self.net.tls.is_some())
            .field("auth", &self.net.auth)
            .finish_non_exhaustive()
    }
}

impl MediaServer {
    /// A builder with the defaults.
    pub fn builder() -> MediaServerBuilder {
        MediaServerBuilder::default()
    }

    /// Binds the listeners and starts serving in the background.
    ///
    /// # Errors
    /// [`ErrorKind::Bind`] when an address cannot be bound, [`ErrorKind::Tls`] when the TLS
    /// material is unusable.
    pub async fn bind(self) -> Result<RunningServer, Error> {
        let Self { shared, net } = self;
        let listener = TcpListener::bind(net.addr).await.map_err(|err| {
            Error::new(ErrorKind::Bind, format!("cannot bind {}", net.addr)).with_source(err)
        })?;
        let local_addr = listener.local_addr().map_err(|err| {
            Error::new(ErrorKind::Bind, "cannot read the bound address").with_source(err)
        })?;
        let metrics_listener = match net.metrics_addr {
            Some(addr) => Some(TcpListener::bind(addr).await.map_err(|err| {
                Error::new(
                    ErrorKind::Bind,
                    format!("cannot bind the metrics address {addr}"),
                )
                .with_source(err)
            })?),
            None => None,
        };
        let metrics_addr = match &metrics_listener {
            Some(listener) => Some(listener.local_addr().map_err(|err| {
                Error::new(ErrorKind::Bind, "cannot read the bound metrics address")
                    .with_source(err)
            })?),
            None => None,
        };

        let (health, health_service) = tonic_health::server::health_reporter();
        health
            .set_service_status(SERVICE_NAME, ServingStatus::Serving)
            .await;
        let reflection_error =
            |err| Error::config("cannot build the reflection service").with_source(err);
        let reflection_v1 = reflection().build_v1().map_err(reflection_error)?;
        let reflection_v1alpha = reflection().build_v1alpha().map_err(reflection_error)?;
        let agent_service = VoiceVirtualAgentServer::new(VoiceAgentService::new(
            Arc::clone(&shared),
            net.response_buffer,
        ))
        .max_decoding_message_size(net.max_message_size)
        .max_encoding_message_size(net.max_message_size);

        let mut server = tonic::transport::Server::builder()
            .http2_keepalive_interval(net.http2_keepalive_interval)
            .http2_keepalive_timeout(Some(net.http2_keepalive_timeout))
            .initial_connection_window_size(net.http2_connection_window)
            .max_concurrent_streams(net.max_concurrent_streams);
        if let Some(tls) = &net.tls {
            install_crypto_provider();
            server = server.tls_config(tls.to_tonic()).map_err(|err| {
                Error::new(ErrorKind::Tls, "the TLS configuration cannot be used").with_source(err)
            })?;
        }
        // Connections close with a lingering drain, so no reply is lost to a TCP reset.
        let lingers = Lingers::default();
        let incoming = LingeringIncoming::new(
            TcpIncoming::from(listener)
                .with_nodelay(Some(true))
                .with_keepalive(net.tcp_keepalive),
            lingers.clone(),
        );

        let (stop_tx, stop_rx) = watch::channel(false);
        let signal = {
            let mut stop = stop_rx.clone();
            async move { crate::tracker::stopped(&mut stop).await }
        };
        let grpc: BoxFuture<'static, Result<(), tonic::transport::Error>> = match &net.auth {
            Auth::Unset => unreachable!("build() refuses an unset authentication"),
            Auth::Disabled => {
                tracing::warn!(%local_addr, "authentication is DISABLED: anyone who can reach this port can drive calls");
                let router = server
                    .add_service(health_service)
                    .add_service(reflection_v1)
                    .add_service(reflection_v1alpha)
                    .add_service(agent_service);
                serve(router, incoming, signal)
            }
            #[cfg(feature = "jws")]
            Auth::Jws(verifier) => {
                let router = server
                    .layer(byova_jws::JwsAuthLayer::new(verifier.clone()))
                    .add_service(health_service)
                    .add_service(reflection_v1)
                    .add_service(reflection_v1alpha)
                    .add_service(agent_service);
                serve(router, incoming, signal)
            }
        };

        let ready = Arc::new(AtomicBool::new(true));
        let (http_stop_tx, http_stop_rx) = watch::channel(false);
        let http = metrics_listener.map(|listener| {
            tokio::spawn(metrics::serve_http(
                listener,
                Arc::clone(&shared.metrics),
                Arc::clone(&ready),
                http_stop_rx,
            ))
        });
        let reaper = tokio::spawn(shared::reap(Arc::clone(&shared), stop_rx.clone()));
        tracing::info!(
            %local_addr,
            tls = net.tls.is_some(),
            metrics = ?metrics_addr,
            "BYOVA media server listening"
        );
        let supervisor = tokio::spawn(supervise(Supervised {
            shared: Arc::clone(&shared),
            grpc,
            stop: stop_rx,
            health,
            ready,
            grace: net.shutdown_grace,
            reaper,
            http,
            http_stop: http_stop_tx,
            lingers,
        }));
        Ok(RunningServer {
            local_addr,
            metrics_addr,
            shutdown: ShutdownHandle {
                stop: Arc::new(stop_tx),
            },
            shared,
            supervisor,
        })
    }

    /// Binds, serves until Ctrl-C or SIGTERM, then shuts down gracefully.
    ///
    /// # Errors
    /// As [`bind`](Self::bind), or when the gRPC server fails.
    pub async fn serve(self) -> Result<(), Error> {
        self.serve_with_shutdown(shutdown_signal()).await
    }

    /// Binds, serves until `signal` completes, then shuts down gracefully.
    ///
    /// # Errors
    /// As [`bind`](Self::bind), or when the gRPC server fails.
    pub async fn serve_with_shutdown(
        self,
        signal: impl Future<Output = ()> + Send,
    ) -> Result<(), Error> {
        let running = self.bind().await?;
        let handle = running.shutdown_handle();
        tokio::select! {
            () = signal => {
                tracing::info!("shutdown requested");
                handle.shutdown();
            }
            () = handle.requested() => {}
        }
        running.wait().await
    }
}

/// Installs ring as the process's rustls provider when none is installed (TLS is rustls with
/// ring throughout this workspace).
fn install_crypto_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // Another thread may win the race; either way a ring provider is installed.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}

/// The reflection service's builder, describing the BYOVA and health services.
fn reflection() -> tonic_reflection::server::Builder<'static> {
    tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(crate::proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
}

/// Serves a router until `signal`.
fn serve<L, ResBody>(
    router: Router<L>,
    incoming: LingeringIncoming,
    signal: impl Future<Output = ()> + Send + 'static,
) -> BoxFuture<'static, Result<(), tonic::transport::Error>>
where
    L: tower_layer::Layer<tonic::service::Routes> + Send + 'static,
    L::Service: tower_service::Service<http::Request<tonic::body::Body>, Response = http::Response<ResBody>>
        + Clone
        + Send
        + 'static,
    <L::Service as tower_service::Service<http::Request<tonic::body::Body>>>::Future: Send,
    <L::Service as tower_service::Service<http::Request<tonic::body::Body>>>::Error:
        Into<Box<dyn std::error::Error + Send + Sync>> + Send,
    ResBody: http_body::Body<Data = bytes::Bytes> + Send + 'static,
    ResBody::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    Box::pin(router.serve_with_incoming_shutdown(incoming, signal))
}

/// Resolves on Ctrl-C or (on Unix) SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}

struct Supervised {
    shared: Arc<Shared>,
    grpc: BoxFuture<'static, Result<(), tonic::transport::Error>>,
    stop: watch::Receiver<bool>,
    health: tonic_health::server::HealthReporter,
    ready: Arc<AtomicBool>,
    grace: Duration,
    reaper: JoinHandle<()>,
    http: Option<JoinHandle<()>>,
    http_stop: watch::Sender<bool>,
    lingers: Lingers,
}

/// Runs the server and, once shutdown is requested, drains it: stop accepting (health and
/// readiness report not serving), let running turns finish within the grace period, then end
/// the remaining calls and tell their agents; finally wait (briefly) for the closed connections
/// to finish their lingering close, so that no reply is lost to a reset.
async fn supervise(mut s: Supervised) -> Result<(), Error> {
    let mut grpc = tokio::spawn(s.grpc);
    tokio::select! {
        () = crate::tracker::stopped(&mut s.stop) => {}
        result = &mut grpc => {
            // The server ended on its own: an error.
            s.ready.store(false, Ordering::Release);
            let _ = s.http_stop.send(true);
            s.reaper.abort();
            return grpc_outcome(result);
        }
    }

    let shared = s.shared;
    tracing::info!(
        live_calls = shared.registry.live(),
        grace_ms = s.grace.as_millis(),
        "shutting down: no new calls; running turns may finish"
    );
    s.ready.store(false, Ordering::Release);
    shared.registry.start_draining();
    s.health
        .set_service_status(SERVICE_NAME, ServingStatus::NotServing)
        .await;
    s.health
        .set_service_status("", ServingStatus::NotServing)
        .await;

    // Running turns (RPCs) may finish within the grace period.
    if tokio::time::timeout(s.grace, shared.tasks.idle())
        .await
        .is_err()
    {
        tracing::warn!(
            running = shared.tasks.running(),
            "grace period over: ending the remaining calls"
        );
    }
    shared::close_all(&shared, SessionEndReason::Shutdown);
    let drain = shared.settings.session_end_timeout + Duration::from_secs(1);
    if tokio::time::timeout(drain, shared.tasks.idle())
        .await
        .is_err()
    {
        tracing::warn!(
            running = shared.tasks.running(),
            "some turns or session-end callbacks did not finish; they are abandoned"
        );
    }
    let result = match tokio::time::timeout(drain, &mut grpc).await {
        Ok(joined) => grpc_outcome(joined),
        Err(_) => {
            tracing::warn!("connections did not close in time; they are dropped");
            grpc.abort();
            Ok(())
        }
    };
    // Closed connections still draining must not be cut off by the process exiting.
    if tokio::time::timeout(linger::LINGER + Duration::from_secs(1), s.lingers.idle())
        .await
        .is_err()
    {
        tracing::debug!(
            lingering = s.lingers.running(),
            "connections still lingering are dropped"
        );
    }
    s.reaper.abort();
    let _ = s.http_stop.send(true);
    if let Some(http) = s.http {
        let _ = http.await;
    }
    tracing::info!("media server stopped");
    result
}

/// What the gRPC server task came to.
fn grpc_outcome(
    joined: Result<Result<(), tonic::transport::Error>, tokio::task::JoinError>,
) -> Result<(), Error> {
    match joined {
        Ok(Ok(())) => Ok(()),
        Ok(Err(err)) => {
            Err(Error::new(ErrorKind::Serve, "the gRPC server failed").with_source(err))
        }
        Err(join) => {
            Err(Error::new(ErrorKind::Serve, "the gRPC server task failed").with_source(join))
        }
    }
}

/// Starts a graceful shutdown of a [`RunningServer`] from anywhere. Cheap to clone.
#[derive(Debug, Clone)]
pub struct ShutdownHandle {
    stop: Arc<watch::Sender<bool>>,
}

impl ShutdownHandle {
    /// Requests a graceful shutdown (idempotent); [`RunningServer::wait`] resolves when it is
    /// done.
    pub fn shutdown(&self) {
        self.stop.send_replace(true);
    }

    /// Whether shutdown was requested.
    #[must_use]
    pub fn is_requested(&self) -> bool {
        *self.stop.borrow()
    }

    /// Resolves once shutdown is requested.
    pub async fn requested(&self) {
        let mut rx = self.stop.subscribe();
        crate::tracker::stopped(&mut rx).await;
    }
}

/// A bound, serving media server.
#[derive(Debug)]
pub struct RunningServer {
    local_addr: SocketAddr,
    metrics_addr: Option<SocketAddr>,
    shutdown: ShutdownHandle,
    shared: Arc<Shared>,
    supervisor: JoinHandle<Result<(), Error>>,
}

impl RunningServer {
    /// The address the gRPC server listens on (with the actual port when port 0 was asked).
    #[must_use]
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The address of the metrics endpoint, when configured.
    #[must_use]
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_addr
    }

    /// A handle to request shutdown from elsewhere.
    #[must_use]
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        self.shutdown.clone()
    }

    /// The number of live conversations.
    #[must_use]
    pub fn live_calls(&self) -> usize {
        self.shared.registry.live()
    }

    /// Resolves once the number of live conversations is `count` or fewer.
    pub async fn wait_live_calls_at_most(&self, count: usize) {
        self.shared.registry.wait_live_at_most(count).await;
    }

    /// The metrics in the Prometheus text format (what `/metrics` serves).
    #[must_use]
    pub fn metrics_text(&self) -> String {
        self.shared.metrics.encode()
    }

    /// Shuts down gracefully and waits until the server has stopped.
    ///
    /// # Errors
    /// When the gRPC server failed.
    pub async fn shutdown(self) -> Result<(), Error> {
        self.shutdown.shutdown();
        self.wait().await
    }

    /// Waits until the server stops (after a shutdown request, or on failure).
    ///
    /// # Errors
    /// When the gRPC server failed.
    pub async fn wait(self) -> Result<(), Error> {
        match self.supervisor.await {
            Ok(result) => result,
            Err(join) => {
                Err(Error::new(ErrorKind::Serve, "the server task failed").with_source(join))
            }
        }
    }
}
