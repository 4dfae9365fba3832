//! Language detection: script evidence first (Hangul → ko, kana → ja, Han → zh, Arabic → ar,
//! Cyrillic → ru), then, for Latin text, a character n-gram model trained on the corpus (robust to
//! slang, typos and very short messages) blended with whatlang, the request's hint, the history's
//! language and the given country as weak priors.

use crate::corpus::{Corpus, LANGUAGES};
use crate::model::{CorpusFeatures, Features, LinearModel, TrainOptions};
use crate::text::ScriptCounts;

/// Languages written in the Latin script, told apart by the model.
const LATIN_LANGUAGES: [&str; 8] = ["en", "es", "pt", "fr", "de", "pl", "tr", "it"];

/// Logit margin above which the model's language is taken without asking whatlang.
const WHATLANG_MARGIN: f32 = 3.0;
/// Logit bonus for English among Latin-script languages.
const ENGLISH_PRIOR: f32 = 0.5;

/// Detects the dominant language of a message.
#[derive(Debug, Clone)]
pub struct LanguageDetector {
    latin_model: LinearModel,
    /// whatlang, asked only to choose among the engine's Latin-script languages: a text it would
    /// call Catalan or Galician gets the closest of those, and each call compares 8 profiles
    /// instead of every Latin-script language whatlang knows.
    whatlang: whatlang::Detector,
}

/// What is known around the message that may tip a close call.
#[derive(Debug, Default, Clone, Copy)]
pub struct LanguagePriors<'a> {
    pub hint_opt: Option<&'a str>,
    pub history_opt: Option<&'a str>,
    pub country_opt: Option<&'a str>,
}

impl LanguageDetector {
    /// Trains the Latin-script model on the corpus's training examples and scripts.
    pub fn train(corpus: &Corpus, features: &CorpusFeatures) -> LanguageDetector {
        let labels: Vec<String> = LATIN_LANGUAGES.iter().map(|l| l.to_string()).collect();
        let label_of = |language: &str| LATIN_LANGUAGES.iter().position(|l| *l == language);
        let examples: Vec<(&Features, usize)> = corpus
            .train
            .iter()
            .map(|example| example.language.as_str())
            .zip(&features.train)
            .chain(corpus.scripts.iter().map(|script| script.language.as_str()).zip(&features.scripts))
            .filter_map(|(language, features)| Some((features, label_of(language)?)))
            .collect();
        let options = TrainOptions { epochs: 4, ..TrainOptions::default() };
        // The languages `whatlang_code` maps onto the engine's.
        let allowlist = whatlang::Lang::all().iter().copied().filter(|lang| whatlang_code(*lang).is_some()).collect();
        LanguageDetector {
            latin_model: LinearModel::train(labels, &examples, options),
            whatlang: whatlang::Detector::with_allowlist(allowlist),
        }
    }

    /// The ISO 639-1 code of the message's dominant language; `None` when the text has no letters.
    pub fn detect_opt(&self, text: &str, priors: LanguagePriors<'_>) -> Option<String> {
        self.detect_with_opt(text, None, priors)
    }

    /// As `detect_opt`, reusing the text's features when the caller has them already.
    pub fn detect_with_opt(&self, text: &str, features_opt: Option<&Features>, priors: LanguagePriors<'_>) -> Option<String> {
        let counts = ScriptCounts::of(text);
        if counts.total() == 0 {
            return None;
        }
        // CJK characters carry about a word each: weigh them like two Latin letters.
        let weighted_latin = counts.latin as f32;
        let candidates = [
            ("ko", counts.hangul as f32 * 2.0),
            ("ja", (counts.kana as f32 + if counts.kana > 0 { counts.han as f32 } else { 0.0 }) * 2.0),
            ("zh", if counts.kana == 0 { counts.han as f32 * 2.0 } else { 0.0 }),
            ("ar", counts.arabic as f32),
            ("ru", counts.cyrillic as f32),
        ];
        let (best_non_latin, best_weight) =
            candidates.iter().cloned().fold(("", 0.0f32), |best, c| if c.1 > best.1 { c } else { best });
        if best_weight > 0.0 && best_weight >= 0.5 * weighted_latin {
            return Some(best_non_latin.to_string());
        }
        Some(self.detect_latin(text, features_opt, priors).to_string())
    }

