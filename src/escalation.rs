//! Conversation signals: whether a person should take over (with stable reason ids), whether the
//! buyer is satisfied, angry or anxious. Phrase lists are data in `corpus/signals.toml`; the
//! thresholds (three short messages, three unanswered questions) come from the seeds.

use crate::corpus::Signals;
use crate::message::{Role, Turn};
use crate::text::{normalize, tokens, upper_ratio, PhraseSet};

/// Three or more in a row is the seeds' threshold for both counts.
const IN_A_ROW: usize = 3;
/// A message with at most this many words (CJK: characters / 2) is short.
const SHORT_WORDS: usize = 5;
/// Two seller turns this similar count as the same reply.
const SAME_REPLY_SIMILARITY: f32 = 0.8;

pub const REPEATED_SHORT_MESSAGES: &str = "repeated_short_messages";
pub const UNANSWERED_QUESTIONS: &str = "unanswered_questions";
pub const FRUSTRATION: &str = "frustration";
pub const THREAT: &str = "threat";
pub const ANGER: &str = "anger";
pub const SELLER_REPEATING: &str = "seller_repeating";

/// What the conversation says about the buyer's state.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Assessment {
    pub escalate: bool,
    pub reasons: Vec<String>,
    pub satisfied: bool,
    pub angry: bool,
    pub anxious: bool,
    /// What the newest message shows on its own.
    pub signals: MessageSignals,
}

/// Normalised phrase lists, one per signal, all languages together.
#[derive(Debug, Clone)]
pub struct SignalLexicon {
    /// Every phrase of every signal, searched in one pass.
    phrases: PhraseSet,
    /// The signal of each phrase, by index.
    kinds: Vec<Signal>,
}

/// The signals with phrase lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Signal {
    Satisfaction,
    Gratitude,
    Frustration,
    Threat,
    Insult,
    Anxiety,
    ReviewNoun,
    ReviewVerb,
}

impl SignalLexicon {
    pub fn new(signals: &Signals) -> SignalLexicon {
        let lists = [
            (Signal::Satisfaction, &signals.satisfaction),
            (Signal::Gratitude, &signals.gratitude),
            (Signal::Frustration, &signals.frustration),
            (Signal::Threat, &signals.threat),
            (Signal::Insult, &signals.insult),
            (Signal::Anxiety, &signals.anxiety),
            (Signal::ReviewNoun, &signals.review_noun),
            (Signal::ReviewVerb, &signals.review_verb),
        ];
        let mut phrases: Vec<String> = Vec::new();
        let mut kinds = Vec::new();
        for (kind, by_language) in lists {
            for phrase in by_language.values().flatten() {
                phrases.push(fold_hyphens(&normalize(phrase)).into_owned());
                kinds.push(kind);
            }
        }
        SignalLexicon { phrases: PhraseSet::new(phrases.iter().map(String::as_str)), kinds }
    }

