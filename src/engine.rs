//! The engine: one buyer message in, a classification and ranked replies out. It owns the loaded
//! corpus (scripts, index, trained models, rules) and is shared read-only by the adapters.
//!
//! Data flow: language → country → intent (with history) → conversation signals → candidate
//! scripts from the index → rule engine → ranked replies.

use std::collections::BTreeMap;
use std::sync::RwLock;
use std::time::Instant;

use chrono::NaiveDate;
use rustc_hash::FxHashMap;
use tracing::info;

use crate::corpus::{Corpus, CorpusSource, Script};
use crate::country::CountryDetector;
use crate::error::{Error, Result};
use crate::escalation::SignalLexicon;
use crate::index::ScriptIndex;
use crate::intent::IntentClassifier;
use crate::language::{LanguageDetector, LanguagePriors};
use crate::lint::lint;
use crate::model::{CorpusFeatures, Features};
use crate::message::{Classification, Message, Role, ScoredReply, Suggestion};
use crate::rules::{ActiveRules, Prepared, RequestState, RuleEngine, ShapedReply};
use crate::text::{index_terms_of, normalize, tokenize, Token};

/// Language answered in when the corpus lacks the buyer's.
const FALLBACK_LANGUAGE: &str = "en";
/// Weight of the (normalised) BM25 match against the message in a reply's score.
const BM25_WEIGHT: f32 = 1.0;
/// Most shaped replies kept for reuse (see [`Engine::shape`]): a few MB at most.
const MAX_SHAPED_KEPT: usize = 16_384;

pub struct Engine {
    source: CorpusSource,
    scripts: Vec<Script>,
    index: ScriptIndex,
    language: LanguageDetector,
    country: CountryDetector,
    intent: IntentClassifier,
    signals: SignalLexicon,
    rules: RuleEngine,
    /// Each script's text filled with the default shop variables, and normalised for the
    /// forbidden-phrase check, for requests without variables of their own.
    prepared_scripts: Vec<Prepared>,
    /// Each script's place in the order of script ids, to break score ties by id with an integer
    /// comparison.
    id_ranks: Vec<u32>,
    /// Scripts already shaped for a request without variables, by script and set of active
    /// rules (see [`Engine::shape`]).
    shaped: RwLock<FxHashMap<(usize, u64), Option<ShapedReply>>>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine").field("source", &self.source).field("num_scripts", &self.scripts.len()).finish()
    }
}

