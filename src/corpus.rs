//! Loading the corpus: reply scripts, training examples, country cues, conversation signals,
//! cultural rules and the Ramadan calendar, all kept as data files under `corpus/`.
//!
//! Every parse error names the file and line. Cross-file validation (the `lint` subcommand and
//! every load, including hot reloads) lives in `lint.rs`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use include_dir::{include_dir, Dir};
use serde::Deserialize;

use crate::error::{Error, Result};

/// The corpus compiled into the binary, served when no `--corpus` directory is given.
static BUILTIN_CORPUS: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/corpus");

/// The 19 intents, in a fixed order.
pub const INTENTS: [&str; 19] = [
    "bargaining",
    "free_shipping",
    "color_difference",
    "not_received",
    "bad_review",
    "shipping_time",
    "return_exchange",
    "refund",
    "wrong_or_missing_item",
    "quality_issue",
    "customs_duties",
    "invoice",
    "stock_availability",
    "gift_request",
    "payment_issue",
    "order_change",
    "product_inquiry",
    "greeting",
    "other",
];

/// The 13 languages the engine understands and answers in (ISO 639-1).
pub const LANGUAGES: [&str; 13] = ["en", "zh", "es", "pt", "ar", "ru", "fr", "de", "pl", "tr", "it", "ko", "ja"];

/// Where a corpus comes from.
#[derive(Debug, Clone)]
pub enum CorpusSource {
    BuiltIn,
    Dir(PathBuf),
}

impl CorpusSource {
    pub fn describe(&self) -> String {
        match self {
            CorpusSource::BuiltIn => "built-in".to_string(),
            CorpusSource::Dir(dir) => dir.display().to_string(),
        }
    }

    /// Reads every file of the corpus as (path for messages, path relative to the root, text).
    fn files(&self) -> Result<Vec<(PathBuf, String, String)>> {
        let mut files = Vec::new();
        match self {
            CorpusSource::BuiltIn => collect_builtin(&BUILTIN_CORPUS, &mut files),
            CorpusSource::Dir(root) => collect_dir(root, root, &mut files)?,
        }
        files.sort_by(|a, b| a.1.cmp(&b.1));
        Ok(files)
    }
}

fn collect_builtin(dir: &Dir<'static>, out: &mut Vec<(PathBuf, String, String)>) {
    for file in dir.files() {
        if let Some(text) = file.contents_utf8() {
            let relative = file.path().to_string_lossy().replace('\\', "/");
            out.push((Path::new("corpus").join(file.path()), relative, text.to_string()));
        }
    }
    for sub in dir.dirs() {
        collect_builtin(sub, out);
    }
}

fn collect_dir(root: &Path, dir: &Path, out: &mut Vec<(PathBuf, String, String)>) -> Result<()> {
    let entries = std::fs::read_dir(dir).map_err(|source| Error::Io { path: dir.to_path_buf(), source })?;
    for entry in entries {
        let entry = entry.map_err(|source| Error::Io { path: dir.to_path_buf(), source })?;
        let path = entry.path();
        if path.is_dir() {
            collect_dir(root, &path, out)?;
            continue;
        }
        let text = std::fs::read_to_string(&path).map_err(|source| Error::Io { path: path.clone(), source })?;
        let relative = path.strip_prefix(root).unwrap_or(&path).to_string_lossy().replace('\\', "/");
        out.push((path, relative, text));
    }
    Ok(())
}

/// One reply script.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Script {
    pub id: String,
    pub intent: String,
    pub language: String,
    pub text: String,
    #[serde(default)]
    pub tags: Vec<String>,
    /// Markets the script is written for; empty means every market.
    #[serde(default)]
    pub countries: Vec<String>,
    /// Where it was read from, for messages.
    #[serde(skip)]
    pub origin: Origin,
}

/// A file and line, for messages.
#[derive(Debug, Clone, Default)]
pub struct Origin {
    pub path: PathBuf,
    pub line: usize,
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.path.display(), self.line)
    }
}

/// One labelled example for the intent and language models.
#[derive(Debug, Clone, Deserialize)]
pub struct TrainExample {
    pub text: String,
    pub intent: String,
    #[serde(skip)]
    pub language: String,
    #[serde(skip)]
    pub origin: Origin,
}

