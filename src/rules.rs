//! The rule engine: applies the cultural and conversational rules of `corpus/rules.toml` to the
//! candidate scripts of one request. This is the one place where a rule changes a reply; every
//! rule that shaped a reply is named in its `applied_rules`.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::NaiveDate;

use crate::corpus::{Period, RuleSpec, RulesFile, Script};
use crate::text::{normalize, PhraseSet};

/// What a rule needs to know about the request to decide whether it applies.
#[derive(Debug, Clone, Copy)]
pub struct RequestState<'a> {
    pub country_opt: Option<&'a str>,
    pub intent: &'a str,
    pub date: NaiveDate,
    pub angry: bool,
    pub anxious: bool,
    pub escalated: bool,
}

/// A rule with its country groups expanded and its phrases normalised.
#[derive(Debug, Clone)]
struct Rule {
    spec: RuleSpec,
    countries: BTreeSet<String>,
    forbid_opt: Option<PhraseSet>,
}

/// Tag preferences of the active rules.
#[derive(Debug, Clone)]
pub struct TagBonuses<'a> {
    preferred: Vec<(&'a str, f32)>,
}

impl TagBonuses<'_> {
    /// The bonus a script gets for its tags.
    pub fn of(&self, script: &Script) -> f32 {
        self.preferred.iter().filter(|(tag, _)| script.tags.iter().any(|t| t == tag)).map(|(_, bonus)| bonus).sum()
    }
}

/// A reply after the rules: its text and which rules shaped it (its score bonus is
/// [`ActiveRules::tag_bonuses`], known before any text is built).
#[derive(Debug, Clone, PartialEq)]
pub struct ShapedReply {
    pub text: String,
    pub applied_rules: Vec<String>,
}

/// A corpus text (a script body or a rule's phrase) filled with the default shop variables, and
/// its normal form: what a request without variables of its own shows and checks. Prepared once
/// at load, so that shaping a reply mostly joins ready-made strings.
#[derive(Debug, Clone, PartialEq)]
pub struct Prepared {
    pub filled: String,
    pub normalized: String,
}

/// The rules that apply to one request, chosen once and shared by every candidate script.
#[derive(Debug, Clone)]
pub struct ActiveRules<'a> {
    rules: Vec<&'a Rule>,
    /// Which rules these are, one bit per rule of the file; `None` past 64 rules.
    key_opt: Option<u64>,
}

impl<'a> ActiveRules<'a> {
    /// Identifies this set of rules among all the sets the rule file can give: equal keys, equal
    /// rules. `None` when the file has more rules than the key has bits.
    pub fn key_opt(&self) -> Option<u64> {
        self.key_opt
    }

    /// The language replies are written in: a market rule may require one (Brazil → Portuguese).
    pub fn reply_language(&self, detected: &str) -> (String, Option<String>) {
        for rule in &self.rules {
            if let Some(language) = &rule.spec.reply_language {
                if language != detected {
                    return (language.clone(), Some(rule.spec.id.clone()));
                }
            }
        }
        (detected.to_string(), None)
    }

