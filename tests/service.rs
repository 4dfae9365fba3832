//! The service under load and change: many concurrent clients, hot reload with the admin token,
//! load shedding.

mod common;

use common::TestServer;
use reply_engine::corpus::CorpusSource;
use reply_engine::grpc::pb;
use reply_engine::grpc::{EngineHandle, ServerConfig};
use reply_engine::Engine;
use tonic::Code;

/// Bounded: 16 clients × 25 requests, each request carrying a value that must come back in
/// its own reply.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_clients_each_get_their_own_answer() {
    let server = TestServer::start().await;
    let channel = server.channel().await;
    let mut tasks = Vec::new();
    for client_id in 0..16 {
        let mut client = pb::reply_engine_client::ReplyEngineClient::new(channel.clone());
        tasks.push(tokio::spawn(async move {
            for n in 0..25 {
                let marker = format!("US${client_id}.{n:02}");
                let mut context = std::collections::HashMap::new();
                context.insert("free_shipping_threshold".to_string(), marker.clone());
                let request = pb::SuggestRequest {
                    text: "do you offer free shipping?".into(),
                    context,
                    max_replies: 10,
                    ..Default::default()
                };
                let response = client.suggest(request).await.expect("every request is answered").into_inner();
                assert!(
                    response.replies.iter().any(|r| r.text.contains(&marker)),
                    "reply for {marker} does not carry it: {:?}",
                    response.replies
                );
            }
            25usize
        }));
    }
    let mut answered = 0;
    for task in tasks {
        answered += task.await.unwrap();
    }
    assert_eq!(answered, 16 * 25);
}

/// Whether a request runs where it was decoded or on the blocking pool changes nothing in its
/// answer: the same requests through a server that keeps every request inline and one that
/// sends every request to the pool.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inline_and_pooled_requests_get_the_same_answers() {
    let engine = common::engine();
    let inline = TestServer::start_with(
        EngineHandle::from_shared(engine.clone()),
        ServerConfig { inline_max_bytes: usize::MAX, ..ServerConfig::default() },
    )
    .await;
    let pooled = TestServer::start_with(
        EngineHandle::from_shared(engine),
        ServerConfig { inline_max_bytes: 0, ..ServerConfig::default() },
    )
    .await;
    let history = vec![
        pb::Turn { role: pb::Role::Buyer as i32, text: "I paid for two phone cases last week".into() },
        pb::Turn { role: pb::Role::Seller as i32, text: "Thank you! They will ship within 3 days.".into() },
    ];
    let requests = [
        pb::SuggestRequest { text: "where is my parcel??".into(), country: "US".into(), ..Default::default() },
        pb::SuggestRequest { text: "ainda não chegou, quero reembolso".into(), history, max_replies: 5, ..Default::default() },
        pb::SuggestRequest { text: "too expensive, any discount? ".repeat(60), country: "SA".into(), ..Default::default() },
    ];
    let (mut inline_client, mut pooled_client) = (inline.client().await, pooled.client().await);
    for request in requests {
        let date = "2026-03-01".to_string();
        let request = pb::SuggestRequest { date, ..request };
        let a = inline_client.suggest(request.clone()).await.unwrap().into_inner();
        let b = pooled_client.suggest(request).await.unwrap().into_inner();
        assert!(!a.replies.is_empty());
        assert_eq!(a, b);
    }
}

fn with_token<T>(message: T, token: &str) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request.metadata_mut().insert("authorization", format!("Bearer {token}").parse().unwrap());
    request
}

#[tokio::test]
async fn reload_swaps_a_valid_corpus_and_rejects_a_broken_one() {
    let dir = common::corpus_copy();
    let engine = Engine::load(CorpusSource::Dir(dir.path().to_path_buf())).unwrap();
    let before = engine.num_scripts();
    let config = ServerConfig { admin_token_opt: Some("s3cret".into()), ..ServerConfig::default() };
    let server = TestServer::start_with(EngineHandle::new(engine), config).await;
    let mut client = server.client().await;

    // Wrong token: refused.
    let status = client.reload_corpus(with_token(pb::ReloadCorpusRequest {}, "nope")).await.unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);

    // A broken corpus is rejected with its errors; the old corpus keeps serving.
    let scripts = dir.path().join("scripts/en.jsonl");
    let original = std::fs::read_to_string(&scripts).unwrap();
    std::fs::write(&scripts, format!("{original}{{\"id\":\"en.x\",\"intent\":\"nope\",\"language\":\"en\",\"text\":\"hi\"}}\n")).unwrap();
    let status = client.reload_corpus(with_token(pb::ReloadCorpusRequest {}, "s3cret")).await.unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition);
    assert!(status.message().contains("unknown intent `nope`"), "{}", status.message());
    let response = client.suggest(pb::SuggestRequest { text: "hello".into(), ..Default::default() }).await.unwrap();
    assert!(!response.into_inner().replies.is_empty());

    // A valid change is swapped in.
    let extra = r#"{"id":"en.greeting.reload_check","intent":"greeting","language":"en","text":"Hello and welcome back to our shop! What can I help you find today?"}"#;
    std::fs::write(&scripts, format!("{original}{extra}\n")).unwrap();
    let response = client.reload_corpus(with_token(pb::ReloadCorpusRequest {}, "s3cret")).await.unwrap().into_inner();
    assert_eq!(response.num_scripts as usize, before + 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_overload_every_request_is_answered_or_shed() {
    let config = ServerConfig { max_concurrent: 1, ..ServerConfig::default() };
    let server = TestServer::start_with(EngineHandle::from_shared(common::engine()), config).await;
    let channel = server.channel().await;
    let long_history: Vec<pb::Turn> = (0..50)
        .map(|i| pb::Turn { role: pb::Role::Buyer as i32, text: format!("message number {i}: where is my parcel? it has been a long time") })
        .collect();
    let mut tasks = Vec::new();
    for _ in 0..32 {
        let mut client = pb::reply_engine_client::ReplyEngineClient::new(channel.clone());
        let history = long_history.clone();
        tasks.push(tokio::spawn(async move {
            client.suggest(pb::SuggestRequest { text: "and now?".into(), history, ..Default::default() }).await
        }));
    }
    let mut ok = 0;
    let mut shed = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => ok += 1,
            Err(status) if status.code() == Code::ResourceExhausted => shed += 1,
            Err(status) => panic!("unexpected {status:?}"),
        }
    }
    assert!(ok >= 1, "some requests are served");
    assert_eq!(ok + shed, 32, "every request gets an answer or a clear refusal");
}
