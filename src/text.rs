//! Text normalisation and tokenisation shared by every stage: the language and intent models,
//! the country cues, the signal lexicons and the tantivy index all see text the same way.

use unicode_normalization::char::decompose_canonical;
use unicode_normalization::{is_nfkc_quick, IsNormalized, UnicodeNormalization};

/// The writing system of a character, as far as the engine cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Script {
    Latin,
    Cyrillic,
    Arabic,
    Han,
    Kana,
    Hangul,
    Other,
}

/// Classifies one character's script.
#[inline]
pub fn script_of(c: char) -> Script {
    // Most text the engine sees is ASCII: answer it without the range table.
    if c.is_ascii() {
        return if c.is_ascii_alphabetic() { Script::Latin } else { Script::Other };
    }
    match c as u32 {
        0x0041..=0x024F | 0x1E00..=0x1EFF => {
            if c.is_alphabetic() {
                Script::Latin
            } else {
                Script::Other
            }
        }
        0x0400..=0x052F => Script::Cyrillic,
        0x0600..=0x06FF | 0x0750..=0x077F | 0x08A0..=0x08FF | 0xFB50..=0xFDFF | 0xFE70..=0xFEFF => {
            Script::Arabic
        }
        0x3040..=0x30FF | 0x31F0..=0x31FF | 0xFF66..=0xFF9F => Script::Kana,
        0x1100..=0x11FF | 0x3130..=0x318F | 0xAC00..=0xD7AF => Script::Hangul,
        0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF => Script::Han,
        _ => Script::Other,
    }
}

/// True for scripts written without spaces between words.
pub fn is_cjk(script: Script) -> bool {
    matches!(script, Script::Han | Script::Kana)
}

/// Counts letters per script in a text.
#[derive(Debug, Default, Clone, Copy)]
pub struct ScriptCounts {
    pub latin: usize,
    pub cyrillic: usize,
    pub arabic: usize,
    pub han: usize,
    pub kana: usize,
    pub hangul: usize,
}

impl ScriptCounts {
    pub fn of(text: &str) -> ScriptCounts {
        let mut counts = ScriptCounts::default();
        for c in text.chars() {
            match script_of(c) {
                Script::Latin => counts.latin += 1,
                Script::Cyrillic => counts.cyrillic += 1,
                Script::Arabic => counts.arabic += 1,
                Script::Han => counts.han += 1,
                Script::Kana => counts.kana += 1,
                Script::Hangul => counts.hangul += 1,
                Script::Other => {}
            }
        }
        counts
    }

    pub fn total(&self) -> usize {
        self.latin + self.cyrillic + self.arabic + self.han + self.kana + self.hangul
    }
}

/// Lowercases, applies NFKC, folds Latin diacritics (`não` → `nao`, `ł` → `l`), and folds Arabic
/// letter variants and diacritics, so that typos without accents match the lexicons.
pub fn normalize(text: &str) -> String {
    // Fast path: plain ASCII is already NFKC and has no diacritics to fold.
    if text.is_ascii() {
        return text
            .bytes()
            .map(|b| match b {
                b'`' => '\'',
                b => b.to_ascii_lowercase() as char,
            })
            .collect();
    }
    normalize_unicode(text)
}

fn normalize_unicode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    // Most text is already in NFKC; skip the composing iterator when the quick check says so.
    let lowered: Box<dyn Iterator<Item = char>> = if is_nfkc_quick(text.chars()) == IsNormalized::Yes {
        Box::new(text.chars().flat_map(char::to_lowercase))
    } else {
        Box::new(text.nfkc().flat_map(char::to_lowercase))
    };
    for c in lowered {
        match c {
            'ß' => out.push_str("ss"),
            'ł' => out.push('l'),
            'ı' => out.push('i'),
            'ø' => out.push('o'),
            'æ' => out.push_str("ae"),
            'œ' => out.push_str("oe"),
            'đ' => out.push('d'),
            'ё' => out.push('е'),
            'أ' | 'إ' | 'آ' | 'ٱ' => out.push('ا'),
            'ى' => out.push('ي'),
            'ة' => out.push('ه'),
            'ـ' => {}
            '\u{064B}'..='\u{065F}' | '\u{0670}' => {}
            '’' | '‘' | '`' | '´' => out.push('\''),
            c if (c as u32) >= 0xC0 && (c as u32) <= 0x24F => {
                decompose_canonical(c, |d| {
                    if !is_combining_mark(d) {
                        out.push(d)
                    }
                });
            }
            c => out.push(c),
        }
    }
    out
}

fn is_combining_mark(c: char) -> bool {
    matches!(c as u32, 0x0300..=0x036F)
}

/// One token of a normalised text: a slice of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token<'a> {
    pub text: &'a str,
    /// CJK tokens are single characters; the others are words.
    pub cjk: bool,
}

/// Splits normalised text into words (letters and digits) and single CJK characters.
/// Hangul is spaced like a Latin script, so its words stay whole.
pub fn tokenize(normalized: &str) -> Vec<Token<'_>> {
    tokens(normalized).collect()
}

