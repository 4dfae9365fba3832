//! Intent classification: a linear model over word and character n-grams (see `model.rs`),
//! trained at corpus load from the multilingual examples in `corpus/train/`, with the
//! conversation's history blended in when the newest message alone is unsure.

use crate::corpus::{Corpus, INTENTS};
use crate::message::{IntentScore, Role, Turn};
use crate::model::{Features, LinearModel, TrainOptions};

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
    pub fn train(corpus: &Corpus) -> IntentClassifier {
        let labels: Vec<String> = INTENTS.iter().map(|i| i.to_string()).collect();
        let examples: Vec<(Features, usize)> = corpus
            .train
            .iter()
            .filter_map(|example| {
                let label = INTENTS.iter().position(|i| *i == example.intent)?;
                Some((Features::of(&example.text), label))
            })
            .collect();
        IntentClassifier { model: LinearModel::train(labels, &examples, TrainOptions::default()) }
    }

    /// Probabilities of the 19 intents for one text, in `INTENTS` order.
    pub fn probabilities(&self, text: &str) -> Vec<f32> {
        self.model.predict(&Features::of(text))
    }

    /// Ranks intents for the newest message, using the history when the message alone is unsure
    /// ("and how long?" after a shipping question, "still nothing" after a tracking answer).
    pub fn classify(&self, text: &str, history: &[Turn]) -> Vec<IntentScore> {
        let mut scores = self.probabilities(text);
        let top = scores.iter().cloned().fold(0.0, f32::max);
        if top < UNSURE {
            let weight = (UNSURE - top) / UNSURE;
            let last_buyer_opt = history.iter().rev().find(|turn| turn.role != Role::Seller);
            let last_seller_opt = history.iter().rev().find(|turn| turn.role == Role::Seller);
            if let Some(turn) = last_buyer_opt {
                blend(&mut scores, &self.probabilities(&turn.text), 0.9 * weight);
            }
            if let Some(turn) = last_seller_opt {
                blend(&mut scores, &self.probabilities(&turn.text), 0.5 * weight);
            }
            // Small talk is never what the history carries over.
            if last_buyer_opt.is_some() || last_seller_opt.is_some() {
                let sum: f32 = scores.iter().sum();
                scores.iter_mut().for_each(|s| *s /= sum);
            }
        }
        rank(&scores)
    }
}

fn blend(scores: &mut [f32], context: &[f32], weight: f32) {
    let greeting = INTENTS.iter().position(|i| *i == "greeting");
    let other = INTENTS.iter().position(|i| *i == "other");
    for (i, (score, context_score)) in scores.iter_mut().zip(context).enumerate() {
        if Some(i) == greeting || Some(i) == other {
            continue;
        }
        *score += weight * context_score;
    }
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
