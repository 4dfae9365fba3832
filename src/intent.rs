//! Intent classification: a linear model over word and character n-grams (see `model.rs`),
//! trained at corpus load from the multilingual examples in `corpus/train/`, and, for a message
//! with history, the context model (see `context.rs`) that weighs it against the conversation's
//! topic, trained from the labelled conversations in `corpus/threads/`.

use crate::context::{argmax, is_small_talk, ContextExample, ContextModel, ContextTraining, Regime};
use crate::corpus::{Corpus, INTENTS};
use crate::escalation::SignalLexicon;
use crate::message::{IntentScore, Role, Turn};
use crate::model::{CorpusFeatures, Features, LinearModel, TrainOptions};

/// Least probability of its main intent for a text to count as saying something of substance.
const SUBSTANTIVE: f32 = 0.4;
/// At most this many intents are reported.
const MAX_REPORTED: usize = 5;
/// Intents below this score are not reported (the top one always is).
const MIN_REPORTED: f32 = 0.05;

#[derive(Debug, Clone)]
pub struct IntentClassifier {
    model: LinearModel,
    context: ContextModel,
}

impl IntentClassifier {
    /// Trains the message model on `corpus.train` (examples with an unknown intent are refused by
    /// lint earlier), then the context model on `corpus.threads`.
    pub fn train(corpus: &Corpus, features: &CorpusFeatures, signals: &SignalLexicon) -> IntentClassifier {
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
        let mut classifier = IntentClassifier {
            model: LinearModel::train(labels, &examples, TrainOptions::default()),
            context: ContextModel::default(),
        };
        let threads: Vec<ContextExample> = corpus
            .threads
            .iter()
            .filter(|thread| !thread.history.is_empty())
            .filter_map(|thread| {
                let label = label_of(&thread.intent)?;
                let probabilities = classifier.message_probabilities(&thread.text, &Features::of(&thread.text));
                let regime = Regime::of(&thread.text, &probabilities, &signals.signals_of(&thread.text), is_waiting(&thread.history));
                let topic = classifier.topic(&thread.history);
                Some(ContextExample { probabilities, topic, regime, label })
            })
            .collect();
        classifier.context = ContextModel::train(&threads, ContextTraining::default());
        // Its fit on the threads is only worth scoring when someone reads it.
        if tracing::enabled!(tracing::Level::DEBUG) {
            let correct = threads
                .iter()
                .filter(|e| argmax(&classifier.context.scores(&e.probabilities, &e.topic, &e.regime)).0 == e.label)
                .count();
            tracing::debug!(
                threads = threads.len(),
                correct,
                message_weight = ?classifier.context.message_weights().collect::<Vec<_>>(),
                carry = ?classifier.context.carry_weights().collect::<Vec<_>>(),
                "context model trained"
            );
        }
        classifier
    }

    /// Probabilities of the 19 intents for one text, in `INTENTS` order.
    pub fn probabilities(&self, text: &str) -> Vec<f32> {
        self.model.predict(&Features::of(text))
    }

    /// Probabilities of the newest message on its own. A greeting or thanks before a request does
    /// not make the message a greeting ("ok got it, thanks. do you have it in brown?"): when the
    /// whole reads as a greeting, its leading greeting clauses are set aside and the rest, if it
    /// asks for something, decides.
    pub fn message_probabilities(&self, text: &str, features: &Features) -> Vec<f32> {
        let whole = self.model.predict(features);
        if !is_greeting(argmax(&whole).0) {
            return whole;
        }
        let clauses = split_clauses(text);
        let mut start = 0;
        while start + 1 < clauses.len() && is_greeting(argmax(&self.probabilities(clauses[start])).0) {
            start += 1;
        }
        if start == 0 {
            return whole;
        }
        let rest = self.probabilities(&clauses[start..].join(" "));
        if is_small_talk(argmax(&rest).0) {
            whole
        } else {
            rest
        }
    }

    /// Whether a text clearly says something of substance: its main intent is neither a greeting
    /// nor other, and the model is fairly sure of it ("Hello, welcome!", "one moment please" are
    /// not).
    pub fn is_substantive(&self, text: &str) -> bool {
        let (top_index, top) = argmax(&self.probabilities(text));
        !is_small_talk(top_index) && top >= SUBSTANTIVE
    }

    /// Ranks intents for the newest message, in the context of the history when there is one.
    pub fn classify(&self, text: &str, features: &Features, history: &[Turn], signals: &crate::escalation::MessageSignals) -> Vec<IntentScore> {
        let probabilities = self.message_probabilities(text, features);
        if history.is_empty() {
            return rank(&probabilities);
        }
        let topic = self.topic(history);
        let regime = Regime::of(text, &probabilities, signals, is_waiting(history));
        rank(&self.context.probabilities(&probabilities, &topic, &regime))
    }

    /// The conversation's topic: intent probabilities of the earlier turns, averaged with the
    /// newest weighing most and the seller's turns less than the buyer's, small talk left out. A
    /// topic read from unsure turns stays weak: it is an average, not scaled up.
    fn topic(&self, history: &[Turn]) -> Vec<f32> {
        let mut topic = vec![0f32; INTENTS.len()];
        let mut decay = 1.0;
        let mut total = 0.0;
        for turn in history.iter().rev().take(TOPIC_TURNS) {
            let role_weight = if turn.role == Role::Seller { SELLER_WEIGHT } else { 1.0 };
            let probabilities = self.message_probabilities(&turn.text, &Features::of(&turn.text));
            // Turns of small talk ("hello?", "??") say nothing of the topic.
            if is_small_talk(argmax(&probabilities).0) {
                continue;
            }
            for (i, p) in probabilities.iter().enumerate() {
                if !is_small_talk(i) {
                    topic[i] += decay * role_weight * p;
                }
            }
            total += decay * role_weight;
            decay *= TOPIC_DECAY;
        }
        if total > 0.0 {
            topic.iter_mut().for_each(|t| *t /= total);
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

/// Whether the buyer's last turn is still unanswered.
fn is_waiting(history: &[Turn]) -> bool {
    history.last().is_some_and(|turn| turn.role != Role::Seller)
}

fn is_greeting(index: usize) -> bool {
    INTENTS.get(index) == Some(&"greeting")
}

/// Clauses of a text, split at sentence and clause punctuation of the 13 languages.
fn split_clauses(text: &str) -> Vec<&str> {
    text.split(|c: char| {
        matches!(c, '.' | ',' | '!' | '?' | ';' | '\n' | '~' | '…' | '。' | '，' | '！' | '？' | '、' | '；' | '～' | '،' | '؟' | '؛')
    })
    .map(str::trim)
    .filter(|clause| clause.chars().any(char::is_alphanumeric))
    .collect()
}

fn rank(scores: &[f32]) -> Vec<IntentScore> {
    // Order the intents by score (a stable sort: ties keep `INTENTS` order), then name only
    // those reported.
    let mut order: Vec<usize> = (0..scores.len().min(INTENTS.len())).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    order
        .into_iter()
        .enumerate()
        .take_while(|&(rank, i)| rank == 0 || (scores[i] >= MIN_REPORTED && rank < MAX_REPORTED))
        .map(|(_, i)| IntentScore { intent: INTENTS[i].to_string(), score: scores[i] })
        .collect()
}
