//! Country detection. The platform's country wins; otherwise only a clear cue in the text or the
//! history (a currency, city, national post, payment method, "here in Mexico"...) sets it. Cues are
//! data in `corpus/countries.tsv`; ambiguous ones ("€", "pesos", "dollars") are simply not listed.
//! The language alone never gives a country.

use std::collections::BTreeMap;

use crate::corpus::CountryCue;
use crate::message::CountrySource;
use crate::text::{normalize, PhraseSet};

/// Finds country cues in text.
#[derive(Debug, Clone)]
pub struct CountryDetector {
    cues: Vec<CountryCue>,
    phrases: PhraseSet,
}

impl CountryDetector {
    pub fn new(cues: Vec<CountryCue>) -> CountryDetector {
        let phrases = PhraseSet::new(cues.iter().map(|cue| cue.phrase.as_str()));
        CountryDetector { cues, phrases }
    }

    /// The given country, or the country most clearly cued in `texts` (newest first).
    pub fn detect(
        &self,
        given_opt: Option<&str>,
        texts: &[&str],
        language: &str,
    ) -> (Option<String>, Option<CountrySource>) {
        if let Some(given) = given_opt {
            return (Some(given.to_string()), Some(CountrySource::Given));
        }
        for text in texts {
            if let Some(country) = self.cued_country_opt(text, language) {
                return (Some(country), Some(CountrySource::Cue));
            }
        }
        (None, None)
    }

    /// The country with the most cues in one text; a tie between countries gives nothing, since
    /// the text is then not clear.
    pub fn cued_country_opt(&self, text: &str, language: &str) -> Option<String> {
        let mut normalized = normalize(text);
        let stripped = strip_arabic_clitics(&normalized);
        if !stripped.is_empty() {
            normalized.push('\n');
            normalized.push_str(&stripped);
        }
        let mut hits: BTreeMap<&str, usize> = BTreeMap::new();
        for index in self.phrases.matches(&normalized) {
            let cue = &self.cues[index];
            if cue.language_opt.as_deref().is_some_and(|required| required != language) {
                continue;
            }
            *hits.entry(cue.country.as_str()).or_default() += 1;
        }
        let best = hits.values().copied().max()?;
        let mut leaders = hits.iter().filter(|(_, count)| **count == best);
        let (country, _) = leaders.next()?;
        if leaders.next().is_some() {
            return None;
        }
        Some(country.to_string())
    }
}

/// Arabic writes some prepositions and conjunctions onto the next word ("للرياض" = "to Riyadh",
/// "وبالقاهرة" = "and in Cairo"). Returns the Arabic words that carry such a prefix with it
/// removed (one per line), so that a cue listed once matches its attached forms too.
fn strip_arabic_clitics(normalized: &str) -> String {
    let mut out = String::new();
    for word in normalized.split(|c: char| !c.is_alphanumeric()) {
        let mut rest = word.strip_prefix('و').or_else(|| word.strip_prefix('ف')).unwrap_or(word);
        if let Some(after) = rest.strip_prefix("لل") {
            // "لل" is "ل" + "ال" with the alif dropped.
            out.push_str("ال");
            out.push_str(after);
            out.push('\n');
            continue;
        }
        for prefix in ['ب', 'ل', 'ك'] {
            if let Some(after) = rest.strip_prefix(prefix) {
                if after.starts_with("ال") || after.chars().count() >= 3 {
                    rest = after;
                }
                break;
            }
        }
        if rest.len() != word.len() && rest.chars().count() >= 3 {
            out.push_str(rest);
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attached_arabic_prepositions_are_stripped() {
        assert_eq!(strip_arabic_clitics("كم يوم يوصل للرياض"), "الرياض\n");
        assert_eq!(strip_arabic_clitics("وبالقاهره"), "القاهره\n");
        assert_eq!(strip_arabic_clitics("hello world"), "");
    }
}
