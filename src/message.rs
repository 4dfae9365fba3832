//! Plain domain types: what comes in (a buyer message with its context) and what goes out
//! (a classification and ranked replies). No transport types here.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// Who wrote a turn of the conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    #[default]
    #[serde(alias = "unspecified")]
    Unspecified,
    Buyer,
    Seller,
}

/// One earlier turn of the conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Turn {
    #[serde(default)]
    pub role: Role,
    pub text: String,
}

/// A validated request: the buyer's newest message and what the platform knows around it.
#[derive(Debug, Clone, Default)]
pub struct Message {
    pub text: String,
    /// ISO 3166-1 alpha-2, upper case, from the platform.
    pub country_opt: Option<String>,
    /// ISO 639-1 hint.
    pub language_hint_opt: Option<String>,
    /// The buyer's local date; `None` means today.
    pub date_opt: Option<NaiveDate>,
    /// Oldest first.
    pub history: Vec<Turn>,
    pub max_replies: usize,
    /// Shop variables for placeholders.
    pub context: BTreeMap<String, String>,
}

/// Where the reported country came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CountrySource {
    Given,
    Cue,
}

impl CountrySource {
    pub fn as_str(&self) -> &'static str {
        match self {
            CountrySource::Given => "given",
            CountrySource::Cue => "cue",
        }
    }
}

/// One intent with its score (a probability).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IntentScore {
    pub intent: String,
    pub score: f32,
}

/// What the engine understood of the message.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Classification {
    pub intent: String,
    pub intents: Vec<IntentScore>,
    pub language: String,
    pub country_opt: Option<String>,
    pub country_source_opt: Option<CountrySource>,
    pub escalate: bool,
    pub escalate_reasons: Vec<String>,
    pub satisfied: bool,
    /// The buyer's tone, used to shape the top reply.
    pub angry: bool,
    pub anxious: bool,
}

/// One ranked reply.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScoredReply {
    pub script_id: String,
    pub text: String,
    pub language: String,
    pub score: f32,
    pub applied_rules: Vec<String>,
}

/// The engine's answer to one message.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Suggestion {
    pub classification: Classification,
    pub replies: Vec<ScoredReply>,
}
