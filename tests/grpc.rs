//! The gRPC API through the generated client against a real server on loopback.

mod common;

use common::TestServer;
use reply_engine::grpc::pb;
use tokio_stream::StreamExt;
use tonic::Code;

fn request(text: &str) -> pb::SuggestRequest {
    pb::SuggestRequest { text: text.to_string(), ..Default::default() }
}

#[tokio::test]
async fn suggest_returns_classification_and_replies() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    let response = client
        .suggest(pb::SuggestRequest { country: "US".into(), ..request("Can you give me a discount if I buy 3?") })
        .await
        .unwrap()
        .into_inner();
    let classification = response.classification.unwrap();
    assert_eq!(classification.intent, "bargaining");
    assert_eq!(classification.language, "en");
    assert_eq!(classification.country, "US");
    assert_eq!(classification.country_source, "given");
    assert!(!classification.intents.is_empty());
    assert_eq!(response.replies.len(), 3);
    for reply in &response.replies {
        assert_eq!(reply.language, "en");
        assert!(reply.script_id.starts_with("en.bargaining."), "{}", reply.script_id);
        assert!(!reply.text.contains('{'), "raw placeholder in {}", reply.text);
    }
    assert!(response.replies[0].applied_rules.iter().any(|r| r == "us_quality_first"));
}

#[tokio::test]
async fn classify_answers_without_replies() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    let classification = client.classify(request("cadê meu pedido? já faz 40 dias")).await.unwrap().into_inner();
    assert_eq!(classification.language, "pt");
    assert_eq!(classification.intent, "not_received");
    assert_eq!(classification.country, "", "the language alone never gives a country");
}

#[tokio::test]
async fn suggest_stream_answers_in_order_with_the_conversation_so_far() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    let requests = vec![
        request("When will you ship my order?"),
        pb::SuggestRequest {
            history: vec![pb::Turn {
                role: pb::Role::Seller as i32,
                text: "We ship within 48 hours by standard shipping.".into(),
            }],
            ..request("ok and how many days to arrive?")
        },
        request("hello?"),
        request("??"),
        request("anyone"),
    ];
    let mut stream = client.suggest_stream(tokio_stream::iter(requests)).await.unwrap().into_inner();
    let mut responses = Vec::new();
    while let Some(item) = stream.next().await {
        responses.push(item.unwrap());
    }
    assert_eq!(responses.len(), 5);
    let intents: Vec<String> = responses.iter().map(|r| r.classification.clone().unwrap().intent).collect();
    assert_eq!(intents[0], "shipping_time");
    assert_eq!(intents[1], "shipping_time");
    let last = responses[4].classification.clone().unwrap();
    assert!(last.escalate, "three short messages in a row escalate: {last:?}");
    assert!(last.escalate_reasons.iter().any(|r| r == "repeated_short_messages"));
}

#[tokio::test]
async fn bad_input_gets_clear_errors_and_the_server_keeps_serving() {
    let server = TestServer::start().await;
    let mut client = server.client().await;

    let status = client.suggest(request("   ")).await.unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(status.message().contains("text"));

    let long = "a".repeat(reply_engine::request::MAX_TEXT_CHARS + 1);
    let status = client.suggest(request(&long)).await.unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);

    let status = client.suggest(pb::SuggestRequest { country: "Brazil".into(), ..request("oi") }).await.unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(status.message().contains("country"), "{}", status.message());

    let status = client.suggest(pb::SuggestRequest { date: "26/11/2026".into(), ..request("oi") }).await.unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(status.message().contains("date"), "{}", status.message());

    let huge_history: Vec<pb::Turn> = (0..40)
        .map(|_| pb::Turn { role: pb::Role::Buyer as i32, text: "x".repeat(3_900) })
        .collect();
    let status = client.suggest(pb::SuggestRequest { history: huge_history, ..request("hi") }).await.unwrap_err();
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");

    let response = client.suggest(request("hello, are you there?")).await.unwrap().into_inner();
    assert_eq!(response.classification.unwrap().intent, "greeting");
}

#[tokio::test]
async fn health_reports_serving() {
    use tonic_health::pb::health_client::HealthClient;
    use tonic_health::pb::HealthCheckRequest;
    let server = TestServer::start().await;
    let mut health = HealthClient::new(server.channel().await);
    let response = health
        .check(HealthCheckRequest { service: "chatassist.v1.ReplyEngine".into() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(response.status, tonic_health::pb::health_check_response::ServingStatus::Serving as i32);
}

#[tokio::test]
async fn reflection_lists_the_service() {
    use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
    use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
    use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;
    use tonic_reflection::pb::v1::ServerReflectionRequest;
    let server = TestServer::start().await;
    let mut reflection = ServerReflectionClient::new(server.channel().await);
    let request = ServerReflectionRequest { host: String::new(), message_request: Some(MessageRequest::ListServices(String::new())) };
    let mut stream = reflection.server_reflection_info(tokio_stream::iter(vec![request])).await.unwrap().into_inner();
    let response = stream.next().await.unwrap().unwrap();
    let Some(MessageResponse::ListServicesResponse(list)) = response.message_response else {
        panic!("unexpected reflection response");
    };
    let names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
    assert!(names.contains(&"chatassist.v1.ReplyEngine".to_string()), "{names:?}");

    use tonic_reflection::pb::v1alpha::server_reflection_client::ServerReflectionClient as AlphaClient;
    use tonic_reflection::pb::v1alpha::server_reflection_request::MessageRequest as AlphaRequest;
    let mut alpha = AlphaClient::new(server.channel().await);
    let request = tonic_reflection::pb::v1alpha::ServerReflectionRequest {
        host: String::new(),
        message_request: Some(AlphaRequest::ListServices(String::new())),
    };
    let mut stream = alpha.server_reflection_info(tokio_stream::iter(vec![request])).await.unwrap().into_inner();
    assert!(stream.next().await.unwrap().is_ok());
}

#[tokio::test]
async fn reload_requires_the_admin_token() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    let status = client.reload_corpus(pb::ReloadCorpusRequest {}).await.unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);
}

/// The same message gives the same answer over gRPC and from the CLI.
#[tokio::test]
async fn grpc_and_cli_agree() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    let text = "a cor veio totally different da foto, quero devolver";
    let response = client
        .suggest(pb::SuggestRequest { country: "BR".into(), date: "2026-05-02".into(), ..request(text) })
        .await
        .unwrap()
        .into_inner();
    let output = std::process::Command::new(common::binary())
        .args(["suggest", text, "--country", "BR", "--date", "2026-05-02"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let cli: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let classification = response.classification.unwrap();
    assert_eq!(cli["classification"]["intent"], classification.intent);
    assert_eq!(cli["classification"]["language"], classification.language);
    assert_eq!(cli["classification"]["country"], classification.country);
    assert_eq!(cli["classification"]["escalate"], classification.escalate);
    let cli_replies = cli["replies"].as_array().unwrap();
    assert_eq!(cli_replies.len(), response.replies.len());
    for (cli_reply, reply) in cli_replies.iter().zip(&response.replies) {
        assert_eq!(cli_reply["script_id"], reply.script_id);
        assert_eq!(cli_reply["text"], reply.text);
        let rules: Vec<String> = serde_json::from_value(cli_reply["applied_rules"].clone()).unwrap();
        assert_eq!(rules, reply.applied_rules);
    }
}
