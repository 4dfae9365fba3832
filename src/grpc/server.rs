//! The `ReplyEngine` service and the server around it: health, reflection, a concurrency limit
//! with load shedding, the admin reload, graceful shutdown.

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use prost::Message as _;
use tokio::sync::{mpsc, Semaphore};
use tokio_stream::wrappers::ReceiverStream;
use tokio_stream::{Stream, StreamExt};
use tonic::{Request, Response, Status, Streaming};
use tracing::{debug, info, warn};

use crate::config::DEFAULT_INLINE_MAX_BYTES;
use crate::corpus::INTENTS;
use crate::engine::Engine;
use crate::error::Error;
use crate::grpc::coalesce::CoalescingStream;
use crate::grpc::pb;
use crate::grpc::pb::reply_engine_server::{ReplyEngine, ReplyEngineServer};
use crate::message::{Role, Suggestion, Turn};
use crate::request::{RawRequest, MAX_HISTORY_TURNS, MAX_MESSAGE_BYTES};

/// The transport's own cap on a decoded message; requests between `MAX_MESSAGE_BYTES` and this
/// get RESOURCE_EXHAUSTED from the handler, larger ones are cut off by the transport.
const TRANSPORT_MAX_MESSAGE_BYTES: usize = 4 * 1024 * 1024;

/// The engine currently served; a reload swaps the inner `Arc` atomically.
#[derive(Clone)]
pub struct EngineHandle {
    current: Arc<RwLock<Arc<Engine>>>,
}

impl EngineHandle {
    pub fn new(engine: Engine) -> EngineHandle {
        EngineHandle::from_shared(Arc::new(engine))
    }

    /// A handle over an engine that is also used elsewhere (tests, benchmarks).
    pub fn from_shared(engine: Arc<Engine>) -> EngineHandle {
        EngineHandle { current: Arc::new(RwLock::new(engine)) }
    }

    /// The engine to use for one request.
    pub fn get(&self) -> Arc<Engine> {
        self.current.read().unwrap_or_else(|poisoned| poisoned.into_inner()).clone()
    }

    /// Re-reads the handle's corpus source, validates it and swaps it in; on error the old
    /// engine keeps serving.
    pub fn reload(&self) -> Result<usize, Error> {
        let source = self.get().source().clone();
        let engine = Engine::load(source)?;
        let num_scripts = engine.num_scripts();
        *self.current.write().unwrap_or_else(|poisoned| poisoned.into_inner()) = Arc::new(engine);
        Ok(num_scripts)
    }
}

/// Server settings.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Requests classified at once; more are shed with RESOURCE_EXHAUSTED.
    pub max_concurrent: usize,
    /// Bearer token for admin RPCs; `None` disables them.
    pub admin_token_opt: Option<String>,
    /// PEM certificate chain and private key, to serve TLS.
    pub tls_opt: Option<(Vec<u8>, Vec<u8>)>,
    /// Requests up to this encoded size run on the runtime thread that decoded them; larger ones
    /// move to the blocking pool. 0 sends every request to the pool.
    pub inline_max_bytes: usize,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig { max_concurrent: 256, admin_token_opt: None, tls_opt: None, inline_max_bytes: DEFAULT_INLINE_MAX_BYTES }
    }
}

/// The `ReplyEngine` gRPC service.
#[derive(Clone)]
pub struct ReplyEngineService {
    engine: EngineHandle,
    permits: Arc<Semaphore>,
    admin_token_opt: Option<String>,
    inline_max_bytes: usize,
    metrics: Arc<RequestMetrics>,
}

/// The methods that classify, as named in the metrics.
const METHODS: [&str; 3] = ["Suggest", "Classify", "SuggestStream"];
const SUGGEST: usize = 0;
const CLASSIFY: usize = 1;
const SUGGEST_STREAM: usize = 2;

/// Handles of the metrics every answered request updates, registered once with the recorder
/// installed at start-up: updating a handle is an atomic add, where naming the metric with its
/// labels on each request would build and look up its key every time. Errors, rarer, name
/// theirs on the spot.
struct RequestMetrics {
    /// Per method of `METHODS`: requests answered, and their latency.
    ok: [metrics::Counter; METHODS.len()],
    seconds: [metrics::Histogram; METHODS.len()],
    /// Per intent of `INTENTS`.
    intents: [metrics::Counter; INTENTS.len()],
    escalations: metrics::Counter,
    shed: metrics::Counter,
}

impl RequestMetrics {
    fn new() -> RequestMetrics {
        RequestMetrics {
            ok: METHODS.map(|method| metrics::counter!("reply_engine_requests_total", "method" => method, "status" => "ok")),
            seconds: METHODS.map(|method| metrics::histogram!("reply_engine_request_seconds", "method" => method)),
            intents: INTENTS.map(|intent| metrics::counter!("reply_engine_intents_total", "intent" => intent)),
            escalations: metrics::counter!("reply_engine_escalations_total"),
            shed: metrics::counter!("reply_engine_shed_total"),
        }
    }

