//! The full-text index of reply scripts (tantivy, in RAM). Scripts are found within an intent and
//! a language (a cell) and ranked by BM25 against the buyer's message; the rule engine shapes the rest.

use tantivy::query::{EnableScoring, TermQuery, Weight};
use tantivy::schema::{
    Field, IndexRecordOption, Schema, TextFieldIndexing, TextOptions, FAST, STRING,
};
use tantivy::{doc, DocSet, Index, IndexReader, IndexWriter, ReloadPolicy, Searcher, Term, TERMINATED};

use std::collections::HashMap;

use crate::corpus::Script;
use crate::error::Result;
use crate::text::index_terms;

/// Most candidate scripts read per search; each intent × language has far fewer in practice.
const MAX_CANDIDATES: usize = 64;
/// Most message terms used in a query.
const MAX_QUERY_TERMS: usize = 48;

/// Fields of the script index.
#[derive(Debug, Clone, Copy)]
struct Fields {
    /// `intent/language`: one exact-match term per cell, so that a search starts from the few
    /// scripts of its cell rather than from all scripts of the intent or of the language.
    cell: Field,
    body: Field,
}

/// A search hit: the script's position in the corpus and its BM25 score.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Hit {
    pub ord: usize,
    pub bm25: f32,
}

pub struct ScriptIndex {
    fields: Fields,
    /// The index never changes after build, so one searcher serves every search.
    searcher: Searcher,
    /// The `ord` fast-field column of each segment, opened once.
    ords: Vec<tantivy::columnar::Column<u64>>,
    /// Scripts per language, to tell the language's stop words (see `search`).
    scripts_per_language: std::collections::BTreeMap<String, u64>,
    /// Every term of each cell's scripts with its document frequency in the whole index. A
    /// message term absent from the cell cannot move the cell's BM25 order, so the query leaves
    /// it out; looking terms up here spares a term-dictionary lookup per message word.
    cell_terms: HashMap<String, HashMap<String, u64>>,
}

impl std::fmt::Debug for ScriptIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScriptIndex").field("num_docs", &self.searcher.num_docs()).finish()
    }
}

impl ScriptIndex {
    /// Builds the index in RAM from the scripts, in corpus order.
    pub fn build(scripts: &[Script]) -> Result<ScriptIndex> {
        // Schema: exact-match intent and language, the pre-tokenised text for BM25, and the
        // script's position in the corpus as a fast field.
        let mut builder = Schema::builder();
        let cell = builder.add_text_field("cell", STRING);
        let body_indexing =
            TextFieldIndexing::default().set_tokenizer("whitespace").set_index_option(IndexRecordOption::WithFreqs);
        let body = builder.add_text_field("body", TextOptions::default().set_indexing_options(body_indexing));
        let ord = builder.add_u64_field("ord", FAST);
        let index = Index::create_in_ram(builder.build());

        // One writer thread is plenty for a few thousand short documents.
        let mut writer: IndexWriter = index.writer_with_num_threads(1, 64_000_000)?;
        let mut cell_terms: HashMap<String, HashMap<String, u64>> = HashMap::new();
        let mut doc_freqs: HashMap<String, u64> = HashMap::new();
        for (position, script) in scripts.iter().enumerate() {
            let key = cell_key(&script.intent, &script.language);
            let terms = index_terms(&script.text);
            let mut distinct: Vec<&str> = terms.split(' ').filter(|t| !t.is_empty()).collect();
            distinct.sort_unstable();
            distinct.dedup();
            let in_cell = cell_terms.entry(key.clone()).or_default();
            for term in distinct {
                *doc_freqs.entry(term.to_string()).or_insert(0) += 1;
                in_cell.entry(term.to_string()).or_insert(0);
            }
            writer.add_document(doc!(cell => key, body => terms, ord => position as u64))?;
        }
        for terms in cell_terms.values_mut() {
            for (term, doc_freq) in terms.iter_mut() {
                *doc_freq = doc_freqs.get(term).copied().unwrap_or(0);
            }
        }
        writer.commit()?;

        // The index never changes after the commit: a reload swaps in a whole new index.
        let reader: IndexReader = index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into()?;
        let mut scripts_per_language = std::collections::BTreeMap::new();
        for script in scripts {
            *scripts_per_language.entry(script.language.clone()).or_insert(0u64) += 1;
        }
        let searcher = reader.searcher();
        let ords = searcher
            .segment_readers()
            .iter()
            .map(|segment| segment.fast_fields().u64("ord"))
            .collect::<tantivy::Result<Vec<_>>>()?;
        Ok(ScriptIndex { fields: Fields { cell, body }, searcher, ords, scripts_per_language, cell_terms })
    }