    /// The tags the active rules prefer, with their score bonus; [`TagBonuses::of`] scores a
    /// script by its tags (cheap: no text work), so it is computed once per request.
    pub fn tag_bonuses(&self) -> TagBonuses<'a> {
        TagBonuses {
            preferred: self
                .rules
                .iter()
                .flat_map(|rule| rule.spec.prefer_tags.iter().map(|(tag, bonus)| (tag.as_str(), *bonus)))
                .collect(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct RuleEngine {
    rules: Vec<Rule>,
    phrases: BTreeMap<String, BTreeMap<String, String>>,
    placeholders: BTreeMap<String, String>,
    ramadan: Vec<Period>,
    /// Every phrase and form of address of the rules, prepared, by its raw text.
    prepared_phrases: HashMap<String, Prepared>,
}

impl RuleEngine {
    pub fn new(file: &RulesFile, ramadan: &[Period]) -> RuleEngine {
        let rules = file
            .rule
            .iter()
            .map(|spec| Rule {
                countries: expand_countries(&spec.countries, &file.markets),
                forbid_opt: (!spec.forbid.is_empty()).then(|| {
                    let phrases: Vec<String> = spec.forbid.iter().map(|phrase| normalize(phrase)).collect();
                    PhraseSet::new(phrases.iter().map(String::as_str))
                }),
                spec: spec.clone(),
            })
            .collect();
        let mut engine = RuleEngine {
            rules,
            phrases: file.phrases.clone(),
            placeholders: file.placeholders.clone(),
            ramadan: ramadan.to_vec(),
            prepared_phrases: HashMap::new(),
        };
        let raw_phrases: BTreeSet<&String> = file
            .phrases
            .values()
            .flat_map(BTreeMap::values)
            .chain(file.rule.iter().flat_map(|spec| spec.address.values()))
            .collect();
        engine.prepared_phrases = raw_phrases.into_iter().map(|raw| (raw.clone(), engine.prepare(raw))).collect();
        engine
    }

    /// Fills a corpus text with the default shop variables and normalises it.
    pub fn prepare(&self, text: &str) -> Prepared {
        self.prepare_with(text, &BTreeMap::new())
    }

    fn prepare_with(&self, text: &str, context: &BTreeMap<String, String>) -> Prepared {
        let filled = self.fill(text, context);
        Prepared { normalized: normalize(&filled), filled }
    }

    /// A corpus text as a request shows it: its form prepared at load when the request brings no
    /// variables of its own, else filled from the request's context.
    fn resolve<'a>(
        &self,
        raw: &str,
        prepared_opt: Option<&'a Prepared>,
        context: &BTreeMap<String, String>,
    ) -> Cow<'a, Prepared> {
        match prepared_opt {
            Some(prepared) if context.is_empty() => Cow::Borrowed(prepared),
            _ => Cow::Owned(self.prepare_with(raw, context)),
        }
    }

    /// A rule's phrase or form of address as a request shows it.
    fn resolve_phrase(&self, raw: &str, context: &BTreeMap<String, String>) -> Cow<'_, Prepared> {
        self.resolve(raw, self.prepared_phrases.get(raw), context)
    }

    /// True when the date falls in a Ramadan period of the calendar.
    pub fn is_ramadan(&self, date: NaiveDate) -> bool {
        self.ramadan.iter().any(|period| period.start <= date && date <= period.end)
    }

