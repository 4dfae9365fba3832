//! TLS: the server serves a PEM certificate through rustls and a client that trusts it talks
//! to it.

mod common;

use common::TestServer;
use reply_engine::grpc::pb;
use reply_engine::grpc::{EngineHandle, ServerConfig};
use tonic::transport::{Certificate, Channel, ClientTlsConfig};

#[tokio::test]
async fn serves_over_tls() {
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let cert_pem = certified.cert.pem();
    let key_pem = certified.signing_key.serialize_pem();
    let config = ServerConfig { tls_opt: Some((cert_pem.clone().into_bytes(), key_pem.into_bytes())), ..ServerConfig::default() };
    let server = TestServer::start_with(EngineHandle::from_shared(common::engine()), config).await;

    let tls = ClientTlsConfig::new().ca_certificate(Certificate::from_pem(&cert_pem)).domain_name("localhost");
    let endpoint = Channel::from_shared(format!("https://localhost:{}", server.addr.port())).unwrap().tls_config(tls).unwrap();
    let mut channel = None;
    for _ in 0..100 {
        if let Ok(connected) = endpoint.connect().await {
            channel = Some(connected);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let mut client = pb::reply_engine_client::ReplyEngineClient::new(channel.expect("TLS connection"));
    let response = client
        .suggest(pb::SuggestRequest { text: "when will you ship my order?".into(), ..Default::default() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(response.classification.unwrap().intent, "shipping_time");

    // A plaintext client is refused.
    let plain = Channel::from_shared(format!("http://127.0.0.1:{}", server.addr.port())).unwrap().connect().await;
    if let Ok(plain) = plain {
        let mut client = pb::reply_engine_client::ReplyEngineClient::new(plain);
        assert!(client.suggest(pb::SuggestRequest { text: "hi".into(), ..Default::default() }).await.is_err());
    }
}
