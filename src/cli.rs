//! The command-line adapter's core-facing parts: JSON Lines input for `batch` and `eval`, the JSON
//! output shared by `suggest` and `batch`, and the evaluation report. `main.rs` only parses flags.

use std::collections::BTreeMap;
use std::io::{BufRead, Write};

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::message::{Suggestion, Turn};
use crate::request::RawRequest;

/// Lines processed together in `batch`, spread over the machine's cores, written in order.
const BATCH_CHUNK: usize = 2048;

/// One input line of `batch` and `eval`. Unknown fields are ignored.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct InputRow {
    #[serde(default)]
    pub id: Value,
    #[serde(default)]
    pub text: String,
    #[serde(default)]
    pub country: String,
    #[serde(default)]
    pub language: String,
    #[serde(default)]
    pub date: String,
    #[serde(default)]
    pub history: Vec<Turn>,
    #[serde(default)]
    pub max_replies: u32,
    #[serde(default)]
    pub context: BTreeMap<String, String>,
    #[serde(default)]
    pub gold: Option<Gold>,
}

/// The labels of one `eval` row.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Gold {
    pub intent: String,
    #[serde(default)]
    pub also: Vec<String>,
    #[serde(default)]
    pub language: Option<String>,
    #[serde(default)]
    pub country: Option<String>,
    #[serde(default)]
    pub escalate: Option<bool>,
    #[serde(default)]
    pub must_not_contain: Vec<String>,
    #[serde(default)]
    pub must_contain_any: Vec<String>,
}

impl InputRow {
    pub fn to_request(&self) -> RawRequest {
        RawRequest {
            text: self.text.clone(),
            country: self.country.clone(),
            language: self.language.clone(),
            date: self.date.clone(),
            history: self.history.clone(),
            max_replies: self.max_replies,
            context: self.context.clone(),
        }
    }
}

/// The classification's fields, as JSON.
fn classification_json(suggestion: &Suggestion) -> serde_json::Map<String, Value> {
    let c = &suggestion.classification;
    let value = json!({
        "intent": c.intent,
        "intents": c.intents,
        "language": c.language,
        "country": c.country_opt.clone().unwrap_or_default(),
        "country_source": c.country_source_opt.map(|s| s.as_str()).unwrap_or_default(),
        "escalate": c.escalate,
        "escalate_reasons": c.escalate_reasons,
        "satisfied": c.satisfied,
    });
    match value {
        Value::Object(map) => map,
        _ => unreachable!("json! of an object literal is an object"),
    }
}

/// The flat JSON of one answered message, as `batch` writes it.
pub fn suggestion_json(id: &Value, suggestion: &Suggestion) -> Value {
    let mut object = serde_json::Map::new();
    object.insert("id".to_string(), id.clone());
    object.extend(classification_json(suggestion));
    object.insert("replies".to_string(), json!(suggestion.replies));
    Value::Object(object)
}

/// The JSON of `suggest`: the gRPC `SuggestResponse` shape.
pub fn response_json(suggestion: &Suggestion) -> Value {
    json!({
        "classification": Value::Object(classification_json(suggestion)),
        "replies": suggestion.replies,
    })
}

/// Parses one input line; `Err` carries the best id found and the reason.
pub fn parse_row(line: &str) -> std::result::Result<InputRow, (Value, String)> {
    let value: Value = serde_json::from_str(line).map_err(|err| (Value::Null, format!("malformed JSON: {err}")))?;
    let id = value.get("id").cloned().unwrap_or(Value::Null);
    serde_json::from_value::<InputRow>(value).map_err(|err| (id, format!("malformed row: {err}")))
}

/// Answers one input line as `batch` does: the suggestion, or `{"id", "error"}`.
pub fn answer_line(engine: &Engine, line: &str) -> (Value, bool) {
    let row = match parse_row(line) {
        Ok(row) => row,
        Err((id, error)) => return (json!({ "id": id, "error": error }), false),
    };
    match row.to_request().validate().and_then(|message| engine.suggest(&message)) {
        Ok(suggestion) => (suggestion_json(&row.id, &suggestion), true),
        Err(err) => (json!({ "id": row.id, "error": err.to_string() }), false),
    }
}

/// Counts of a `batch` run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BatchSummary {
    pub answered: usize,
    pub failed: usize,
}

