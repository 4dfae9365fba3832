//! The command line: `batch`, `eval`, `lint`, and start-up on a broken corpus.

mod common;

use std::process::Command;

use serde_json::Value;

#[test]
fn batch_answers_every_line_in_order_and_reports_failures() {
    let output = Command::new(common::binary()).arg("batch").arg(common::fixture("batch.jsonl")).output().unwrap();
    assert_eq!(output.status.code(), Some(2), "a failed line makes the exit status 2");
    let lines: Vec<Value> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(lines.len(), 6);
    assert_eq!(lines[0]["id"], "1");
    assert_eq!(lines[0]["intent"], "bargaining");
    assert_eq!(lines[0]["country_source"], "given");
    assert!(lines[0]["replies"].as_array().unwrap().len() == 3);
    assert!(lines[1]["error"].as_str().unwrap().contains("text"));
    assert!(lines[2]["error"].as_str().unwrap().contains("malformed JSON"));
    assert_eq!(lines[3]["id"], 3);
    assert_eq!(lines[3]["language"], "zh");
    assert_eq!(lines[3]["intent"], "not_received");
    assert!(lines[4]["error"].as_str().unwrap().contains("country"));
    assert_eq!(lines[5]["language"], "es");
    assert_eq!(lines[5]["country"], "MX");
    assert_eq!(lines[5]["country_source"], "cue");
    for key in ["id", "intent", "intents", "language", "country", "country_source", "escalate", "escalate_reasons", "replies"] {
        assert!(lines[0].get(key).is_some(), "missing {key}");
    }
}

#[test]
fn batch_reads_stdin() {
    use std::io::Write;
    let mut child = Command::new(common::binary())
        .args(["batch", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"{\"id\":\"a\",\"text\":\"hello\"}\n").unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success());
    let line: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(line["intent"], "greeting");
}

#[test]
fn eval_reports_accuracy() {
    let output = Command::new(common::binary())
        .arg("eval")
        .arg(common::fixture("eval.jsonl"))
        .arg("--json")
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["rows"], 4);
    assert_eq!(report["intent"]["total"], 4);
    assert!(report["intent"]["correct"].as_u64().unwrap() >= 3);
    assert_eq!(report["language"]["correct"], 4);
    assert_eq!(report["reply_checks"]["total"], 1);
    assert!(report["intent_by_language"]["zh"].is_object());

    let text = Command::new(common::binary()).arg("eval").arg(common::fixture("eval.jsonl")).output().unwrap();
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(text.contains("intent accuracy"));
    assert!(text.contains("most frequent confusions"));
}

#[test]
fn lint_accepts_the_builtin_corpus() {
    let output = Command::new(common::binary()).arg("lint").output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let dir = common::corpus_copy();
    let output = Command::new(common::binary()).arg("lint").arg(dir.path()).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
}

#[test]
fn lint_reports_file_and_line() {
    use std::io::Write;
    let dir = common::corpus_copy();
    let scripts = dir.path().join("scripts/en.jsonl");
    let mut file = std::fs::OpenOptions::new().append(true).open(&scripts).unwrap();
    let line = r#"{"id":"en.refund.bad","intent":"refund","language":"en","text":"That's the rule, {nonsense}."}"#;
    writeln!(file, "{line}").unwrap();
    let line_no = std::fs::read_to_string(&scripts).unwrap().lines().count();
    let output = Command::new(common::binary()).arg("lint").arg(dir.path()).output().unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains(&format!("en.jsonl:{line_no}: unknown placeholder `{{nonsense}}`")), "{stderr}");
    assert!(stderr.contains(&format!("en.jsonl:{line_no}: contains `that's the rule`")), "{stderr}");
}

#[test]
fn malformed_corpus_stops_start_up_naming_file_and_line() {
    let dir = common::corpus_copy();
    std::fs::write(dir.path().join("scripts/de.jsonl"), "{\"id\":\"x\"}\n{ broken\n").unwrap();
    let output = Command::new(common::binary())
        .args(["serve", "--addr", "127.0.0.1:0", "--corpus"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("de.jsonl:1:"), "{stderr}");
}