impl Engine {
    /// Loads, validates, indexes and trains from a corpus. A corpus that fails lint is refused.
    pub fn load(source: CorpusSource) -> Result<Engine> {
        let started = Instant::now();
        let corpus = Corpus::load(&source)?;
        let problems = lint(&corpus);
        if !problems.is_empty() {
            return Err(Error::CorpusInvalid(problems));
        }
        let engine = Engine::from_corpus(source, corpus)?;
        info!(
            corpus = %engine.source.describe(),
            num_scripts = engine.scripts.len(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "corpus indexed"
        );
        Ok(engine)
    }

    /// Builds the engine from an already parsed corpus, without lint (benchmarks and tests of
    /// synthetic corpora).
    pub fn from_corpus(source: CorpusSource, corpus: Corpus) -> Result<Engine> {
        let index = ScriptIndex::build(&corpus.scripts)?;
        // Both models learn from the same texts: extract their features once.
        let features = CorpusFeatures::of(&corpus);
        let language = LanguageDetector::train(&corpus, &features);
        let signals = SignalLexicon::new(&corpus.signals);
        let intent = IntentClassifier::train(&corpus, &features, &signals);
        let rules = RuleEngine::new(&corpus.rules, &corpus.ramadan);
        let prepared_scripts = corpus.scripts.iter().map(|script| rules.prepare(&script.text)).collect();
        let mut by_id: Vec<usize> = (0..corpus.scripts.len()).collect();
        by_id.sort_by(|&a, &b| corpus.scripts[a].id.cmp(&corpus.scripts[b].id));
        let mut id_ranks = vec![0u32; corpus.scripts.len()];
        for (rank, ord) in by_id.into_iter().enumerate() {
            id_ranks[ord] = rank as u32;
        }
        Ok(Engine {
            country: CountryDetector::new(corpus.country_cues.clone()),
            signals,
            rules,
            prepared_scripts,
            id_ranks,
            shaped: RwLock::new(FxHashMap::default()),
            scripts: corpus.scripts,
            source,
            index,
            language,
            intent,
        })
    }

    pub fn source(&self) -> &CorpusSource {
        &self.source
    }

    pub fn num_scripts(&self) -> usize {
        self.scripts.len()
    }

    /// What the engine understands of the message.
    pub fn classify(&self, message: &Message) -> Classification {
        let normalized = normalize(&message.text);
        self.classify_normalized(message, &normalized, &tokenize(&normalized))
    }

    /// [`Engine::classify`], given the message text's normal form and its tokens.
    fn classify_normalized(&self, message: &Message, normalized: &str, tokens: &[Token<'_>]) -> Classification {
        let history_language_opt = message
            .history
            .iter()
            .rev()
            .filter(|turn| turn.role != Role::Seller)
            .find_map(|turn| self.language.detect_opt(&turn.text, LanguagePriors::default()));
        let priors = LanguagePriors {
            hint_opt: message.language_hint_opt.as_deref(),
            history_opt: history_language_opt.as_deref(),
            country_opt: message.country_opt.as_deref(),
        };
        // The language and intent models read the same features of the message.
        let features = Features::of_tokens(tokens);
        let language = self
            .language
            .detect_with_opt(&message.text, Some(&features), priors)
            .or_else(|| message.language_hint_opt.clone())
            .or(history_language_opt)
            .unwrap_or_else(|| FALLBACK_LANGUAGE.to_string());

        // Newest first: the message, then the buyer's earlier turns.
        let buyer_texts: Vec<&str> = std::iter::once(message.text.as_str())
            .chain(message.history.iter().rev().filter(|turn| turn.role != Role::Seller).map(|t| t.text.as_str()))
            .collect();
        let (country_opt, country_source_opt) =
            self.country.detect(message.country_opt.as_deref(), &buyer_texts, &language);

        let assessment =
            self.signals.assess(&message.text, normalized, &message.history, |seller_text| self.intent.is_substantive(seller_text));
        let intents = self.intent.classify(&message.text, &features, &message.history, &assessment.signals);
        let intent = intents.first().map(|s| s.intent.clone()).unwrap_or_else(|| "other".to_string());
        Classification {
            intent,
            intents,
            language,
            country_opt,
            country_source_opt,
            escalate: assessment.escalate,
            escalate_reasons: assessment.reasons,
            satisfied: assessment.satisfied,
            angry: assessment.angry,
            anxious: assessment.anxious,
        }
    }

    /// Classifies the message and ranks reply scripts for it.
    pub fn suggest(&self, message: &Message) -> Result<Suggestion> {
        // The text is normalised and split once, for the models, the signal phrases and the index.
        let normalized = normalize(&message.text);
        let tokens = tokenize(&normalized);
        let classification = self.classify_normalized(message, &normalized, &tokens);
        let replies = self.rank(message, &classification, &index_terms_of(&tokens))?;
        Ok(Suggestion { classification, replies })
    }

    /// Candidate scripts of the main intent (then of the next intents while replies are short),
    /// shaped and filtered by the rules, best first.
    /// `message_terms` are the message's index terms.
    fn rank(&self, message: &Message, classification: &Classification, message_terms: &str) -> Result<Vec<ScoredReply>> {
        let date = message.date_opt.unwrap_or_else(today);
        let mut replies: Vec<ScoredReply> = Vec::new();
        for intent_score in &classification.intents {
            if replies.len() >= message.max_replies {
                break;
            }
            let state = RequestState {
                country_opt: classification.country_opt.as_deref(),
                intent: &intent_score.intent,
                date,
                angry: classification.angry,
                anxious: classification.anxious,
                escalated: classification.escalate,
            };
            let mut batch = self.rank_intent(message, message_terms, classification, &state)?;
            // Replies for a secondary intent rank below every reply of the main one.
            let ceiling = replies.last().map(|r| r.score).unwrap_or(f32::INFINITY);
            for reply in &mut batch {
                reply.score = reply.score.min(ceiling) * intent_score.score.max(0.01).sqrt().min(1.0);
            }
            for reply in batch {
                if replies.len() >= message.max_replies {
                    break;
                }
                if !replies.iter().any(|r| r.script_id == reply.script_id) {
                    replies.push(reply);
                }
            }
        }
        Ok(replies)
    }

    fn rank_intent(
        &self,
        message: &Message,
        message_terms: &str,
        classification: &Classification,
        state: &RequestState<'_>,
    ) -> Result<Vec<ScoredReply>> {
        let active = self.rules.active(state);
        let (reply_language, language_rule_opt) = active.reply_language(&classification.language);
        let mut hits = self.index.search(state.intent, &reply_language, message_terms)?;
        if hits.is_empty() && reply_language != FALLBACK_LANGUAGE {
            hits = self.index.search(state.intent, FALLBACK_LANGUAGE, message_terms)?;
        }
        // BM25 only orders scripts within the cell; rule bonuses outweigh it. Scores are known
        // before any text is built, so only the best candidates are shaped, until enough pass.
        let max_bm25 = hits.iter().map(|hit| hit.bm25).fold(0.0f32, f32::max);
        let tag_bonuses = active.tag_bonuses();
        let mut candidates: Vec<(f32, usize, &Script)> = hits
            .iter()
            .map(|hit| (hit, &self.scripts[hit.ord]))
            .filter(|(_, script)| {
                script.countries.is_empty()
                    || state.country_opt.is_some_and(|country| script.countries.iter().any(|c| c == country))
            })
            .map(|(hit, script)| {
                let lexical = if max_bm25 > 0.0 { hit.bm25 / max_bm25 } else { 0.0 };
                (1.0 + BM25_WEIGHT * lexical + tag_bonuses.of(script), hit.ord, script)
            })
            .collect();
        // Best first, ties by script id (ids are unique: a total order). Most requests take the
        // first `max_replies`: only those are put in order, the rest only if the rules turn one
        // of them away.
        let best_first = |a: &(f32, usize, &Script), b: &(f32, usize, &Script)| {
            b.0.total_cmp(&a.0).then_with(|| self.id_ranks[a.1].cmp(&self.id_ranks[b.1]))
        };
        let first = message.max_replies.min(candidates.len());
        if first < candidates.len() {
            candidates.select_nth_unstable_by(first, best_first);
        }
        candidates[..first].sort_unstable_by(best_first);
        let mut replies = Vec::with_capacity(message.max_replies);
        for i in 0..candidates.len() {
            if replies.len() >= message.max_replies {
                break;
            }
            if i == first {
                candidates[first..].sort_unstable_by(best_first);
            }
            let (score, ord, script) = candidates[i];
            let Some(shaped) = self.shape(&active, ord, script, &message.context) else {
                continue;
            };
            let mut applied_rules = shaped.applied_rules;
            if let Some(rule) = &language_rule_opt {
                if !applied_rules.contains(rule) {
                    applied_rules.push(rule.clone());
                }
            }
            replies.push(ScoredReply {
                script_id: script.id.clone(),
                text: shaped.text,
                language: script.language.clone(),
                score,
                applied_rules,
            });
        }
        // Taken from the candidates best first, the replies are already in order.
        Ok(replies)
    }

    /// [`RuleEngine::shape`] for the script at `ord`. When the request brings no variables of
    /// its own, the shaped reply depends on nothing but the corpus and the set of active rules,
    /// not on the message: it is built once per script and set of rules, then reused (up to
    /// `MAX_SHAPED_KEPT` of them; past that, later ones are built each time).
    fn shape(
        &self,
        active: &ActiveRules<'_>,
        ord: usize,
        script: &Script,
        context: &BTreeMap<String, String>,
    ) -> Option<ShapedReply> {
        let key_opt = active.key_opt().filter(|_| context.is_empty()).map(|rules| (ord, rules));
        if let Some(key) = &key_opt {
            if let Some(kept) = self.shaped.read().unwrap_or_else(|poisoned| poisoned.into_inner()).get(key) {
                return kept.clone();
            }
        }
        let shaped = self.rules.shape(active, script, &self.prepared_scripts[ord], context);
        if let Some(key) = key_opt {
            let mut kept = self.shaped.write().unwrap_or_else(|poisoned| poisoned.into_inner());
            if kept.len() < MAX_SHAPED_KEPT {
                kept.insert(key, shaped.clone());
            }
        }
        shaped
    }
}

/// Today's date (UTC), used when a request gives none.
pub fn today() -> NaiveDate {
    chrono::Utc::now().date_naive()
}