/// Reads JSON Lines, writes one JSON object per non-blank input line in input order. A bad line
/// gets an error object in its place and the run goes on; output is flushed chunk by chunk so
/// that nothing already answered is lost.
pub fn run_batch(engine: &Engine, input: impl BufRead, mut output: impl Write) -> Result<BatchSummary> {
    let mut summary = BatchSummary::default();
    let mut lines = input.lines();
    let workers = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    loop {
        let mut chunk: Vec<String> = Vec::with_capacity(BATCH_CHUNK);
        for line in lines.by_ref() {
            let line = line.map_err(|source| Error::Io { path: "<batch input>".into(), source })?;
            if line.trim().is_empty() {
                continue;
            }
            chunk.push(line);
            if chunk.len() == BATCH_CHUNK {
                break;
            }
        }
        if chunk.is_empty() {
            break;
        }
        let answers = answer_chunk(engine, &chunk, workers);
        let write_error = |source| Error::Io { path: "<batch output>".into(), source };
        for (value, ok) in answers {
            if ok {
                summary.answered += 1;
            } else {
                summary.failed += 1;
            }
            serde_json::to_writer(&mut output, &value).map_err(|err| write_error(err.into()))?;
            output.write_all(b"\n").map_err(write_error)?;
        }
        output.flush().map_err(write_error)?;
    }
    Ok(summary)
}

fn answer_chunk(engine: &Engine, chunk: &[String], workers: usize) -> Vec<(Value, bool)> {
    let per_worker = chunk.len().div_ceil(workers.max(1));
    std::thread::scope(|scope| {
        let handles: Vec<_> = chunk
            .chunks(per_worker.max(1))
            .map(|part| scope.spawn(move || part.iter().map(|line| answer_line(engine, line)).collect::<Vec<_>>()))
            .collect();
        handles.into_iter().flat_map(|handle| handle.join().expect("batch worker panicked")).collect()
    })
}

/// Accuracy of one slice.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Tally {
    pub correct: usize,
    pub total: usize,
}

impl Tally {
    fn add(&mut self, correct: bool) {
        self.total += 1;
        if correct {
            self.correct += 1;
        }
    }

    pub fn rate(&self) -> f64 {
        if self.total == 0 {
            return 0.0;
        }
        self.correct as f64 / self.total as f64
    }
}

/// The `eval` report.
#[derive(Debug, Clone, Default, Serialize)]
pub struct EvalReport {
    pub rows: usize,
    pub errors: Vec<String>,
    pub intent: Tally,
    pub intent_by_language: BTreeMap<String, Tally>,
    pub intent_by_intent: BTreeMap<String, Tally>,
    /// (gold, predicted) → count, most frequent first.
    pub confusions: Vec<(String, String, usize)>,
    pub language: Tally,
    pub country: Tally,
    /// Rows without a gold country that got one anyway.
    pub country_false_positives: usize,
    pub escalation: Tally,
    pub escalation_precision: f64,
    pub escalation_recall: f64,
    pub reply_checks: Tally,
    /// The rows that missed, for reading.
    pub misses: Vec<Value>,
}

