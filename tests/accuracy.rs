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

/// The targets on a set of single messages: intent, language and country (with no country
/// reported on rows without a cue), and intent in every language.
fn assert_message_targets(report: &EvalReport) {
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert!(report.intent.rate() >= 0.92, "intent {:.4}", report.intent.rate());
    assert!(report.language.rate() >= 0.97, "language {:.4}", report.language.rate());
    assert!(report.country.rate() >= 0.97, "country {:.4}", report.country.rate());
    assert_eq!(report.intent_by_language.len(), 13);
    for (language, tally) in &report.intent_by_language {
        assert!(tally.rate() >= 0.85, "{language}: {:.4}", tally.rate());
    }
}

#[test]
fn held_out_messages() {
    let report = report(&["holdout_a.jsonl", "holdout_b.jsonl"]);
    assert!(report.rows >= 400);
    assert_message_targets(&report);
    assert_eq!(report.country_false_positives, 0, "countries without a cue");
    assert!(report.escalation.rate() >= 0.95, "escalation {:.4}", report.escalation.rate());
    assert!(report.reply_checks.rate() >= 0.95, "reply checks {:.4}", report.reply_checks.rate());
}

/// A second held-out set, written after the first had been looked at, by writers who saw neither
/// the corpus nor the engine.
#[test]
fn fresh_messages() {
    let report = report(&["fresh_a.jsonl", "fresh_b.jsonl"]);
    assert!(report.rows >= 500);
    assert_message_targets(&report);
    assert_eq!(report.country_false_positives, 0, "countries without a cue");
    // Two of the market checks need Spain from a bare "Correos", which the cue list leaves out as
    // ambiguous (Chile's post is "Correos" too); measured 17/19.
    assert!(report.reply_checks.rate() >= 0.85, "reply checks {:.4}", report.reply_checks.rate());
}

/// Both held-out conversation sets, the older one and the fresh one, meet the targets. The fresh
/// one is the clean measure: the older one's misses have been looked at (see README).
#[test]
fn held_out_conversations() {
    for (file, min_rows) in [("conv_holdout.jsonl", 60), ("conv_fresh.jsonl", 100)] {
        let report = report(&[file]);
        assert!(report.errors.is_empty(), "{file}: {:?}", report.errors);
        assert!(report.rows >= min_rows, "{file}: {} rows", report.rows);
        assert!(report.intent.rate() >= 0.92, "{file}: intent with history {:.4}", report.intent.rate());
        assert!(report.escalation.rate() >= 0.95, "{file}: escalation {:.4}", report.escalation.rate());
        assert!(report.language.rate() >= 0.97, "{file}: language {:.4}", report.language.rate());
    }
}

#[test]
fn tuning_sets_stay_close() {
    let messages = report(&["tune_a.jsonl", "tune_b.jsonl"]);
    assert!(messages.intent.rate() >= 0.92, "intent {:.4}", messages.intent.rate());
    let conversations = report(&["conv_tune.jsonl"]);
    assert!(conversations.escalation.rate() >= 0.95);
}