    /// Scripts of `intent` in `language`, best BM25 match against the message first;
    /// `message_terms` are the message's [`index_terms`], computed once per request.
    ///
    /// A cell holds few scripts, so the search reads the cell's documents from its posting list
    /// and sums, for each, the BM25 scores of tantivy's term scorers of the message terms found
    /// in the cell: no union of whole posting lists and no collector over the index.
    pub fn search(&self, intent: &str, language: &str, message_terms: &str) -> Result<Vec<Hit>> {
        let fields = self.fields;
        let key = cell_key(intent, language);
        let Some(cell_terms) = self.cell_terms.get(&key) else {
            return Ok(Vec::new());
        };
        // A term found in over half of the language's scripts is a stop word: it barely moves
        // BM25 and its long posting list is most of the search's cost on a large corpus.
        let stop_word_df = self.scripts_per_language.get(language).copied().unwrap_or(0) / 2;
        let mut query_terms: Vec<&str> = Vec::new();
        for term in message_terms.split(' ').filter(|t| !t.is_empty()) {
            // Only terms of the cell's own scripts can score within the cell.
            let in_cell = cell_terms.get(term).is_some_and(|&doc_freq| doc_freq <= stop_word_df);
            if in_cell && !query_terms.contains(&term) {
                query_terms.push(term);
                if query_terms.len() >= MAX_QUERY_TERMS {
                    break;
                }
            }
        }
        let scoring = EnableScoring::enabled_from_searcher(&self.searcher);
        let weights = query_terms
            .iter()
            .map(|term| {
                TermQuery::new(Term::from_field_text(fields.body, term), IndexRecordOption::WithFreqs)
                    .specialized_weight(scoring)
            })
            .collect::<tantivy::Result<Vec<_>>>()?;
        let cell_term = Term::from_field_text(fields.cell, &key);
        let mut hits = Vec::new();
        for (segment_ord, segment) in self.searcher.segment_readers().iter().enumerate() {
            let postings_opt = segment
                .inverted_index(fields.cell)?
                .read_postings(&cell_term, IndexRecordOption::Basic)
                .map_err(tantivy::TantivyError::from)?;
            let Some(mut postings) = postings_opt else {
                continue;
            };
            let mut docs = Vec::new();
            while postings.doc() != TERMINATED {
                docs.push(postings.doc());
                postings.advance();
            }
            let mut scores = vec![0.0f32; docs.len()];
            for weight in &weights {
                let mut scorer = weight.scorer(segment, 1.0)?;
                for (doc, score) in docs.iter().zip(scores.iter_mut()) {
                    let current = if scorer.doc() < *doc { scorer.seek(*doc) } else { scorer.doc() };
                    if current == TERMINATED {
                        break;
                    }
                    if current == *doc {
                        *score += scorer.score();
                    }
                }
            }
            let column = &self.ords[segment_ord];
            hits.extend(docs.iter().zip(scores).map(|(doc, bm25)| Hit {
                ord: column.first(*doc).unwrap_or_default() as usize,
                bm25,
            }));
        }
        hits.sort_by(|a, b| b.bm25.total_cmp(&a.bm25).then_with(|| a.ord.cmp(&b.ord)));
        hits.truncate(MAX_CANDIDATES);
        Ok(hits)
    }
}

fn cell_key(intent: &str, language: &str) -> String {
    format!("{intent}/{language}")
}
