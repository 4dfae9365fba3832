//! The full-text index of reply scripts (tantivy, in RAM). Scripts are found within an intent and
//! a language (a cell) and ranked by BM25 against the buyer's message; the rule engine shapes the rest.

use tantivy::fieldnorm::FieldNormReader;
use tantivy::index::InvertedIndexReader;
use tantivy::postings::{Postings, TermInfo};
use tantivy::query::{Bm25StatisticsProvider, Bm25Weight};
use tantivy::schema::{IndexRecordOption, Schema, TextFieldIndexing, TextOptions, FAST, STRING};
use tantivy::{doc, DocId, DocSet, Index, IndexReader, IndexWriter, ReloadPolicy, Term, TERMINATED};

use std::collections::HashMap;
use std::sync::Arc;

use rustc_hash::FxHashMap;

use crate::corpus::Script;
use crate::error::Result;
use crate::text::index_terms;

/// Most candidate scripts read per search; each intent × language has far fewer in practice.
const MAX_CANDIDATES: usize = 64;
/// Most message terms used in a query.
const MAX_QUERY_TERMS: usize = 48;

/// A search hit: the script's position in the corpus and its BM25 score.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Hit {
    pub ord: usize,
    pub bm25: f32,
}

/// One segment of the index, with what a search reads of it opened once.
struct SegmentParts {
    body: Arc<InvertedIndexReader>,
    fieldnorms: FieldNormReader,
}

/// The scripts of one intent × language: their documents in each segment, with their corpus
/// positions, and their terms.
#[derive(Default)]
struct Cell {
    /// Per segment: (document, position in the corpus), in document order.
    docs: Vec<Vec<(DocId, usize)>>,
    /// Every term of the cell's scripts, as an index into `ScriptIndex::terms`. A search looks
    /// up each message term here: a fast non-cryptographic hash (the keys are corpus words).
    terms: FxHashMap<String, usize>,
}

/// A body term: its BM25 weight (from its document frequency in the whole index) and where its
/// posting list is in each segment.
struct TermEntry {
    doc_freq: u64,
    weight: Bm25Weight,
    infos: Vec<Option<TermInfo>>,
}

pub struct ScriptIndex {
    num_docs: u64,
    segments: Vec<SegmentParts>,
    /// Scripts per language, to tell the language's stop words (see `search`).
    scripts_per_language: std::collections::BTreeMap<String, u64>,
    /// By intent, then language.
    cells: FxHashMap<String, FxHashMap<String, Cell>>,
    terms: Vec<TermEntry>,
}

impl std::fmt::Debug for ScriptIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScriptIndex").field("num_docs", &self.num_docs).finish()
    }
}