    fn record(&self, method: usize, elapsed: Duration, result: &Result<Suggestion, Error>) {
        self.seconds[method].record(elapsed.as_secs_f64());
        match result {
            Ok(suggestion) => {
                self.ok[method].increment(1);
                let classification = &suggestion.classification;
                if let Some(i) = INTENTS.iter().position(|intent| *intent == classification.intent) {
                    self.intents[i].increment(1);
                }
                if classification.escalate {
                    self.escalations.increment(1);
                }
            }
            Err(err) => {
                let (method, status) = (METHODS[method], err.error_code());
                metrics::counter!("reply_engine_requests_total", "method" => method, "status" => status).increment(1);
                if matches!(err, Error::Overloaded(_)) {
                    self.shed.increment(1);
                }
            }
        }
    }
}

impl ReplyEngineService {
    pub fn new(engine: EngineHandle, config: &ServerConfig) -> ReplyEngineService {
        ReplyEngineService {
            engine,
            permits: Arc::new(Semaphore::new(config.max_concurrent.max(1))),
            admin_token_opt: config.admin_token_opt.clone(),
            inline_max_bytes: config.inline_max_bytes,
            metrics: Arc::new(RequestMetrics::new()),
        }
    }

    /// Runs one request and records its metrics; `method` indexes `METHODS`.
    async fn run(&self, method: usize, request: pb::SuggestRequest, history_prefix: &[Turn]) -> Result<Suggestion, Error> {
        let started = Instant::now();
        let result = self.run_unmetered(request, history_prefix).await;
        self.metrics.record(method, started.elapsed(), &result);
        result
    }

    /// Validates and runs one request under the concurrency limit: a small one at once, a larger
    /// one on the blocking pool, off the async threads. Handing a request to the pool costs more
    /// than the engine spends on a short message (two thread wake-ups and a context switch each
    /// way), so short messages are answered where they were decoded.
    async fn run_unmetered(&self, request: pb::SuggestRequest, history_prefix: &[Turn]) -> Result<Suggestion, Error> {
        let encoded_len = request.encoded_len();
        if encoded_len > MAX_MESSAGE_BYTES {
            return Err(Error::TooLarge(format!("{encoded_len} bytes, the limit is {MAX_MESSAGE_BYTES}")));
        }
        let mut raw = RawRequest::from(request);
        if !history_prefix.is_empty() {
            let mut history = history_prefix.to_vec();
            history.append(&mut raw.history);
            raw.history = history;
        }
        let message = raw.validate()?;
        let permit = self
            .permits
            .clone()
            .try_acquire_owned()
            .map_err(|_| Error::Overloaded("too many requests in flight".to_string()))?;
        let engine = self.engine.get();
        let suggestion = if encoded_len <= self.inline_max_bytes {
            let _permit = permit;
            engine.suggest(&message)?
        } else {
            tokio::task::spawn_blocking(move || {
                let _permit = permit;
                engine.suggest(&message)
            })
            .await
            .map_err(|err| Error::Overloaded(format!("worker failed: {err}")))??
        };
        debug!(
            intent = %suggestion.classification.intent,
            language = %suggestion.classification.language,
            escalate = suggestion.classification.escalate,
            num_replies = suggestion.replies.len(),
            "suggested"
        );
        Ok(suggestion)
    }
}

type SuggestStreamResponse = Pin<Box<dyn Stream<Item = Result<pb::SuggestResponse, Status>> + Send>>;

#[tonic::async_trait]
impl ReplyEngine for ReplyEngineService {
    async fn suggest(&self, request: Request<pb::SuggestRequest>) -> Result<Response<pb::SuggestResponse>, Status> {
        let suggestion = self.run(SUGGEST, request.into_inner(), &[]).await.inspect_err(log_error)?;
        Ok(Response::new(suggestion.into()))
    }

    async fn classify(&self, request: Request<pb::SuggestRequest>) -> Result<Response<pb::Classification>, Status> {
        let mut request = request.into_inner();
        request.max_replies = 1;
        let suggestion = self.run(CLASSIFY, request, &[]).await.inspect_err(log_error)?;
        Ok(Response::new(suggestion.classification.into()))
    }

    type SuggestStreamStream = SuggestStreamResponse;