/// One labelled conversation: the intent of the buyer's newest message given the earlier turns.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThreadExample {
    /// Earlier turns, oldest first.
    pub history: Vec<crate::message::Turn>,
    pub text: String,
    pub intent: String,
    #[serde(skip)]
    pub language: String,
    #[serde(skip)]
    pub origin: Origin,
}

/// A clear cue in a text that shows the buyer's country.
#[derive(Debug, Clone)]
pub struct CountryCue {
    pub country: String,
    /// Normalised phrase.
    pub phrase: String,
    /// The cue counts only when the message is in this language (e.g. "¥" with Japanese text).
    pub language_opt: Option<String>,
    pub origin: Origin,
}

/// Phrase lists of conversation signals, per signal and language.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Signals {
    /// The buyer says the last answer worked.
    pub satisfaction: BTreeMap<String, Vec<String>>,
    /// Confusion, "still not", "again", "third time".
    pub frustration: BTreeMap<String, Vec<String>>,
    /// Dispute, claim, chargeback, bank, bad review, report, police.
    pub threat: BTreeMap<String, Vec<String>>,
    /// Insults and swearing.
    pub insult: BTreeMap<String, Vec<String>>,
    /// Worry and urgency ("worried", "urgent", "need it by").
    pub anxiety: BTreeMap<String, Vec<String>>,
    /// Thanks, goodbyes and acknowledgements.
    #[serde(default)]
    pub gratitude: BTreeMap<String, Vec<String>>,
    /// Review words and the verbs that threaten to write one: both in a message make a threat.
    #[serde(default)]
    pub review_noun: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    pub review_verb: BTreeMap<String, Vec<String>>,
}

/// One cultural or conversational rule, applied at ranking time by `rules.rs`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    pub id: String,
    #[serde(default)]
    pub description: String,
    /// Country codes or `@group` names from `[markets]`; empty means every market.
    #[serde(default)]
    pub countries: Vec<String>,
    /// Intents the rule concerns; empty means all.
    #[serde(default)]
    pub intents: Vec<String>,
    /// A calendar period that must contain the request's date (only "ramadan").
    #[serde(default)]
    pub calendar: Option<String>,
    /// A conversation state that must hold: "angry", "anxious" or "escalated".
    #[serde(default)]
    pub when: Option<String>,
    /// Phrases a reply must never contain (any language, case- and accent-insensitive).
    #[serde(default)]
    pub forbid: Vec<String>,
    /// Score bonus for scripts carrying these tags.
    #[serde(default)]
    pub prefer_tags: BTreeMap<String, f32>,
    /// Reply in this language whatever the buyer wrote in.
    #[serde(default)]
    pub reply_language: Option<String>,
    /// Form of address per language, put before the reply.
    #[serde(default)]
    pub address: BTreeMap<String, String>,
    /// A key of `[phrases]` put before the reply (after the address).
    #[serde(default)]
    pub prepend: Option<String>,
    /// A key of `[phrases]` put after the reply.
    #[serde(default)]
    pub append: Option<String>,
    /// Skip `prepend`/`append` for scripts that already carry this tag.
    #[serde(default)]
    pub unless_tag: Option<String>,
    #[serde(skip)]
    pub line: usize,
}

/// `corpus/rules.toml`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RulesFile {
    /// Default values of placeholders.
    #[serde(default)]
    pub placeholders: BTreeMap<String, String>,
    /// Named groups of countries, referred to as `@name`.
    #[serde(default)]
    pub markets: BTreeMap<String, Vec<String>>,
    /// Phrases per key and language, used by `prepend` and `append`.
    #[serde(default)]
    pub phrases: BTreeMap<String, BTreeMap<String, String>>,
    #[serde(default)]
    pub rule: Vec<RuleSpec>,
}

/// One Ramadan period (inclusive dates).
#[derive(Debug, Clone, Copy)]
pub struct Period {
    pub start: NaiveDate,
    pub end: NaiveDate,
}