    /// Assesses the newest buyer message against the history (oldest first). `is_answer` tells
    /// whether a seller turn answers anything: a greeting or "one moment please" does not, so the
    /// buyer's questions before it stay unanswered. `normalized` is `text` normalised.
    pub fn assess(&self, text: &str, normalized: &str, history: &[Turn], is_answer: impl Fn(&str) -> bool) -> Assessment {
        let current = self.signals_with(text, normalized);
        // Buyer turns since the last seller turn, oldest first, then the newest message.
        let last_seller = history.iter().rposition(|turn| turn.role == Role::Seller);
        let unanswered: Vec<&str> = history[last_seller.map_or(0, |i| i + 1)..]
            .iter()
            .filter(|turn| turn.role != Role::Seller)
            .map(|turn| turn.text.as_str())
            .chain(std::iter::once(text))
            .collect();
        let earlier: Vec<MessageSignals> =
            unanswered[..unanswered.len() - 1].iter().map(|turn| self.signals_of(turn)).collect();

        let mut reasons = Vec::new();
        let trailing_short = if is_short_normalized(normalized) {
            1 + unanswered.iter().rev().skip(1).take_while(|turn| is_short(turn)).count()
        } else {
            0
        };
        if trailing_short >= IN_A_ROW {
            reasons.push(REPEATED_SHORT_MESSAGES);
        }
        let last_answer = history.iter().rposition(|turn| turn.role == Role::Seller && is_answer(&turn.text));
        let questions: usize = history[last_answer.map_or(0, |i| i + 1)..]
            .iter()
            .filter(|turn| turn.role != Role::Seller)
            .map(|turn| count_questions(&turn.text))
            .sum::<usize>()
            + count_questions(text);
        if questions >= IN_A_ROW {
            reasons.push(UNANSWERED_QUESTIONS);
        }
        if current.frustration || earlier.iter().any(|s| s.frustration) {
            reasons.push(FRUSTRATION);
        }
        if current.threat || earlier.iter().any(|s| s.threat) {
            reasons.push(THREAT);
        }
        let angry = current.anger || earlier.iter().any(|s| s.anger);
        if angry {
            reasons.push(ANGER);
        }
        if seller_repeats(history) {
            reasons.push(SELLER_REPEATING);
        }
        // A calm buyer who understood the last answer is not escalated, even with a new question.
        let satisfied = current.satisfied();
        if satisfied {
            reasons.clear();
        }
        Assessment {
            escalate: !reasons.is_empty(),
            reasons: reasons.into_iter().map(str::to_string).collect(),
            satisfied,
            angry: angry && !satisfied,
            anxious: current.anxiety || (current.frustration && !satisfied),
            signals: current,
        }
    }

    /// The signals of one message on its own.
    pub fn signals_of(&self, text: &str) -> MessageSignals {
        self.signals_with(text, &normalize(text))
    }

    /// As `signals_of`, given the text's normal form too.
    fn signals_with(&self, text: &str, normalized: &str) -> MessageSignals {
        let normalized = fold_hyphens(normalized);
        let mut signals = MessageSignals::default();
        let (mut review_noun, mut review_verb) = (false, false);
        for index in self.phrases.matches(&normalized) {
            match self.kinds[index] {
                Signal::Satisfaction => signals.satisfaction = true,
                Signal::Gratitude => signals.gratitude = true,
                Signal::Frustration => signals.frustration = true,
                Signal::Threat => signals.threat = true,
                Signal::Insult => signals.anger = true,
                Signal::Anxiety => signals.anxiety = true,
                Signal::ReviewNoun => review_noun = true,
                Signal::ReviewVerb => review_verb = true,
            }
        }
        // "I'll write it all in the reviews": a review and the intent to write one.
        signals.threat |= review_noun && review_verb;
        signals.anger |= is_shouting(text) || has_punctuation_run(text);
        signals
    }
}

/// "1-Sterne-Bewertung" and "1 Sterne Bewertung" are one phrase: hyphens match spaces.
fn fold_hyphens(text: &str) -> std::borrow::Cow<'_, str> {
    if text.contains(['-', '‐', '–']) {
        std::borrow::Cow::Owned(text.replace(['-', '‐', '–'], " "))
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

/// What one message shows of the buyer's state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MessageSignals {
    pub satisfaction: bool,
    pub frustration: bool,
    pub threat: bool,
    pub anger: bool,
    pub anxiety: bool,
    /// Thanks or goodbye.
    pub gratitude: bool,
}

impl MessageSignals {
    /// The buyer says the last answer worked, and nothing in the message says otherwise.
    pub fn satisfied(&self) -> bool {
        self.satisfaction && !self.frustration && !self.threat && !self.anger
    }
}

/// ALL-CAPS shouting: most cased letters upper case, over a few words' worth of letters.
fn is_shouting(text: &str) -> bool {
    let (ratio, cased) = upper_ratio(text);
    cased >= 8 && ratio >= 0.75
}

