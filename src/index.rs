//! The full-text index of reply scripts (tantivy, in RAM). Scripts are found within an intent and
//! a language (a cell) and ranked by BM25 against the buyer's message; the rule engine shapes the rest.

use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, Occur, Query, TermQuery};
use tantivy::schema::{
    Field, IndexRecordOption, Schema, TextFieldIndexing, TextOptions, FAST, STRING,
};
use tantivy::{doc, Index, IndexReader, IndexWriter, ReloadPolicy, Searcher, Term};

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
        for (position, script) in scripts.iter().enumerate() {
            writer.add_document(doc!(
                cell => cell_key(&script.intent, &script.language),
                body => index_terms(&script.text),
                ord => position as u64,
            ))?;
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
        Ok(ScriptIndex { fields: Fields { cell, body }, searcher, ords, scripts_per_language })
    }

    /// Scripts of `intent` in `language`, best BM25 match against `message` first.
    pub fn search(&self, intent: &str, language: &str, message: &str) -> Result<Vec<Hit>> {
        let fields = self.fields;
        let mut clauses: Vec<(Occur, Box<dyn Query>)> =
            vec![(Occur::Must, term_query(fields.cell, &cell_key(intent, language), IndexRecordOption::Basic))];
        let searcher = &self.searcher;
        // A term found in over half of the language's scripts is a stop word: it barely moves
        // BM25 and its long posting list is most of the search's cost on a large corpus.
        let stop_word_df = self.scripts_per_language.get(language).copied().unwrap_or(0) / 2;
        let terms = index_terms(message);
        let mut seen: Vec<&str> = Vec::new();
        for term in terms.split(' ').filter(|t| !t.is_empty()) {
            if seen.contains(&term) {
                continue;
            }
            seen.push(term);
            let body_term = Term::from_field_text(fields.body, term);
            // A term no script has cannot score; skipping it spares building its BM25 weight.
            let doc_freq = searcher.doc_freq(&body_term)?;
            if doc_freq == 0 || doc_freq > stop_word_df {
                continue;
            }
            clauses.push((Occur::Should, Box::new(TermQuery::new(body_term, IndexRecordOption::WithFreqs))));
            if seen.len() >= MAX_QUERY_TERMS {
                break;
            }
        }
        let query = BooleanQuery::new(clauses);
        let top_docs = searcher.search(&query, &TopDocs::with_limit(MAX_CANDIDATES).order_by_score())?;
        // The Must clause adds the same constant to every hit; subtract the weakest score so
        // that the BM25 part that distinguishes scripts remains.
        let floor = top_docs.iter().map(|(score, _)| *score).fold(f32::INFINITY, f32::min);
        let mut hits = Vec::with_capacity(top_docs.len());
        for (score, address) in top_docs {
            let ord = self.ords[address.segment_ord as usize].first(address.doc_id).unwrap_or_default();
            hits.push(Hit { ord: ord as usize, bm25: score - floor });
        }
        Ok(hits)
    }
}

fn cell_key(intent: &str, language: &str) -> String {
    format!("{intent}/{language}")
}

fn term_query(field: Field, text: &str, option: IndexRecordOption) -> Box<dyn Query> {
    Box::new(TermQuery::new(Term::from_field_text(field, text), option))
}
