//! The conversation's say in the intent. The newest message's own intent probabilities are
//! weighed against the topic of the earlier turns by a small log-linear model whose carry-over
//! weight depends on the kind of message: "hello??" or "still nothing" carry the topic, "ok got it,
//! thanks" closes it, a clear new question replaces it. Its few weights are learned at corpus load
//! from the labelled conversations in `corpus/threads/`, starting from (and pulled towards) a
//! hand-set prior, so that a small set of threads cannot push it far.

use crate::corpus::INTENTS;
use crate::escalation::MessageSignals;
use crate::model::softmax;

/// Features of the newest message that decide how much the topic carries over.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Regime {
    values: [f32; NUM_REGIME],
}

/// Names of the regime features, in order (for logs and tests).
pub const REGIME_NAMES: [&str; NUM_REGIME] =
    ["always", "small_talk", "ping", "unsure", "satisfied", "closing", "thanks", "frustration", "anger", "threat", "question", "short", "waiting"];
const NUM_REGIME: usize = 13;

impl Regime {
    /// `probabilities`: the message's own intent probabilities; `signals`: what the message shows
    /// of the buyer's state; `waiting`: the buyer's last turn is still unanswered (a "hello?" then
    /// is a nudge, not a greeting).
    pub fn of(text: &str, probabilities: &[f32], signals: &MessageSignals, waiting: bool) -> Regime {
        let (top_index, top) = argmax(probabilities);
        let satisfied = signals.satisfied();
        let question = text.chars().any(|c| matches!(c, '?' | '？' | '؟'));
        let letters = text.chars().filter(|c| c.is_alphanumeric()).count();
        let words = text.split_whitespace().count();
        let short = words <= 3 && letters <= 16;
        let flag = |b: bool| if b { 1.0 } else { 0.0 };
        Regime {
            values: [
                1.0,
                flag(is_small_talk(top_index)),
                // "hello??", "anyone?", "人呢": small talk that waits for an answer.
                flag(is_small_talk(top_index) && !satisfied && !signals.gratitude),
                1.0 - top,
                flag(satisfied),
                // A pure acknowledgement: "ok thanks", "perfect 👍", "好的明白了".
                flag(satisfied && !question && words <= 4 && letters <= 24),
                flag(signals.gratitude && !question),
                flag(signals.frustration),
                flag(signals.anger),
                flag(signals.threat),
                flag(question),
                flag(short),
                flag(waiting),
            ],
        }
    }
}

/// Weights of the context model.
#[derive(Debug, Clone, PartialEq)]
pub struct ContextModel {
    /// Weight of the message's own log-probabilities, per regime feature: a frustrated "still
    /// nothing" may say less of its intent than its words suggest.
    message_weight: [f32; NUM_REGIME],
    /// Carry-over weight of the topic, per regime feature.
    carry: [f32; NUM_REGIME],
    /// Extra carry-over per topic intent (some topics run longer than others).
    topic_carry: [f32; NUM_INTENTS],
}

const NUM_INTENTS: usize = INTENTS.len();
/// Added to a probability before its logarithm, so that a confident model cannot drown the topic.
const SMOOTHING: f32 = 0.01;

/// One training example: the message's probabilities, the topic, the regime, the gold intent.
#[derive(Debug, Clone)]
pub struct ContextExample {
    pub probabilities: Vec<f32>,
    pub topic: Vec<f32>,
    pub regime: Regime,
    pub label: usize,
}

/// Hyper-parameters of the context model's training.
#[derive(Debug, Clone, Copy)]
pub struct ContextTraining {
    pub epochs: usize,
    pub learning_rate: f32,
    /// Pull of every weight towards its prior value.
    pub prior_strength: f32,
}

impl Default for ContextTraining {
    fn default() -> Self {
        ContextTraining { epochs: 1000, learning_rate: 0.5, prior_strength: 0.001 }
    }
}

impl Default for ContextModel {
    /// The prior: the message decides unless it is small talk or unsure; an acknowledgement closes
    /// the topic.
    fn default() -> Self {
        ContextModel {
            message_weight: [1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
            carry: [1.0, 2.0, 2.0, 3.0, -1.0, -4.0, -1.0, 1.0, 0.5, 0.0, 0.0, 1.0, 0.5],
            topic_carry: [0.0; NUM_INTENTS],
        }
    }
}

impl ContextModel {
    /// Scores per intent (unnormalised log-probabilities) of the newest message in context.
    pub fn scores(&self, probabilities: &[f32], topic: &[f32], regime: &Regime) -> Vec<f32> {
        let carry = self.carry_weight(regime);
        let message_weight = dot(&self.message_weight, &regime.values);
        probabilities
            .iter()
            .zip(topic)
            .zip(&self.topic_carry)
            .map(|((p, t), extra)| message_weight * (p + SMOOTHING).ln() + (carry + extra) * t)
            .collect()
    }

    /// Probabilities per intent of the newest message in context.
    pub fn probabilities(&self, probabilities: &[f32], topic: &[f32], regime: &Regime) -> Vec<f32> {
        let mut scores = self.scores(probabilities, topic, regime);
        softmax(&mut scores);
        scores
    }

    fn carry_weight(&self, regime: &Regime) -> f32 {
        dot(&self.carry, &regime.values)
    }