/// Everything read from a corpus directory, parsed but not yet indexed or trained.
#[derive(Debug, Clone, Default)]
pub struct Corpus {
    pub scripts: Vec<Script>,
    pub train: Vec<TrainExample>,
    /// Labelled conversations for the context model (`threads/<lang>.jsonl`).
    pub threads: Vec<ThreadExample>,
    pub country_cues: Vec<CountryCue>,
    pub signals: Signals,
    pub rules: RulesFile,
    pub rules_path: PathBuf,
    pub ramadan: Vec<Period>,
}

impl Corpus {
    /// Reads and parses every file; the first malformed line stops the load with its location.
    pub fn load(source: &CorpusSource) -> Result<Corpus> {
        let mut corpus = Corpus::default();
        let mut saw_rules = false;
        for (path, relative, text) in source.files()? {
            if relative.starts_with("scripts/") && relative.ends_with(".jsonl") {
                parse_scripts(&path, &text, &mut corpus.scripts)?;
            } else if relative.starts_with("train/") && relative.ends_with(".jsonl") {
                let language = file_language(&relative);
                parse_labelled(&path, &text, "training example", &mut corpus.train, |example: &mut TrainExample, origin| {
                    example.language = language.clone();
                    example.origin = origin;
                    Ok(())
                })?;
            } else if relative.starts_with("threads/") && relative.ends_with(".jsonl") {
                let language = file_language(&relative);
                parse_labelled(&path, &text, "thread", &mut corpus.threads, |thread: &mut ThreadExample, origin| {
                    if thread.text.trim().is_empty() {
                        return Err("thread needs a non-empty text");
                    }
                    thread.language = language.clone();
                    thread.origin = origin;
                    Ok(())
                })?;
            } else if relative == "countries.tsv" {
                corpus.country_cues = parse_country_cues(&path, &text)?;
            } else if relative == "signals.toml" {
                corpus.signals = parse_toml(&path, &text)?;
            } else if relative == "rules.toml" {
                corpus.rules = parse_rules(&path, &text)?;
                corpus.rules_path = path.clone();
                saw_rules = true;
            } else if relative == "ramadan.tsv" {
                corpus.ramadan = parse_periods(&path, &text)?;
            }
        }
        if corpus.scripts.is_empty() {
            return Err(Error::Corpus {
                path: PathBuf::from(source.describe()),
                line: 0,
                message: "no scripts found under scripts/*.jsonl".to_string(),
            });
        }
        if !saw_rules {
            corpus.rules_path = PathBuf::from("rules.toml");
        }
        Ok(corpus)
    }
}

fn corpus_error(path: &Path, line: usize, message: impl Into<String>) -> Error {
    Error::Corpus { path: path.to_path_buf(), line, message: message.into() }
}

/// Non-empty, non-comment lines with their 1-based numbers.
fn data_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines()
        .enumerate()
        .map(|(i, line)| (i + 1, line.trim()))
        .filter(|(_, line)| !line.is_empty() && !line.starts_with('#'))
}

fn parse_scripts(path: &Path, text: &str, out: &mut Vec<Script>) -> Result<()> {
    for (line_no, line) in data_lines(text) {
        let mut script: Script =
            serde_json::from_str(line).map_err(|err| corpus_error(path, line_no, format!("malformed script: {err}")))?;
        if script.id.trim().is_empty() || script.text.trim().is_empty() {
            return Err(corpus_error(path, line_no, "script needs a non-empty id and text"));
        }
        script.origin = Origin { path: path.to_path_buf(), line: line_no };
        out.push(script);
    }
    Ok(())
}

/// The language of `train/<lang>[.<part>].jsonl` or `threads/<lang>[.<part>].jsonl`.
fn file_language(relative: &str) -> String {
    let file_name = Path::new(relative).file_name().unwrap_or_default().to_string_lossy().to_string();
    file_name.split('.').next().unwrap_or_default().to_string()
}

/// One JSON object per data line; `finish` records where it came from and may refuse it.
fn parse_labelled<T: serde::de::DeserializeOwned>(
    path: &Path,
    text: &str,
    what: &str,
    out: &mut Vec<T>,
    mut finish: impl FnMut(&mut T, Origin) -> std::result::Result<(), &'static str>,
) -> Result<()> {
    for (line_no, line) in data_lines(text) {
        let mut item: T =
            serde_json::from_str(line).map_err(|err| corpus_error(path, line_no, format!("malformed {what}: {err}")))?;
        finish(&mut item, Origin { path: path.to_path_buf(), line: line_no })
            .map_err(|message| corpus_error(path, line_no, message))?;
        out.push(item);
    }
    Ok(())
}