/// Runs of three or more `!` or `?` (ASCII, full-width or Arabic).
fn has_punctuation_run(text: &str) -> bool {
    let mut run = 0;
    for c in text.chars() {
        if matches!(c, '!' | '?' | '！' | '？' | '؟' | '¡' | '¿') {
            run += 1;
            if run >= 3 {
                return true;
            }
        } else if !c.is_whitespace() {
            run = 0;
        }
    }
    false
}

fn is_short(text: &str) -> bool {
    is_short_normalized(&normalize(text))
}

/// At most `SHORT_WORDS` words, two CJK characters counting as one.
fn is_short_normalized(normalized: &str) -> bool {
    let (mut words, mut cjk) = (0, 0);
    for token in tokens(normalized) {
        if token.cjk {
            cjk += 1;
        } else {
            words += 1;
        }
        // Stop reading as soon as the message is known to be long.
        if words + usize::div_ceil(cjk, 2) > SHORT_WORDS {
            return false;
        }
    }
    true
}

/// Questions in one message: question marks (runs count once), or a question particle at the end.
fn count_questions(text: &str) -> usize {
    let mut count = 0;
    let mut in_run = false;
    for c in text.chars() {
        let is_mark = matches!(c, '?' | '？' | '؟');
        if is_mark && !in_run {
            count += 1;
        }
        in_run = is_mark;
    }
    if count == 0 {
        let trimmed = text.trim_end_matches(|c: char| c.is_whitespace() || c.is_ascii_punctuation() || c == '。');
        if ["吗", "呢", "か", "까", "니", "나요"].iter().any(|particle| trimmed.ends_with(particle)) {
            count = 1;
        }
    }
    count
}

/// True when two of the seller's recent turns are the same or nearly the same reply.
fn seller_repeats(history: &[Turn]) -> bool {
    let seller: Vec<Vec<String>> = history
        .iter()
        .filter(|turn| turn.role == Role::Seller)
        .rev()
        .take(4)
        .map(|turn| trigrams(&normalize(&turn.text)))
        .collect();
    for (i, a) in seller.iter().enumerate() {
        for b in &seller[i + 1..] {
            if jaccard(a, b) >= SAME_REPLY_SIMILARITY {
                return true;
            }
        }
    }
    false
}

fn trigrams(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().filter(|c| c.is_alphanumeric() || *c == ' ').collect();
    let mut grams: Vec<String> = chars.windows(3).map(|w| w.iter().collect()).collect();
    if grams.is_empty() && !chars.is_empty() {
        grams.push(chars.iter().collect());
    }
    grams.sort();
    grams.dedup();
    grams
}

fn jaccard(a: &[String], b: &[String]) -> f32 {
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    let common = a.iter().filter(|gram| b.binary_search(gram).is_ok()).count();
    common as f32 / (a.len() + b.len() - common) as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn turn(role: Role, text: &str) -> Turn {
        Turn { role, text: text.to_string() }
    }

    #[test]
    fn shouting_and_punctuation() {
        assert!(is_shouting("WHERE IS MY ORDER"));
        assert!(!is_shouting("where is my DHL parcel"));
        assert!(has_punctuation_run("where is it???"));
        assert!(has_punctuation_run("¿dónde está?!!"));
        assert!(!has_punctuation_run("ok? thanks!"));
    }

    #[test]
    fn counts_questions() {
        assert_eq!(count_questions("when?? and how much? ok"), 2);
        assert_eq!(count_questions("包邮吗"), 1);
        assert_eq!(count_questions("ok"), 0);
    }

    #[test]
    fn seller_repeating_is_near_duplicate() {
        let history = vec![
            turn(Role::Seller, "Your parcel is on the way, please wait a few more days."),
            turn(Role::Buyer, "where is it"),
            turn(Role::Seller, "Your parcel is on the way, please wait a few more days!"),
        ];
        assert!(seller_repeats(&history));
        assert!(!seller_repeats(&history[..2]));
    }
}