    fn detect_latin(&self, text: &str, features_opt: Option<&Features>, priors: LanguagePriors<'_>) -> &'static str {
        let owned;
        let features = match features_opt {
            Some(features) => features,
            None => {
                owned = Features::of(text);
                &owned
            }
        };
        let mut scores = self.latin_model.logits(features);
        // whatlang is the slowest step; ask it only when the model's call is close.
        let mut sorted = scores.clone();
        sorted.sort_by(|a, b| b.total_cmp(a));
        let close_call = sorted.len() < 2 || sorted[0] - sorted[1] < WHATLANG_MARGIN;
        let mut add = |language: &str, bonus: f32| {
            if let Some(i) = LATIN_LANGUAGES.iter().position(|l| *l == language) {
                scores[i] += bonus;
            }
        };
        // English is the lingua franca of cross-border chat: it wins close calls on tiny
        // messages ("hi", "ok").
        add("en", ENGLISH_PRIOR);
        let info_opt = if close_call { self.whatlang.detect(text) } else { None };
        if let Some(info) = info_opt {
            if let Some(code) = whatlang_code(info.lang()) {
                // whatlang is reliable on longer text, so trust grows with length.
                let length_factor = (text.chars().count() as f32 / 60.0).min(1.0);
                add(code, 2.0 * info.confidence() as f32 * length_factor);
            }
        }
        if let Some(hint) = priors.hint_opt {
            add(hint, 1.0);
        }
        if let Some(history) = priors.history_opt {
            add(history, 0.8);
        }
        if let Some(country) = priors.country_opt {
            if let Some(language) = main_language_of_country(country) {
                add(language, 0.3);
            }
        }
        let best = scores
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .map(|(i, _)| i)
            .unwrap_or(0);
        LATIN_LANGUAGES[best]
    }
}

/// Maps whatlang's languages onto the engine's 13.
fn whatlang_code(lang: whatlang::Lang) -> Option<&'static str> {
    use whatlang::Lang::*;
    let code = match lang {
        Eng => "en",
        Spa => "es",
        Por => "pt",
        Fra => "fr",
        Deu => "de",
        Pol => "pl",
        Tur => "tr",
        Ita => "it",
        _ => return None,
    };
    Some(code)
}

/// The main language of a market, used only as a weak prior for language detection (never to
/// infer a country).
pub fn main_language_of_country(country: &str) -> Option<&'static str> {
    let language = match country {
        "US" | "GB" | "CA" | "AU" | "NZ" | "IE" | "NG" | "KE" | "ZA" | "IN" | "PH" | "SG" => "en",
        "CN" | "TW" | "HK" => "zh",
        "ES" | "MX" | "AR" | "CO" | "CL" | "PE" | "VE" | "EC" | "UY" | "PY" | "BO" | "CR" | "GT" | "DO" | "CU" => "es",
        "BR" | "PT" | "AO" | "MZ" => "pt",
        "SA" | "AE" | "KW" | "QA" | "BH" | "OM" | "EG" | "JO" | "LB" | "IQ" | "YE" | "SY" | "MA" | "DZ" | "TN" | "LY" => "ar",
        "RU" | "BY" | "KZ" | "KG" => "ru",
        "FR" | "BE" | "LU" | "MC" | "SN" | "CI" => "fr",
        "DE" | "AT" | "CH" | "LI" => "de",
        "PL" => "pl",
        "TR" => "tr",
        "IT" | "SM" => "it",
        "KR" => "ko",
        "JP" => "ja",
        _ => return None,
    };
    debug_assert!(LANGUAGES.contains(&language));
    Some(language)
}