impl ScriptIndex {
    /// Builds the index in RAM from the scripts, in corpus order.
    ///
    /// Everything a search needs that does not depend on the message is looked up here, once:
    /// each cell's documents (from the posting list of its `intent/language` term), each body
    /// term's place in the term dictionary and its BM25 weight. A search then only reads the
    /// posting lists of the message's terms.
    pub fn build(scripts: &[Script]) -> Result<ScriptIndex> {
        // Schema: one exact-match term per cell, the pre-tokenised text for BM25, and the
        // script's position in the corpus as a fast field.
        let mut builder = Schema::builder();
        let cell_field = builder.add_text_field("cell", STRING);
        let body_indexing =
            TextFieldIndexing::default().set_tokenizer("whitespace").set_index_option(IndexRecordOption::WithFreqs);
        let body = builder.add_text_field("body", TextOptions::default().set_indexing_options(body_indexing));
        let ord = builder.add_u64_field("ord", FAST);
        let index = Index::create_in_ram(builder.build());

        // One writer thread is plenty for a few thousand short documents.
        let mut writer: IndexWriter = index.writer_with_num_threads(1, 64_000_000)?;
        let mut cell_words: HashMap<(String, String), Vec<String>> = HashMap::new();
        // Documents are added cell by cell, so that a cell's documents are neighbours in every
        // posting list: a search then reads the stretch of a term's postings that covers the
        // cell, not blocks scattered over the whole index. Scores and ties do not depend on
        // the order (ties go by corpus position).
        let mut by_cell: Vec<usize> = (0..scripts.len()).collect();
        by_cell.sort_by(|&a, &b| (&scripts[a].intent, &scripts[a].language).cmp(&(&scripts[b].intent, &scripts[b].language)));
        for position in by_cell {
            let script = &scripts[position];
            let terms = index_terms(&script.text);
            cell_words
                .entry((script.intent.clone(), script.language.clone()))
                .or_default()
                .extend(terms.split(' ').filter(|t| !t.is_empty()).map(String::from));
            let key = cell_key(&script.intent, &script.language);
            writer.add_document(doc!(cell_field => key, body => terms, ord => position as u64))?;
        }
        writer.commit()?;

        // The index never changes after the commit: a reload swaps in a whole new index.
        let reader: IndexReader = index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into()?;
        let searcher = reader.searcher();
        let mut segments = Vec::new();
        let mut cell_indexes = Vec::new();
        let mut ords = Vec::new();
        for segment in searcher.segment_readers() {
            segments.push(SegmentParts {
                body: segment.inverted_index(body)?,
                fieldnorms: segment.get_fieldnorms_reader(body)?,
            });
            cell_indexes.push(segment.inverted_index(cell_field)?);
            ords.push(segment.fast_fields().u64("ord")?);
        }

        // BM25 weights depend on a term's document frequency only: terms share one per frequency.
        let num_docs = searcher.total_num_docs()?;
        let average_fieldnorm = searcher.total_num_tokens(body)? as f32 / num_docs.max(1) as f32;
        let mut weights: HashMap<u64, Bm25Weight> = HashMap::new();
        let mut terms: Vec<TermEntry> = Vec::new();
        let mut term_ids: HashMap<String, usize> = HashMap::new();
        let mut cells: FxHashMap<String, FxHashMap<String, Cell>> = FxHashMap::default();
        for ((intent, language), mut words) in cell_words {
            let mut cell = Cell::default();
            let cell_term = Term::from_field_text(cell_field, &cell_key(&intent, &language));
            for (segment_ord, cell_index) in cell_indexes.iter().enumerate() {
                let mut docs = Vec::new();
                if let Some(mut postings) = cell_index.read_postings(&cell_term, IndexRecordOption::Basic).map_err(tantivy::TantivyError::from)? {
                    while postings.doc() != TERMINATED {
                        let position = ords[segment_ord].first(postings.doc()).unwrap_or_default() as usize;
                        docs.push((postings.doc(), position));
                        postings.advance();
                    }
                }
                cell.docs.push(docs);
            }
            words.sort_unstable();
            words.dedup();
            for word in words {
                let id = match term_ids.get(&word) {
                    Some(&id) => id,
                    None => {
                        let term = Term::from_field_text(body, &word);
                        let infos = segments
                            .iter()
                            .map(|segment| segment.body.get_term_info(&term))
                            .collect::<std::io::Result<Vec<_>>>()
                            .map_err(tantivy::TantivyError::from)?;
                        let doc_freq: u64 = infos.iter().flatten().map(|info| info.doc_freq as u64).sum();
                        let weight = weights
                            .entry(doc_freq)
                            .or_insert_with(|| Bm25Weight::for_one_term(doc_freq, num_docs, average_fieldnorm))
                            .clone();
                        terms.push(TermEntry { doc_freq, weight, infos });
                        term_ids.insert(word.clone(), terms.len() - 1);
                        terms.len() - 1
                    }
                };
                cell.terms.insert(word, id);
            }
            cells.entry(intent).or_default().insert(language, cell);
        }

        let mut scripts_per_language = std::collections::BTreeMap::new();
        for script in scripts {
            *scripts_per_language.entry(script.language.clone()).or_insert(0u64) += 1;
        }
        Ok(ScriptIndex { num_docs, segments, scripts_per_language, cells, terms })
    }

