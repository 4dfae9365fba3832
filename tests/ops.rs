//! Operations through the real binary: configuration file, Prometheus metrics, graceful
//! shutdown on SIGTERM.

mod common;

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::time::Duration;

use reply_engine::grpc::pb;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn http_get(addr: &str, path: &str) -> String {
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    write!(stream, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").unwrap();
    let mut body = String::new();
    stream.read_to_string(&mut body).unwrap();
    body
}

#[tokio::test]
async fn serves_metrics_from_a_config_file_and_stops_on_sigterm() {
    let grpc_addr = format!("127.0.0.1:{}", free_port());
    let metrics_addr = format!("127.0.0.1:{}", free_port());
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("reply-engine.toml");
    std::fs::write(&config, format!("addr = \"{grpc_addr}\"\nmax_concurrent = 64\nshutdown_grace_secs = 5\n")).unwrap();
    let mut child = Command::new(common::binary())
        .arg("serve")
        .arg("--config")
        .arg(&config)
        .env("REPLY_ENGINE_METRICS_ADDR", &metrics_addr)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();

    let endpoint = format!("http://{grpc_addr}");
    let mut client = None;
    for _ in 0..300 {
        if let Ok(connected) = pb::reply_engine_client::ReplyEngineClient::connect(endpoint.clone()).await {
            client = Some(connected);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut client = client.expect("the server comes up");
    let response = client
        .suggest(pb::SuggestRequest { text: "WHERE IS MY ORDER, I WILL OPEN A DISPUTE".into(), ..Default::default() })
        .await
        .unwrap()
        .into_inner();
    assert!(response.classification.unwrap().escalate);
    let _ = client.suggest(pb::SuggestRequest { text: " ".into(), ..Default::default() }).await;

    let metrics = http_get(&metrics_addr, "/metrics");
    assert!(metrics.contains("reply_engine_requests_total"), "{metrics}");
    assert!(metrics.contains("status=\"invalid_argument\""), "{metrics}");
    assert!(metrics.contains("reply_engine_escalations_total"), "{metrics}");
    assert!(metrics.contains("reply_engine_request_seconds"), "{metrics}");

    let status = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status().unwrap();
    assert!(status.success());
    let mut exited = None;
    for _ in 0..100 {
        if let Some(status) = child.try_wait().unwrap() {
            exited = Some(status);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let status = exited.unwrap_or_else(|| {
        let _ = child.kill();
        panic!("the server did not stop on SIGTERM");
    });
    assert!(status.success(), "{status:?}");
}
