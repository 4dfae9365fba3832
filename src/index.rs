//! The full-text index of reply scripts (tantivy, in RAM). Scripts are found within an intent and
//! a language and ranked by BM25 against the buyer's message; the rule engine shapes the rest.

use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, Occur, Query, TermQuery};
use tantivy::schema::{
    Field, IndexRecordOption, Schema, TextFieldIndexing, TextOptions, Value, FAST, STORED, STRING,
};
use tantivy::{doc, Index, IndexReader, IndexWriter, ReloadPolicy, Searcher, TantivyDocument, Term};

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
    intent: Field,
    language: Field,
    body: Field,
    ord: Field,
}

/// A search hit: the script's position in the corpus and its BM25 score.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Hit {
    pub ord: usize,
    pub bm25: f32,
}

pub struct ScriptIndex {
    fields: Fields,
    reader: IndexReader,
}

impl std::fmt::Debug for ScriptIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScriptIndex").field("num_docs", &self.reader.searcher().num_docs()).finish()
    }
}

impl ScriptIndex {
    /// Builds the index in RAM from the scripts, in corpus order.
    pub fn build(scripts: &[Script]) -> Result<ScriptIndex> {
        // Schema: exact-match intent and language, the pre-tokenised text for BM25, and the
        // script's position in the corpus as a fast field.
        let mut builder = Schema::builder();
        let intent = builder.add_text_field("intent", STRING);
        let language = builder.add_text_field("language", STRING);
        let body_indexing =
            TextFieldIndexing::default().set_tokenizer("whitespace").set_index_option(IndexRecordOption::WithFreqs);
        let body = builder.add_text_field("body", TextOptions::default().set_indexing_options(body_indexing));
        let ord = builder.add_u64_field("ord", FAST | STORED);
        let index = Index::create_in_ram(builder.build());

        // One writer thread is plenty for a few thousand short documents.
        let mut writer: IndexWriter = index.writer_with_num_threads(1, 64_000_000)?;
        for (position, script) in scripts.iter().enumerate() {
            writer.add_document(doc!(
                intent => script.intent.as_str(),
                language => script.language.as_str(),
                body => index_terms(&script.text),
                ord => position as u64,
            ))?;
        }
        writer.commit()?;

        // The index never changes after the commit: a reload swaps in a whole new index.
        let reader = index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into()?;
        Ok(ScriptIndex { fields: Fields { intent, language, body, ord }, reader })
    }

    /// Scripts of `intent` in `language`, best BM25 match against `message` first.
    pub fn search(&self, intent: &str, language: &str, message: &str) -> Result<Vec<Hit>> {
        let fields = self.fields;
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = vec![
            (Occur::Must, term_query(fields.intent, intent, IndexRecordOption::Basic)),
            (Occur::Must, term_query(fields.language, language, IndexRecordOption::Basic)),
        ];
        let terms = index_terms(message);
        let mut seen: Vec<&str> = Vec::new();
        for term in terms.split(' ').filter(|t| !t.is_empty()) {
            if seen.contains(&term) {
                continue;
            }
            seen.push(term);
            clauses.push((Occur::Should, term_query(fields.body, term, IndexRecordOption::WithFreqs)));
            if seen.len() >= MAX_QUERY_TERMS {
                break;
            }
        }
        let searcher: Searcher = self.reader.searcher();
        let query = BooleanQuery::new(clauses);
        let top_docs = searcher.search(&query, &TopDocs::with_limit(MAX_CANDIDATES).order_by_score())?;
        // The two Must clauses add the same constant to every hit; subtract the weakest score so
        // that the BM25 part that distinguishes scripts remains.
        let floor = top_docs.iter().map(|(score, _)| *score).fold(f32::INFINITY, f32::min);
        let mut hits = Vec::with_capacity(top_docs.len());
        for (score, address) in top_docs {
            let document: TantivyDocument = searcher.doc(address)?;
            let ord = document.get_first(fields.ord).and_then(|v| v.as_u64()).unwrap_or_default();
            hits.push(Hit { ord: ord as usize, bm25: score - floor });
        }
        Ok(hits)
    }

    pub fn num_docs(&self) -> u64 {
        self.reader.searcher().num_docs()
    }
}

fn term_query(field: Field, text: &str, option: IndexRecordOption) -> Box<dyn Query> {
    Box::new(TermQuery::new(Term::from_field_text(field, text), option))
}