    /// Scripts of `intent` in `language` with their BM25 match against the message: the best
    /// `MAX_CANDIDATES` of the cell, in no particular order (the caller ranks them with the
    /// rules' bonuses). `message_terms` are the message's [`index_terms`], computed once per
    /// request.
    ///
    /// A cell holds few scripts, so the search walks the posting lists of the message terms
    /// found in the cell to the cell's documents and sums tantivy's BM25 scores for each: no
    /// union of whole posting lists and no collector over the index.
    pub fn search(&self, intent: &str, language: &str, message_terms: &str) -> Result<Vec<Hit>> {
        let Some(cell) = self.cells.get(intent).and_then(|by_language| by_language.get(language)) else {
            return Ok(Vec::new());
        };
        // A term found in over half of the language's scripts is a stop word: it barely moves
        // BM25 and its long posting list is most of the search's cost on a large corpus.
        let stop_word_df = self.scripts_per_language.get(language).copied().unwrap_or(0) / 2;
        let mut query_terms: Vec<usize> = Vec::new();
        for term in message_terms.split(' ').filter(|t| !t.is_empty()) {
            // Only terms of the cell's own scripts can score within the cell.
            let Some(&id) = cell.terms.get(term) else {
                continue;
            };
            if self.terms[id].doc_freq <= stop_word_df && !query_terms.contains(&id) {
                query_terms.push(id);
                if query_terms.len() >= MAX_QUERY_TERMS {
                    break;
                }
            }
        }
        let mut hits = Vec::new();
        for (segment_ord, (segment, docs)) in self.segments.iter().zip(&cell.docs).enumerate() {
            let mut scores = vec![0.0f32; docs.len()];
            for &id in &query_terms {
                let entry = &self.terms[id];
                let Some(info) = &entry.infos[segment_ord] else {
                    continue;
                };
                let mut postings = segment
                    .body
                    .read_postings_from_terminfo(info, IndexRecordOption::WithFreqs)
                    .map_err(tantivy::TantivyError::from)?;
                for (&(doc, _), score) in docs.iter().zip(scores.iter_mut()) {
                    let current = if postings.doc() < doc { postings.seek(doc) } else { postings.doc() };
                    if current == TERMINATED {
                        break;
                    }
                    if current == doc {
                        *score += entry.weight.score(segment.fieldnorms.fieldnorm_id(doc), postings.term_freq());
                    }
                }
            }
            hits.extend(docs.iter().zip(scores).map(|(&(_, ord), bm25)| Hit { ord, bm25 }));
        }
        Ok(best_hits(hits, MAX_CANDIDATES))
    }
}

/// The best `limit` hits (by BM25, ties by corpus order: a total order), in no particular order.
/// A large cell holds hundreds of scripts: the best are picked out, not the whole cell sorted.
fn best_hits(mut hits: Vec<Hit>, limit: usize) -> Vec<Hit> {
    let best_first = |a: &Hit, b: &Hit| b.bm25.total_cmp(&a.bm25).then_with(|| a.ord.cmp(&b.ord));
    if hits.len() > limit {
        hits.select_nth_unstable_by(limit, best_first);
        hits.truncate(limit);
    }
    hits
}

fn cell_key(intent: &str, language: &str) -> String {
    format!("{intent}/{language}")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Picking the best hits gives the hits that sorting them all and cutting gives, ties
    /// included (in no particular order).
    #[test]
    fn best_hits_match_a_full_sort() {
        let mut state: u64 = 0x2545F4914F6CDD1D;
        for len in [0, 1, 5, 63, 64, 65, 200, 1000] {
            let hits: Vec<Hit> = (0..len)
                .map(|ord| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    // Few distinct scores, so that many hits tie.
                    Hit { ord, bm25: (state % 7) as f32 * 0.5 }
                })
                .rev()
                .collect();
            let mut expected = hits.clone();
            expected.sort_by(|a, b| b.bm25.total_cmp(&a.bm25).then_with(|| a.ord.cmp(&b.ord)));
            expected.truncate(64);
            let mut best = best_hits(hits, 64);
            best.sort_by(|a, b| b.bm25.total_cmp(&a.bm25).then_with(|| a.ord.cmp(&b.ord)));
            assert_eq!(best, expected, "{len} hits");
        }
    }
}