    /// Learns the weights from labelled conversations by gradient descent on the log-loss, each
    /// weight pulled towards its prior value.
    pub fn train(examples: &[ContextExample], options: ContextTraining) -> ContextModel {
        let prior = ContextModel::default();
        let mut model = prior.clone();
        if examples.is_empty() {
            return model;
        }
        let n = examples.len() as f32;
        for _ in 0..options.epochs {
            let mut grad_message = [0f32; NUM_REGIME];
            let mut grad_carry = [0f32; NUM_REGIME];
            let mut grad_topic = [0f32; NUM_INTENTS];
            for example in examples {
                let q = model.probabilities(&example.probabilities, &example.topic, &example.regime);
                for c in 0..NUM_INTENTS {
                    // d(log-loss)/d(score_c)
                    let delta = q[c] - if c == example.label { 1.0 } else { 0.0 };
                    let log_p = (example.probabilities[c] + SMOOTHING).ln();
                    for (g, r) in grad_message.iter_mut().zip(&example.regime.values) {
                        *g += delta * log_p * r;
                    }
                    let t = example.topic[c];
                    if t != 0.0 {
                        for (g, r) in grad_carry.iter_mut().zip(&example.regime.values) {
                            *g += delta * t * r;
                        }
                        grad_topic[c] += delta * t;
                    }
                }
            }
            let step = |weight: &mut f32, gradient: f32, prior: f32| {
                *weight -= options.learning_rate * (gradient / n + options.prior_strength * (*weight - prior));
            };
            for i in 0..NUM_REGIME {
                step(&mut model.message_weight[i], grad_message[i], prior.message_weight[i]);
                step(&mut model.carry[i], grad_carry[i], prior.carry[i]);
            }
            for ((weight, gradient), prior) in model.topic_carry.iter_mut().zip(grad_topic).zip(prior.topic_carry) {
                step(weight, gradient, prior);
            }
        }
        model
    }

    /// The learned weight of the message's own log-probabilities per regime feature, for logs.
    pub fn message_weights(&self) -> impl Iterator<Item = (&'static str, f32)> + '_ {
        REGIME_NAMES.iter().copied().zip(self.message_weight.iter().copied())
    }

    /// The learned carry-over weight per regime feature, for logs.
    pub fn carry_weights(&self) -> impl Iterator<Item = (&'static str, f32)> + '_ {
        REGIME_NAMES.iter().copied().zip(self.carry.iter().copied())
    }
}

fn dot(weights: &[f32; NUM_REGIME], values: &[f32; NUM_REGIME]) -> f32 {
    weights.iter().zip(values).map(|(w, v)| w * v).sum()
}

pub fn argmax(scores: &[f32]) -> (usize, f32) {
    scores.iter().cloned().enumerate().fold((0, f32::MIN), |best, (i, s)| if s > best.1 { (i, s) } else { best })
}

/// Greeting and other: never the topic a conversation carries.
pub fn is_small_talk(index: usize) -> bool {
    matches!(INTENTS.get(index), Some(&"greeting") | Some(&"other"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one_hot(index: usize, value: f32) -> Vec<f32> {
        let rest = (1.0 - value) / (NUM_INTENTS - 1) as f32;
        (0..NUM_INTENTS).map(|i| if i == index { value } else { rest }).collect()
    }

    fn intent(name: &str) -> usize {
        INTENTS.iter().position(|i| *i == name).unwrap()
    }

    #[test]
    fn small_talk_carries_the_topic_and_a_clear_message_keeps_its_intent() {
        let model = ContextModel::default();
        let topic = one_hot(intent("refund"), 1.0);
        let hello = one_hot(intent("greeting"), 0.8);
        let regime = Regime::of("hello??", &hello, &MessageSignals::default(), false);
        assert_eq!(argmax(&model.scores(&hello, &topic, &regime)).0, intent("refund"));

        let clear = one_hot(intent("invoice"), 0.95);
        let regime = Regime::of("can you send me an invoice please", &clear, &MessageSignals::default(), false);
        assert_eq!(argmax(&model.scores(&clear, &topic, &regime)).0, intent("invoice"));
    }

    #[test]
    fn training_learns_a_carry_over_the_prior_lacks() {
        // Sure-looking messages that the threads label with the topic: the carry must grow.
        let examples: Vec<ContextExample> = (0..40)
            .map(|i| {
                let own = one_hot(intent("not_received"), 0.7);
                let topic = one_hot(if i % 2 == 0 { intent("refund") } else { intent("invoice") }, 1.0);
                let regime = Regime::of("still nothing, I don't understand", &own, &MessageSignals { frustration: true, ..Default::default() }, false);
                ContextExample { probabilities: own, topic: topic.clone(), regime, label: argmax(&topic).0 }
            })
            .collect();
        let prior = ContextModel::default();
        let loss = |model: &ContextModel| -> f32 {
            examples.iter().map(|e| -model.probabilities(&e.probabilities, &e.topic, &e.regime)[e.label].ln()).sum()
        };
        let trained = ContextModel::train(&examples, ContextTraining::default());
        assert!(loss(&trained) < loss(&prior));
        let e = &examples[0];
        assert_eq!(argmax(&trained.scores(&e.probabilities, &e.topic, &e.regime)).0, e.label);
    }
}
