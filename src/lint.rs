//! Corpus validation, run by `reply-engine lint`, at every load and at every hot reload: schema,
//! coverage of every intent × language, known placeholders, no forbidden phrase in any script,
//! rules that refer to known intents, countries, tags and phrases. Each problem is reported as
//! `file:line: message`.

use std::collections::{BTreeMap, BTreeSet};

use crate::corpus::{Corpus, INTENTS, LANGUAGES};
use crate::request::is_iso_country;
use crate::rules::{expand_countries, is_placeholder_name};
use crate::text::{contains_phrase, normalize};

/// Tags a script may carry; rules prefer some of them.
pub const TAGS: [&str; 10] = [
    "quality_first",
    "coupon_gift",
    "apology_first",
    "concrete_time",
    "options",
    "question_back",
    "explanation",
    "offer",
    "neutral_colors",
    "scarcity",
];

/// Minimum scripts per intent × language.
pub const MIN_SCRIPTS_PER_CELL: usize = 3;

/// Returns every problem found, empty when the corpus is valid.
pub fn lint(corpus: &Corpus) -> Vec<String> {
    let mut problems = Vec::new();
    let rules_path = corpus.rules_path.display().to_string();
    let placeholders: BTreeSet<&str> = corpus.rules.placeholders.keys().map(String::as_str).collect();
    let global_forbid: Vec<(String, &str)> = corpus
        .rules
        .rule
        .iter()
        .filter(|rule| rule.countries.is_empty() && rule.calendar.is_none() && rule.when.is_none() && rule.intents.is_empty())
        .flat_map(|rule| rule.forbid.iter().map(move |phrase| (normalize(phrase), rule.id.as_str())))
        .collect();

    // Scripts.
    let mut seen_ids: BTreeMap<&str, String> = BTreeMap::new();
    let mut cells: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    for script in &corpus.scripts {
        let at = script.origin.to_string();
        if let Some(first) = seen_ids.insert(&script.id, at.clone()) {
            problems.push(format!("{at}: duplicate script id `{}` (first at {first})", script.id));
        }
        if !INTENTS.contains(&script.intent.as_str()) {
            problems.push(format!("{at}: unknown intent `{}`", script.intent));
        }
        if !LANGUAGES.contains(&script.language.as_str()) {
            problems.push(format!("{at}: unknown language `{}`", script.language));
        }
        for tag in &script.tags {
            if !TAGS.contains(&tag.as_str()) {
                problems.push(format!("{at}: unknown tag `{tag}`"));
            }
        }
        for country in &script.countries {
            if !is_iso_country(country) {
                problems.push(format!("{at}: unknown country `{country}`"));
            }
        }
        check_placeholders(&script.text, &placeholders, &at, &mut problems);
        let normalized = normalize(&script.text);
        for (phrase, rule_id) in &global_forbid {
            if contains_phrase(&normalized, phrase) {
                problems.push(format!("{at}: contains `{phrase}`, forbidden by rule `{rule_id}`"));
            }
        }
        *cells.entry((script.intent.as_str(), script.language.as_str())).or_default() += 1;
    }
    for intent in INTENTS {
        for language in LANGUAGES {
            let count = cells.get(&(intent, language)).copied().unwrap_or(0);
            if count < MIN_SCRIPTS_PER_CELL {
                problems.push(format!(
                    "scripts/{language}.jsonl:0: intent `{intent}` has {count} scripts in `{language}`, at least {MIN_SCRIPTS_PER_CELL} needed"
                ));
            }
        }
    }

    // Training examples.
    for example in &corpus.train {
        if !INTENTS.contains(&example.intent.as_str()) {
            problems.push(format!("{}: unknown intent `{}`", example.origin, example.intent));
        }
        if !LANGUAGES.contains(&example.language.as_str()) {
            problems.push(format!("{}: training file of unknown language `{}`", example.origin, example.language));
        }
    }

    // Labelled conversations.
    for thread in &corpus.threads {
        if !INTENTS.contains(&thread.intent.as_str()) {
            problems.push(format!("{}: unknown intent `{}`", thread.origin, thread.intent));
        }
        if !LANGUAGES.contains(&thread.language.as_str()) {
            problems.push(format!("{}: thread file of unknown language `{}`", thread.origin, thread.language));
        }
        if thread.history.iter().any(|turn| turn.role == crate::message::Role::Unspecified) {
            problems.push(format!("{}: every turn needs a role, buyer or seller", thread.origin));
        }
    }

    // Country cues.
    for cue in &corpus.country_cues {
        if !is_iso_country(&cue.country) {
            problems.push(format!("{}: unknown country `{}`", cue.origin, cue.country));
        }
        if let Some(language) = &cue.language_opt {
            if !LANGUAGES.contains(&language.as_str()) {
                problems.push(format!("{}: unknown language `{language}`", cue.origin));
            }
        }
    }

    // Rules.
    for (group, countries) in &corpus.rules.markets {
        for country in countries {
            if !is_iso_country(country) {
                problems.push(format!("{rules_path}:0: market `{group}` has unknown country `{country}`"));
            }
        }
    }
    let mut rule_ids = BTreeSet::new();
    for rule in &corpus.rules.rule {
        let at = format!("{rules_path}:{}", rule.line);
        if !rule_ids.insert(rule.id.as_str()) {
            problems.push(format!("{at}: duplicate rule id `{}`", rule.id));
        }
        for entry in &rule.countries {
            match entry.strip_prefix('@') {
                Some(group) if !corpus.rules.markets.contains_key(group) => {
                    problems.push(format!("{at}: rule `{}` refers to unknown market `@{group}`", rule.id))
                }
                None if !is_iso_country(entry) => {
                    problems.push(format!("{at}: rule `{}` refers to unknown country `{entry}`", rule.id))
                }
                _ => {}
            }
        }
        if !rule.countries.is_empty() && expand_countries(&rule.countries, &corpus.rules.markets).is_empty() {
            problems.push(format!("{at}: rule `{}` has an empty market", rule.id));
        }
        for intent in &rule.intents {
            if !INTENTS.contains(&intent.as_str()) {
                problems.push(format!("{at}: rule `{}` refers to unknown intent `{intent}`", rule.id));
            }
        }
        if let Some(calendar) = &rule.calendar {
            if calendar != "ramadan" {
                problems.push(format!("{at}: rule `{}` has unknown calendar `{calendar}`", rule.id));
            }
        }
        if let Some(when) = &rule.when {
            if !["angry", "anxious", "escalated"].contains(&when.as_str()) {
                problems.push(format!("{at}: rule `{}` has unknown state `{when}`", rule.id));
            }
        }
        for tag in rule.prefer_tags.keys().chain(rule.unless_tag.iter()) {
            if !TAGS.contains(&tag.as_str()) {
                problems.push(format!("{at}: rule `{}` refers to unknown tag `{tag}`", rule.id));
            }
        }
        for language in rule.address.keys().chain(rule.reply_language.iter()) {
            if !LANGUAGES.contains(&language.as_str()) && language != "ca" {
                problems.push(format!("{at}: rule `{}` refers to unknown language `{language}`", rule.id));
            }
        }
        for key in rule.prepend.iter().chain(rule.append.iter()) {
            match corpus.rules.phrases.get(key) {
                None => problems.push(format!("{at}: rule `{}` refers to unknown phrase `{key}`", rule.id)),
                Some(by_language) => {
                    for language in LANGUAGES {
                        if !by_language.contains_key(language) {
                            problems.push(format!("{at}: phrase `{key}` lacks language `{language}`"));
                        }
                    }
                }
            }
        }
    }
    for (key, by_language) in &corpus.rules.phrases {
        for text in by_language.values() {
            check_placeholders(text, &placeholders, &format!("{rules_path}:0: phrase `{key}`"), &mut problems);
        }
    }

    // Signals.
    for lists in [
        &corpus.signals.satisfaction,
        &corpus.signals.frustration,
        &corpus.signals.threat,
        &corpus.signals.insult,
        &corpus.signals.anxiety,
    ] {
        for language in lists.keys() {
            if !LANGUAGES.contains(&language.as_str()) {
                problems.push(format!("signals.toml:0: unknown language `{language}`"));
            }
        }
    }
    problems
}

fn check_placeholders(text: &str, known: &BTreeSet<&str>, at: &str, problems: &mut Vec<String>) {
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) if is_placeholder_name(&after[..close]) => {
                let name = &after[..close];
                if !known.contains(name) {
                    problems.push(format!("{at}: unknown placeholder `{{{name}}}`"));
                }
                rest = &after[close + 1..];
            }
            _ => {
                problems.push(format!("{at}: unbalanced `{{`"));
                return;
            }
        }
    }
}