    /// A live chat: each request's `history` holds the turns since the previous request (for
    /// instance the seller's reply), its `text` the buyer's newest message. Answers come in
    /// request order and see the whole conversation so far. A bad request gets an error
    /// response and ends the stream; everything answered before it stands.
    async fn suggest_stream(
        &self,
        request: Request<Streaming<pb::SuggestRequest>>,
    ) -> Result<Response<Self::SuggestStreamStream>, Status> {
        let mut inbound = request.into_inner();
        let (sender, receiver) = mpsc::channel(16);
        let service = self.clone();
        tokio::spawn(async move {
            let mut conversation: Vec<Turn> = Vec::new();
            while let Some(next) = inbound.next().await {
                let request = match next {
                    Ok(request) => request,
                    Err(status) => {
                        let _ = sender.send(Err(status)).await;
                        return;
                    }
                };
                let own_history: Vec<Turn> = request.history.iter().cloned().map(Turn::from).collect();
                let text = request.text.clone();
                let result = service.run(SUGGEST_STREAM, request, &conversation).await;
                let failed = result.is_err();
                let item = result.map(pb::SuggestResponse::from).map_err(|err| {
                    log_error(&err);
                    Status::from(err)
                });
                if sender.send(item).await.is_err() || failed {
                    return;
                }
                conversation.extend(own_history);
                conversation.push(Turn { role: Role::Buyer, text });
                if conversation.len() > MAX_HISTORY_TURNS {
                    conversation.drain(..conversation.len() - MAX_HISTORY_TURNS);
                }
            }
        });
        Ok(Response::new(Box::pin(ReceiverStream::new(receiver))))
    }

    async fn reload_corpus(
        &self,
        request: Request<pb::ReloadCorpusRequest>,
    ) -> Result<Response<pb::ReloadCorpusResponse>, Status> {
        self.authorize(&request)?;
        let handle = self.engine.clone();
        let result = tokio::task::spawn_blocking(move || handle.reload())
            .await
            .map_err(|err| Status::internal(format!("reload failed: {err}")))?;
        match result {
            Ok(num_scripts) => {
                info!(num_scripts, "corpus reloaded");
                Ok(Response::new(pb::ReloadCorpusResponse { num_scripts: num_scripts as u32 }))
            }
            Err(err) => {
                warn!(error = %err, "corpus reload rejected, the old corpus keeps serving");
                Err(err.into())
            }
        }
    }
}

impl ReplyEngineService {
    fn authorize<T>(&self, request: &Request<T>) -> Result<(), Status> {
        let Some(expected) = &self.admin_token_opt else {
            return Err(Error::Unauthenticated("admin calls are disabled: no admin token is configured".into()).into());
        };
        let given = request
            .metadata()
            .get("authorization")
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "));
        if given != Some(expected.as_str()) {
            return Err(Error::Unauthenticated("missing or wrong bearer token".into()).into());
        }
        Ok(())
    }
}

fn log_error(error: &Error) {
    warn!(error_code = error.error_code(), error = %error, "request failed");
}

/// Serves the engine on `listener` until `shutdown` resolves: the `ReplyEngine` service, health
/// (SERVING once the corpus is indexed, NOT_SERVING when shutting down) and reflection.
pub async fn serve(
    engine: EngineHandle,
    listener: tokio::net::TcpListener,
    config: ServerConfig,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), tonic::transport::Error> {
    let (health_reporter, health_service) = tonic_health::server::health_reporter();
    health_reporter.set_serving::<ReplyEngineServer<ReplyEngineService>>().await;
    let reflection_v1 = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1()
        .expect("the embedded descriptor set is valid");
    let reflection_v1alpha = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1alpha()
        .expect("the embedded descriptor set is valid");
    let service = ReplyEngineService::new(engine, &config);
    let mut builder = tonic::transport::Server::builder();
    if let Some((cert, key)) = &config.tls_opt {
        let identity = tonic::transport::Identity::from_pem(cert, key);
        builder = builder.tls_config(tonic::transport::ServerTlsConfig::new().identity(identity))?;
    }
    let local_addr: Option<SocketAddr> = listener.local_addr().ok();
    info!(addr = ?local_addr, "serving");
    let reporter = health_reporter.clone();
    let shutdown = async move {
        shutdown.await;
        reporter.set_not_serving::<ReplyEngineServer<ReplyEngineService>>().await;
        info!("shutting down");
    };
    // Replies are small and latency matters: send them at once (no Nagle delay), and let the
    // answers that are ready together share a write (see `coalesce`).
    let incoming = tokio_stream::wrappers::TcpListenerStream::new(listener).map(|stream| {
        stream.map(|stream| {
            let _ = stream.set_nodelay(true);
            CoalescingStream::new(stream)
        })
    });
    builder
        .add_service(health_service)
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha)
        .add_service(
            ReplyEngineServer::new(service)
                .max_decoding_message_size(TRANSPORT_MAX_MESSAGE_BYTES)
                .max_encoding_message_size(TRANSPORT_MAX_MESSAGE_BYTES),
        )
        .serve_with_incoming_shutdown(incoming, shutdown)
        .await
}