/// Runs every labelled row through the engine and tallies the results.
pub fn evaluate(engine: &Engine, input: impl BufRead) -> Result<EvalReport> {
    let mut report = EvalReport::default();
    let mut confusions: BTreeMap<(String, String), usize> = BTreeMap::new();
    let (mut true_pos, mut false_pos, mut false_neg) = (0usize, 0usize, 0usize);
    for (line_no, line) in input.lines().enumerate() {
        let line = line.map_err(|source| Error::Io { path: "<eval input>".into(), source })?;
        if line.trim().is_empty() {
            continue;
        }
        let row = match parse_row(&line) {
            Ok(row) => row,
            Err((_, error)) => {
                report.errors.push(format!("line {}: {error}", line_no + 1));
                continue;
            }
        };
        let Some(gold) = row.gold.clone() else {
            report.errors.push(format!("line {}: no gold labels", line_no + 1));
            continue;
        };
        let suggestion = match row.to_request().validate().and_then(|message| engine.suggest(&message)) {
            Ok(suggestion) => suggestion,
            Err(err) => {
                report.errors.push(format!("line {}: {err}", line_no + 1));
                continue;
            }
        };
        report.rows += 1;
        let c = &suggestion.classification;
        let intent_ok = c.intent == gold.intent || gold.also.contains(&c.intent);
        report.intent.add(intent_ok);
        let gold_language = gold.language.clone().unwrap_or_else(|| "?".to_string());
        report.intent_by_language.entry(gold_language.clone()).or_default().add(intent_ok);
        report.intent_by_intent.entry(gold.intent.clone()).or_default().add(intent_ok);
        if !intent_ok {
            *confusions.entry((gold.intent.clone(), c.intent.clone())).or_default() += 1;
        }
        let language_ok = gold.language.as_ref().is_none_or(|l| *l == c.language);
        if gold.language.is_some() {
            report.language.add(language_ok);
        }
        let predicted_country = c.country_opt.clone().unwrap_or_default();
        let country_ok = gold.country.as_ref().is_none_or(|g| g.eq_ignore_ascii_case(&predicted_country));
        if let Some(gold_country) = &gold.country {
            report.country.add(country_ok);
            if gold_country.is_empty() && !predicted_country.is_empty() {
                report.country_false_positives += 1;
            }
        }
        let mut escalation_ok = true;
        if let Some(gold_escalate) = gold.escalate {
            escalation_ok = gold_escalate == c.escalate;
            report.escalation.add(escalation_ok);
            match (gold_escalate, c.escalate) {
                (true, true) => true_pos += 1,
                (false, true) => false_pos += 1,
                (true, false) => false_neg += 1,
                _ => {}
            }
        }
        let mut checks_ok = true;
        if !gold.must_not_contain.is_empty() || !gold.must_contain_any.is_empty() {
            let top = suggestion.replies.first().map(|r| r.text.to_lowercase()).unwrap_or_default();
            checks_ok = !top.is_empty()
                && gold.must_not_contain.iter().all(|s| !top.contains(&s.to_lowercase()))
                && (gold.must_contain_any.is_empty()
                    || gold.must_contain_any.iter().any(|s| top.contains(&s.to_lowercase())));
            report.reply_checks.add(checks_ok);
        }
        if !(intent_ok && language_ok && country_ok && escalation_ok && checks_ok) {
            report.misses.push(json!({
                "id": row.id, "text": row.text,
                "gold": {"intent": gold.intent, "also": gold.also, "language": gold.language, "country": gold.country, "escalate": gold.escalate},
                "got": {"intent": c.intent, "language": c.language, "country": predicted_country, "escalate": c.escalate, "reasons": c.escalate_reasons},
            }));
        }
    }
    let mut confusions: Vec<(String, String, usize)> = confusions.into_iter().map(|((g, p), n)| (g, p, n)).collect();
    confusions.sort_by(|a, b| b.2.cmp(&a.2).then_with(|| a.0.cmp(&b.0)));
    report.confusions = confusions;
    report.escalation_precision = ratio(true_pos, true_pos + false_pos);
    report.escalation_recall = ratio(true_pos, true_pos + false_neg);
    Ok(report)
}

fn ratio(numerator: usize, denominator: usize) -> f64 {
    if denominator == 0 {
        return 1.0;
    }
    numerator as f64 / denominator as f64
}

/// A plain-text rendering of the report.
pub fn render_report(report: &EvalReport, show_misses: bool) -> String {
    let pct = |t: &Tally| format!("{:6.2}% ({}/{})", 100.0 * t.rate(), t.correct, t.total);
    let mut out = String::new();
    out.push_str(&format!("rows: {}  errors: {}\n", report.rows, report.errors.len()));
    out.push_str(&format!("intent accuracy:   {}\n", pct(&report.intent)));
    out.push_str(&format!("language accuracy: {}\n", pct(&report.language)));
    out.push_str(&format!(
        "country accuracy:  {}  (country reported without a cue: {})\n",
        pct(&report.country),
        report.country_false_positives
    ));
    out.push_str(&format!(
        "escalation:        {}  precision {:.2}%  recall {:.2}%\n",
        pct(&report.escalation),
        100.0 * report.escalation_precision,
        100.0 * report.escalation_recall
    ));
    out.push_str(&format!("reply checks:      {}\n", pct(&report.reply_checks)));
    out.push_str("\nintent accuracy by language:\n");
    for (language, tally) in &report.intent_by_language {
        out.push_str(&format!("  {language:<4} {}\n", pct(tally)));
    }
    out.push_str("\nintent accuracy by intent:\n");
    for (intent, tally) in &report.intent_by_intent {
        out.push_str(&format!("  {intent:<22} {}\n", pct(tally)));
    }
    out.push_str("\nmost frequent confusions (gold -> predicted):\n");
    for (gold, predicted, count) in report.confusions.iter().take(15) {
        out.push_str(&format!("  {count:>3}  {gold} -> {predicted}\n"));
    }
    for error in &report.errors {
        out.push_str(&format!("error: {error}\n"));
    }
    if show_misses {
        out.push_str("\nmisses:\n");
        for miss in &report.misses {
            out.push_str(&format!("  {miss}\n"));
        }
    }
    out
}