/// [`tokenize`], one token at a time: for callers that may stop early.
pub fn tokens(normalized: &str) -> Tokens<'_> {
    Tokens { normalized, chars: normalized.char_indices(), word_start_opt: None, pending_opt: None }
}

/// The iterator of [`tokens`].
pub struct Tokens<'a> {
    normalized: &'a str,
    chars: std::str::CharIndices<'a>,
    /// Byte offset where the current word starts, if one is open.
    word_start_opt: Option<usize>,
    /// A CJK character met while a word was open: it comes after that word.
    pending_opt: Option<Token<'a>>,
}

impl<'a> Iterator for Tokens<'a> {
    type Item = Token<'a>;

    fn next(&mut self) -> Option<Token<'a>> {
        if let Some(pending) = self.pending_opt.take() {
            return Some(pending);
        }
        while let Some((offset, c)) = self.chars.next() {
            if is_cjk(script_of(c)) {
                let cjk = Token { text: &self.normalized[offset..offset + c.len_utf8()], cjk: true };
                match self.close_word(offset) {
                    Some(word) => {
                        self.pending_opt = Some(cjk);
                        return Some(word);
                    }
                    None => return Some(cjk),
                }
            } else if c.is_alphanumeric() || c == '\'' && self.word_start_opt.is_some() {
                self.word_start_opt.get_or_insert(offset);
            } else if let Some(word) = self.close_word(offset) {
                return Some(word);
            }
        }
        self.close_word(self.normalized.len())
    }
}

impl<'a> Tokens<'a> {
    /// The open word, ending at `end`, if it has anything left once trailing apostrophes go.
    fn close_word(&mut self, end: usize) -> Option<Token<'a>> {
        let start = self.word_start_opt.take()?;
        let trimmed = self.normalized[start..end].trim_end_matches('\'');
        (!trimmed.is_empty()).then_some(Token { text: trimmed, cjk: false })
    }
}

/// Terms for the full-text index: words, plus CJK character bigrams (and single characters),
/// joined by spaces so that tantivy's whitespace tokenizer can index them.
pub fn index_terms(text: &str) -> String {
    index_terms_of(&tokenize(&normalize(text)))
}

/// [`index_terms`] of a normalised text's tokens.
pub fn index_terms_of(tokens: &[Token<'_>]) -> String {
    let mut terms = String::with_capacity(tokens.iter().map(|token| token.text.len() * 2 + 1).sum());
    for (i, token) in tokens.iter().enumerate() {
        if !terms.is_empty() {
            terms.push(' ');
        }
        terms.push_str(token.text);
        if token.cjk {
            if let Some(next) = tokens.get(i + 1).filter(|next| next.cjk) {
                terms.push(' ');
                terms.push_str(token.text);
                terms.push_str(next.text);
            }
        }
    }
    terms
}

/// Finds `needle` (already normalised) in `haystack` (normalised) as a whole phrase: a match may
/// not start or end inside a word of a spaced script. CJK needles match anywhere.
/// A needle ending in `*` is a prefix: `желт*` matches `желтый`.
pub fn contains_phrase(haystack: &str, needle: &str) -> bool {
    let (needle, prefix) = match needle.strip_suffix('*') {
        Some(stem) => (stem, true),
        None => (needle, false),
    };
    if needle.is_empty() {
        return false;
    }
    let needs_boundary_start = needle.chars().next().is_some_and(is_word_char_spaced);
    let needs_boundary_end = !prefix && needle.chars().last().is_some_and(is_word_char_spaced);
    let mut start = 0;
    while let Some(pos) = haystack[start..].find(needle) {
        let begin = start + pos;
        let end = begin + needle.len();
        let before_ok = !needs_boundary_start
            || haystack[..begin].chars().last().is_none_or(|c| !is_word_char_spaced(c));
        let after_ok = !needs_boundary_end
            || haystack[end..].chars().next().is_none_or(|c| !is_word_char_spaced(c));
        if before_ok && after_ok {
            return true;
        }
        start = begin + needle.chars().next().map_or(1, char::len_utf8);
    }
    false
}

/// Many phrases matched at once (Aho-Corasick), with the same rules as [`contains_phrase`]:
/// whole words for spaced scripts, anywhere for CJK, a trailing `*` for a prefix. Phrases and
/// haystacks are normalised text.
#[derive(Debug, Clone)]
pub struct PhraseSet {
    automaton: aho_corasick::AhoCorasick,
    /// Per pattern: whether its end may run on into a word (a `*` prefix).
    prefix: Vec<bool>,
}

impl PhraseSet {
    pub fn new<'a>(phrases: impl IntoIterator<Item = &'a str>) -> PhraseSet {
        let mut patterns = Vec::new();
        let mut prefix = Vec::new();
        for phrase in phrases {
            let (stem, is_prefix) = match phrase.strip_suffix('*') {
                Some(stem) => (stem, true),
                None => (phrase, false),
            };
            // An empty phrase keeps its index but never matches.
            patterns.push(if stem.is_empty() { "\u{0}".to_string() } else { stem.to_string() });
            prefix.push(is_prefix);
        }
        // A DFA: its search is a table lookup per byte, the fastest kind for short texts; the lists
        // are a few thousand phrases, so its tables stay small.
        let automaton = aho_corasick::AhoCorasick::builder()
            .kind(Some(aho_corasick::AhoCorasickKind::DFA))
            .build(&patterns)
            .expect("phrase patterns build an automaton");
        PhraseSet { automaton, prefix }
    }

    /// Indices of the phrases found in `haystack` (normalised), each at most once.
    pub fn matches(&self, haystack: &str) -> Vec<usize> {
        let mut found: Vec<usize> = Vec::new();
        for m in self.automaton.find_overlapping_iter(haystack) {
            let index = m.pattern().as_usize();
            if found.contains(&index) {
                continue;
            }
            let needle = &haystack[m.start()..m.end()];
            let boundary_start = needle.chars().next().is_some_and(is_word_char_spaced);
            let boundary_end = !self.prefix[index] && needle.chars().last().is_some_and(is_word_char_spaced);
            let before_ok =
                !boundary_start || haystack[..m.start()].chars().last().is_none_or(|c| !is_word_char_spaced(c));
            let after_ok = !boundary_end || haystack[m.end()..].chars().next().is_none_or(|c| !is_word_char_spaced(c));
            if before_ok && after_ok {
                found.push(index);
            }
        }
        found
    }

    /// True when any phrase is in `haystack` (normalised).
    pub fn any(&self, haystack: &str) -> bool {
        !self.matches(haystack).is_empty()
    }
}