/// `COUNTRY<TAB>phrase[<TAB>lang=xx]`.
fn parse_country_cues(path: &Path, text: &str) -> Result<Vec<CountryCue>> {
    let mut cues = Vec::new();
    for (line_no, line) in data_lines(text) {
        let mut fields = line.split('\t').map(str::trim);
        let country = fields.next().unwrap_or_default();
        let phrase = fields.next().unwrap_or_default();
        if country.len() != 2 || !country.chars().all(|c| c.is_ascii_uppercase()) || phrase.is_empty() {
            return Err(corpus_error(path, line_no, "expected COUNTRY<TAB>phrase[<TAB>lang=xx]"));
        }
        let language_opt = match fields.next() {
            Some(condition) => match condition.strip_prefix("lang=") {
                Some(language) => Some(language.to_string()),
                None => return Err(corpus_error(path, line_no, format!("unknown condition `{condition}`"))),
            },
            None => None,
        };
        cues.push(CountryCue {
            country: country.to_string(),
            phrase: crate::text::normalize(phrase),
            language_opt,
            origin: Origin { path: path.to_path_buf(), line: line_no },
        });
    }
    Ok(cues)
}

/// `YEAR<TAB>start<TAB>end`, dates as YYYY-MM-DD.
fn parse_periods(path: &Path, text: &str) -> Result<Vec<Period>> {
    let mut periods = Vec::new();
    for (line_no, line) in data_lines(text) {
        let fields: Vec<&str> = line.split('\t').map(str::trim).collect();
        let parse = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d");
        match fields.as_slice() {
            [_year, start, end] => match (parse(start), parse(end)) {
                (Ok(start), Ok(end)) if start <= end => periods.push(Period { start, end }),
                _ => return Err(corpus_error(path, line_no, "expected YEAR<TAB>YYYY-MM-DD<TAB>YYYY-MM-DD, start before end")),
            },
            _ => return Err(corpus_error(path, line_no, "expected YEAR<TAB>start<TAB>end")),
        }
    }
    Ok(periods)
}

fn parse_toml<T: serde::de::DeserializeOwned>(path: &Path, text: &str) -> Result<T> {
    toml::from_str(text).map_err(|err| {
        let line = err.span().map(|span| line_of(text, span.start)).unwrap_or(0);
        corpus_error(path, line, err.message().to_string())
    })
}

fn parse_rules(path: &Path, text: &str) -> Result<RulesFile> {
    let mut rules: RulesFile = parse_toml(path, text)?;
    // Remember the line of each `[[rule]]` header for messages about it.
    let headers: Vec<usize> = text
        .lines()
        .enumerate()
        .filter(|(_, line)| line.trim() == "[[rule]]")
        .map(|(i, _)| i + 1)
        .collect();
    for (rule, line) in rules.rule.iter_mut().zip(headers) {
        rule.line = line;
    }
    Ok(rules)
}

fn line_of(text: &str, byte_offset: usize) -> usize {
    text[..byte_offset.min(text.len())].matches('\n').count() + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_script_names_file_and_line() {
        let mut scripts = Vec::new();
        let text = "{\"id\":\"a\",\"intent\":\"greeting\",\"language\":\"en\",\"text\":\"hi\"}\n\n{oops\n";
        let err = parse_scripts(Path::new("corpus/scripts/en.jsonl"), text, &mut scripts).unwrap_err();
        assert!(err.to_string().starts_with("corpus/scripts/en.jsonl:3: "), "{err}");
    }

    #[test]
    fn toml_errors_carry_a_line() {
        let err = parse_rules(Path::new("rules.toml"), "[placeholders]\nx = \"1\"\n[[rule]]\nid = 3\n").unwrap_err();
        assert!(err.to_string().starts_with("rules.toml:4: "), "{err}");
    }

    #[test]
    fn builtin_corpus_loads() {
        let corpus = Corpus::load(&CorpusSource::BuiltIn).unwrap();
        assert!(!corpus.scripts.is_empty());
        assert!(!corpus.rules.rule.is_empty());
    }
}
