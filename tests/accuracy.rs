//! Accuracy on the held-out dev sets, through the same evaluation as `reply-engine eval`. The
//! thresholds are the targets where the engine meets them and regression guards just below the
//! measured figure where it does not yet (see README, "Measured figures").

mod common;

use std::io::BufReader;

use reply_engine::cli::{evaluate, EvalReport};

fn report(files: &[&str]) -> EvalReport {
    let mut text = String::new();
    for file in files {
        text.push_str(&std::fs::read_to_string(common::data(file)).unwrap());
    }
    evaluate(&common::engine(), BufReader::new(text.as_bytes())).unwrap()
}

#[test]
fn held_out_messages() {
    let report = report(&["holdout_a.jsonl", "holdout_b.jsonl"]);
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert!(report.rows >= 400);
    assert!(report.intent.rate() >= 0.92, "intent {:.4}", report.intent.rate());
    assert!(report.language.rate() >= 0.97, "language {:.4}", report.language.rate());
    // Target 0.97; measured 0.9697.
    assert!(report.country.rate() >= 0.96, "country {:.4}", report.country.rate());
    assert!(report.country_false_positives <= 2, "countries without a cue: {}", report.country_false_positives);
    assert_eq!(report.intent_by_language.len(), 13);
    for (language, tally) in &report.intent_by_language {
        // Target 0.85 in every language; measured lowest: ko 0.8485.
        assert!(tally.rate() >= 0.80, "{language}: {:.4}", tally.rate());
    }
    assert!(report.escalation.rate() >= 0.93, "escalation {:.4}", report.escalation.rate());
    assert!(report.reply_checks.rate() >= 0.95, "reply checks {:.4}", report.reply_checks.rate());
}

#[test]
fn held_out_conversations() {
    let report = report(&["conv_holdout.jsonl"]);
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert!(report.rows >= 60);
    assert!(report.escalation.rate() >= 0.95, "escalation {:.4}", report.escalation.rate());
    // Target 0.92; measured 0.7077 — a regression guard until the model reads the history itself.
    assert!(report.intent.rate() >= 0.65, "intent with history {:.4}", report.intent.rate());
    assert!(report.language.rate() >= 0.97);
}

#[test]
fn tuning_sets_stay_close() {
    let messages = report(&["tune_a.jsonl", "tune_b.jsonl"]);
    assert!(messages.intent.rate() >= 0.92, "intent {:.4}", messages.intent.rate());
    let conversations = report(&["conv_tune.jsonl"]);
    assert!(conversations.escalation.rate() >= 0.95);
}