    /// The rules that apply to the request.
    pub fn active(&self, state: &RequestState<'_>) -> ActiveRules<'_> {
        let ramadan = self.is_ramadan(state.date);
        let mut key = 0u64;
        let rules = self
            .rules
            .iter()
            .enumerate()
            .filter(|(_, rule)| {
                let spec = &rule.spec;
                let market_ok = rule.countries.is_empty()
                    || state.country_opt.is_some_and(|country| rule.countries.contains(country));
                let intent_ok = spec.intents.is_empty() || spec.intents.iter().any(|intent| intent == state.intent);
                let calendar_ok = match spec.calendar.as_deref() {
                    None => true,
                    Some("ramadan") => ramadan,
                    Some(_) => false,
                };
                let state_ok = match spec.when.as_deref() {
                    None => true,
                    Some("angry") => state.angry,
                    Some("anxious") => state.anxious,
                    Some("escalated") => state.escalated,
                    Some(_) => false,
                };
                market_ok && intent_ok && calendar_ok && state_ok
            })
            .map(|(i, rule)| {
                key |= 1u64.checked_shl(i as u32).unwrap_or(0);
                rule
            })
            .collect();
        let key_opt = (self.rules.len() <= 64).then_some(key);
        ActiveRules { rules, key_opt }
    }

    /// Applies the active rules to one script: tag preferences, form of address, prepended and
    /// appended phrases, placeholders, and forbidden phrases. `None` when a rule forbids it.
    pub fn shape(
        &self,
        active: &ActiveRules<'_>,
        script: &Script,
        body: &Prepared,
        context: &BTreeMap<String, String>,
    ) -> Option<ShapedReply> {
        let language = script.language.as_str();
        let mut applied: Vec<String> = Vec::new();
        let mut address_opt: Option<(&str, &str)> = None;
        let mut before: Vec<&str> = Vec::new();
        let mut after: Vec<&str> = Vec::new();
        for rule in &active.rules {
            let spec = &rule.spec;
            let mut shaped = spec.prefer_tags.keys().any(|tag| script.tags.contains(tag));
            // The most specific form of address wins: later rules in the file are more specific.
            if let Some(address) = spec.address.get(language) {
                address_opt = Some((address.as_str(), spec.id.as_str()));
            }
            let skip_phrases = spec.unless_tag.as_ref().is_some_and(|tag| script.tags.contains(tag));
            if !skip_phrases {
                if let Some(phrase) = spec.prepend.as_ref().and_then(|key| self.phrase(key, language)) {
                    before.push(phrase);
                    shaped = true;
                }
                if let Some(phrase) = spec.append.as_ref().and_then(|key| self.phrase(key, language)) {
                    after.push(phrase);
                    shaped = true;
                }
            }
            if shaped || spec.reply_language.is_some() {
                applied.push(spec.id.clone());
            }
        }
        if let Some((_, rule_id)) = address_opt {
            if !applied.iter().any(|id| id == rule_id) {
                applied.push(rule_id.to_string());
            }
        }
        let parts: Vec<Cow<'_, Prepared>> = before
            .iter()
            .map(|phrase| self.resolve_phrase(phrase, context))
            .chain(std::iter::once(self.resolve(&script.text, Some(body), context)))
            .chain(after.iter().map(|phrase| self.resolve_phrase(phrase, context)))
            .collect();
        let separator = if matches!(language, "zh" | "ja") { "" } else { " " };
        // The reply and, for the forbidden-phrase check, its normal form: normalising works
        // character by character, so the text's normal form is its parts' joined.
        let capacity: usize = parts.iter().map(|part| part.filled.len() + 1).sum::<usize>() + 32;
        let mut text = String::with_capacity(capacity);
        let mut normalized = String::with_capacity(capacity);
        if let Some((address, _)) = address_opt {
            let address = self.resolve_phrase(address, context);
            text.push_str(&address.filled);
            normalized.push_str(&address.normalized);
            // A letter-style address stands on its own line; the inline Chinese "亲，" does not.
            if !text.ends_with('，') {
                text.push('\n');
                normalized.push('\n');
            }
        }
        for (i, part) in parts.iter().enumerate() {
            if i > 0 {
                text.push_str(separator);
                normalized.push_str(separator);
            }
            text.push_str(&part.filled);
            normalized.push_str(&part.normalized);
        }
        for rule in &active.rules {
            let Some(forbid) = &rule.forbid_opt else {
                continue;
            };
            if forbid.any(&normalized) {
                return None;
            }
            if !applied.contains(&rule.spec.id) {
                applied.push(rule.spec.id.clone());
            }
        }
        Some(ShapedReply { text, applied_rules: applied })
    }

    fn phrase(&self, key: &str, language: &str) -> Option<&str> {
        let by_language = self.phrases.get(key)?;
        by_language.get(language).or_else(|| by_language.get("en")).map(String::as_str)
    }

    /// Fills `{placeholder}`s from the request's context, then the corpus defaults; an unknown
    /// placeholder becomes empty, so a reply never shows a raw `{name}`.
    pub fn fill(&self, text: &str, context: &BTreeMap<String, String>) -> String {
        // Nothing to fill and no spaces to tidy: the text as it is.
        if !text.contains('{') && !text.contains("  ") && !text.starts_with(' ') && !text.ends_with(' ') {
            return text.to_string();
        }
        let mut out = String::with_capacity(text.len() + 16);
        let mut rest = text;
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let after_open = &rest[open + 1..];
            match after_open.find('}') {
                Some(close) if is_placeholder_name(&after_open[..close]) => {
                    let name = &after_open[..close];
                    let value = context
                        .get(name)
                        .filter(|v| !v.trim().is_empty())
                        .or_else(|| self.placeholders.get(name))
                        .map(String::as_str)
                        .unwrap_or_default();
                    out.push_str(value);
                    rest = &after_open[close + 1..];
                }
                _ => {
                    out.push('{');
                    rest = after_open;
                }
            }
        }
        out.push_str(rest);
        // An empty value may leave doubled or dangling spaces.
        out.split(' ').filter(|part| !part.is_empty()).collect::<Vec<_>>().join(" ")
    }
}

/// True for a `{name}` body: lowercase ASCII letters, digits and underscores.
pub fn is_placeholder_name(name: &str) -> bool {
    !name.is_empty() && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// Expands `@group` names into their countries.
pub fn expand_countries(countries: &[String], markets: &BTreeMap<String, Vec<String>>) -> BTreeSet<String> {
    let mut expanded = BTreeSet::new();
    for entry in countries {
        match entry.strip_prefix('@') {
            Some(group) => expanded.extend(markets.get(group).into_iter().flatten().cloned()),
            None => {
                expanded.insert(entry.clone());
            }
        }
    }
    expanded
}