/// A letter of a script written with spaces (so a phrase must not start or end inside it).
fn is_word_char_spaced(c: char) -> bool {
    c.is_alphabetic() && !is_cjk(script_of(c))
}

/// Share of upper-case letters among cased letters, with the number of cased letters.
pub fn upper_ratio(text: &str) -> (f32, usize) {
    let mut upper = 0usize;
    let mut cased = 0usize;
    for c in text.chars() {
        if c.is_uppercase() {
            upper += 1;
            cased += 1;
        } else if c.is_lowercase() {
            cased += 1;
        }
    }
    if cased == 0 {
        return (0.0, 0);
    }
    (upper as f32 / cased as f32, cased)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascii_fast_path_matches_the_general_one() {
        for text in ["Hello World", "WHERE IS MY PACKAGE?? 40 days!!!", "it`s ok", "a\tb\nC", "", "~!@#$%^&*()_+{}|:<>"] {
            assert_eq!(normalize(text), normalize_unicode(text), "{text:?}");
        }
    }

    #[test]
    fn folds_accents_and_case() {
        assert_eq!(normalize("NÃO Chegou Łódź"), "nao chegou lodz");
        assert_eq!(normalize("Straße"), "strasse");
        assert_eq!(normalize("أريد"), "اريد");
    }

    #[test]
    fn keeps_hangul_whole() {
        assert_eq!(normalize("배송"), "배송");
        let normalized = normalize("배송 언제 와요?");
        let tokens = tokenize(&normalized);
        assert_eq!(tokens.len(), 3);
    }

    #[test]
    fn splits_cjk_into_characters() {
        let normalized = normalize("包邮吗 ok");
        let tokens = tokenize(&normalized);
        let texts: Vec<_> = tokens.iter().map(|t| t.text).collect();
        assert_eq!(texts, ["包", "邮", "吗", "ok"]);
        assert_eq!(index_terms("包邮吗"), "包 包邮 邮 邮吗 吗");
    }

    #[test]
    fn words_end_at_cjk_characters_and_lose_trailing_apostrophes() {
        let texts: Vec<_> = tokenize("ok包 world's'' 邮'' 배송 it's '' x'").iter().map(|t| (t.text, t.cjk)).collect();
        assert_eq!(
            texts,
            [
                ("ok", false),
                ("包", true),
                ("world's", false),
                ("邮", true),
                ("배송", false),
                ("it's", false),
                ("x", false)
            ]
        );
    }

    #[test]
    fn phrases_respect_word_boundaries() {
        assert!(contains_phrase("moro em sao paulo", "sao paulo"));
        assert!(!contains_phrase("pixel phone", "pix"));
        assert!(contains_phrase("paguei 100zl", "zl"));
        assert!(contains_phrase("我在北京", "北京"));
        assert!(contains_phrase("желтыи цвет", "желт*"));
        assert!(!contains_phrase("amor", "mor"));
        let set = PhraseSet::new(["mor", "желт*", "北京", "sao paulo"]);
        assert!(!set.any("amor e carinho"));
        assert!(set.any("cor mor"));
        assert_eq!(set.matches("желтыи, 北京, sao paulo"), vec![1, 2, 3]);
    }
}
