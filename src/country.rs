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
        let normalized = normalize(text);
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
