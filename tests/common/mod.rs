//! Helpers shared by the integration tests: one engine per test binary, a real server on
//! 127.0.0.1:0 with the generated client, and the CLI binary.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use reply_engine::corpus::CorpusSource;
use reply_engine::grpc::pb::reply_engine_client::ReplyEngineClient;
use reply_engine::grpc::{serve, EngineHandle, ServerConfig};
use reply_engine::Engine;
use tokio::sync::oneshot;
use tonic::transport::Channel;

/// The built-in engine, loaded once per test binary.
pub fn engine() -> Arc<Engine> {
    static ENGINE: OnceLock<Arc<Engine>> = OnceLock::new();
    ENGINE.get_or_init(|| Arc::new(Engine::load(CorpusSource::BuiltIn).expect("built-in corpus loads"))).clone()
}

/// A running server; dropping it shuts the server down.
pub struct TestServer {
    pub addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(sender) = self.shutdown.take() {
            let _ = sender.send(());
        }
    }
}

impl TestServer {
    pub async fn start() -> TestServer {
        TestServer::start_with(EngineHandle::from_shared(engine()), ServerConfig::default()).await
    }

    pub async fn start_with(handle: EngineHandle, config: ServerConfig) -> TestServer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (sender, receiver) = oneshot::channel::<()>();
        tokio::spawn(async move {
            serve(handle, listener, config, async {
                let _ = receiver.await;
            })
            .await
            .unwrap();
        });
        TestServer { addr, shutdown: Some(sender) }
    }

    pub async fn channel(&self) -> Channel {
        let endpoint = format!("http://{}", self.addr);
        for _ in 0..100 {
            if let Ok(channel) = Channel::from_shared(endpoint.clone()).unwrap().connect().await {
                return channel;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        panic!("server did not come up on {}", self.addr);
    }

    pub async fn client(&self) -> ReplyEngineClient<Channel> {
        ReplyEngineClient::new(self.channel().await)
    }
}

/// The `reply-engine` binary built for these tests.
pub fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_reply-engine"))
}

pub fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

pub fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(name)
}

/// Copies a directory tree (a corpus to modify in a test).
pub fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// A temporary copy of the built-in corpus directory.
pub fn corpus_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus"), dir.path());
    dir
}
