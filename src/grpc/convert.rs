//! Conversions between generated protobuf types and the core's plain types.

use crate::grpc::pb;
use crate::message::{Classification, Role, ScoredReply, Suggestion, Turn};
use crate::request::RawRequest;

impl From<pb::SuggestRequest> for RawRequest {
    fn from(request: pb::SuggestRequest) -> RawRequest {
        RawRequest {
            text: request.text,
            country: request.country,
            language: request.language,
            date: request.date,
            history: request.history.into_iter().map(Turn::from).collect(),
            max_replies: request.max_replies,
            context: request.context.into_iter().collect(),
        }
    }
}

impl From<pb::Turn> for Turn {
    fn from(turn: pb::Turn) -> Turn {
        let role = match pb::Role::try_from(turn.role).unwrap_or(pb::Role::Unspecified) {
            pb::Role::Buyer => Role::Buyer,
            pb::Role::Seller => Role::Seller,
            pb::Role::Unspecified => Role::Unspecified,
        };
        Turn { role, text: turn.text }
    }
}

impl From<Classification> for pb::Classification {
    fn from(classification: Classification) -> pb::Classification {
        pb::Classification {
            intent: classification.intent,
            intents: classification
                .intents
                .into_iter()
                .map(|s| pb::IntentScore { intent: s.intent, score: s.score })
                .collect(),
            language: classification.language,
            country: classification.country_opt.unwrap_or_default(),
            country_source: classification.country_source_opt.map(|s| s.as_str().to_string()).unwrap_or_default(),
            escalate: classification.escalate,
            escalate_reasons: classification.escalate_reasons,
            satisfied: classification.satisfied,
        }
    }
}

impl From<ScoredReply> for pb::Reply {
    fn from(reply: ScoredReply) -> pb::Reply {
        pb::Reply {
            script_id: reply.script_id,
            text: reply.text,
            language: reply.language,
            score: reply.score,
            applied_rules: reply.applied_rules,
        }
    }
}

impl From<Suggestion> for pb::SuggestResponse {
    fn from(suggestion: Suggestion) -> pb::SuggestResponse {
        pb::SuggestResponse {
            classification: Some(suggestion.classification.into()),
            replies: suggestion.replies.into_iter().map(pb::Reply::from).collect(),
        }
    }
}
