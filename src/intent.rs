//! Intent classification: a linear model over word and character n-grams (see `model.rs`),
//! trained at corpus load from the multilingual examples in `corpus/train/`, with the
//! conversation's history blended in when the newest message alone is unsure.

use crate::corpus::{Corpus, INTENTS};
use crate::message::{IntentScore, Role, Turn};
use crate::model::{CorpusFeatures, Features, LinearModel, TrainOptions};

/// Below this top probability the newest message leans on the history.
const UNSURE: f32 = 0.55;
/// At most this many intents are reported.
const MAX_REPORTED: usize = 5;
/// Intents below this score are not reported (the top one always is).
const MIN_REPORTED: f32 = 0.05;

#[derive(Debug, Clone)]
pub struct IntentClassifier {
    model: LinearModel,
}

impl IntentClassifier {
    /// Trains on `corpus.train`; examples with an unknown intent are refused by lint earlier.
    pub fn train(corpus: &Corpus, features: &CorpusFeatures) -> IntentClassifier {
        let labels: Vec<String> = INTENTS.iter().map(|i| i.to_string()).collect();
        let label_of = |intent: &str| INTENTS.iter().position(|i| *i == intent);
        let examples: Vec<(&Features, usize)> = corpus
            .train
            .iter()
            .zip(&features.train)
            .filter_map(|(example, features)| Some((features, label_of(&example.intent)?)))
            // The reply scripts carry each intent's vocabulary too (a refund script speaks of
            // refunds), which widens what the model knows beyond the buyer examples.
            .chain(
                corpus
                    .scripts
                    .iter()
                    .zip(&features.scripts)
                    .filter_map(|(script, features)| Some((features, label_of(&script.intent)?))),
            )
            .collect();
        IntentClassifier { model: LinearModel::train(labels, &examples, TrainOptions::default()) }
    }

    /// Probabilities of the 19 intents for one text, in `INTENTS` order.
    pub fn probabilities(&self, text: &str) -> Vec<f32> {
        self.model.predict(&Features::of(text))
    }

    /// Ranks intents for the newest message. The conversation's topic is carried over when the
    /// message alone is unsure or is small talk ("and how long?" after a shipping question, "still
    /// nothing" after a tracking answer, "ok, I'll wait for the tracking" after a complaint),
    /// while a pure "ok thanks" stays a greeting.
    /// `closing` marks a pure acknowledgement ("ok thanks", "perfect 👍"), which stays small talk.
    pub fn classify(&self, text: &str, history: &[Turn], closing: bool) -> Vec<IntentScore> {
        let mut scores = self.probabilities(text);
        let (top_index, top) = argmax(&scores);
        let small_talk = is_small_talk(top_index);
        if history.is_empty() || (closing && small_talk) {
            return rank(&scores);
        }
        let topic = self.topic(history);
        let weight = if small_talk {
            SMALL_TALK_CARRY
        } else if top < UNSURE {
            ALWAYS_CARRY + UNSURE_CARRY * (UNSURE - top) / UNSURE
        } else {
            ALWAYS_CARRY
        };
        for (score, topic_score) in scores.iter_mut().zip(&topic) {
            *score += weight * topic_score;
        }
        let sum: f32 = scores.iter().sum();
        scores.iter_mut().for_each(|s| *s /= sum);
        rank(&scores)
    }

    /// The conversation's topic: intent probabilities of the earlier turns, newest weighing most,
    /// the seller's turns less than the buyer's, small talk left out; sums to 1 (or all zero).
    fn topic(&self, history: &[Turn]) -> Vec<f32> {
        let mut topic = vec![0f32; INTENTS.len()];
        let mut decay = 1.0;
        for turn in history.iter().rev().take(TOPIC_TURNS) {
            let role_weight = if turn.role == Role::Seller { SELLER_WEIGHT } else { 1.0 };
            let probabilities = self.probabilities(&turn.text);
            // Turns of small talk ("hello?", "??") say nothing of the topic.
            if is_small_talk(argmax(&probabilities).0) {
                continue;
            }
            for (i, p) in probabilities.iter().enumerate() {
                if !is_small_talk(i) {
                    topic[i] += decay * role_weight * p;
                }
            }
            decay *= TOPIC_DECAY;
        }
        let sum: f32 = topic.iter().sum();
        if sum > 0.0 {
            topic.iter_mut().for_each(|t| *t /= sum);
        }
        topic
    }
}

/// Turns of history that make the topic.
const TOPIC_TURNS: usize = 6;
/// Each older turn counts this much less.
const TOPIC_DECAY: f32 = 0.7;
/// A seller's turn counts this much of a buyer's.
const SELLER_WEIGHT: f32 = 0.6;
/// How much topic is added to any message with history, to a small-talk one, and (at most, on
/// top) to an unsure one.
const ALWAYS_CARRY: f32 = 0.8;
const SMALL_TALK_CARRY: f32 = 3.0;
const UNSURE_CARRY: f32 = 1.0;

fn argmax(scores: &[f32]) -> (usize, f32) {
    scores.iter().cloned().enumerate().fold((0, f32::MIN), |best, (i, s)| if s > best.1 { (i, s) } else { best })
}

/// Greeting and other: never the topic a conversation carries.
fn is_small_talk(index: usize) -> bool {
    matches!(INTENTS[index], "greeting" | "other")
}

fn rank(scores: &[f32]) -> Vec<IntentScore> {
    let mut ranked: Vec<IntentScore> = INTENTS
        .iter()
        .zip(scores)
        .map(|(intent, score)| IntentScore { intent: intent.to_string(), score: *score })
        .collect();
    ranked.sort_by(|a, b| b.score.total_cmp(&a.score));
    let mut reported: Vec<IntentScore> = Vec::new();
    for (i, entry) in ranked.into_iter().enumerate() {
        if i > 0 && (entry.score < MIN_REPORTED || i >= MAX_REPORTED) {
            break;
        }
        reported.push(entry);
    }
    reported
}
