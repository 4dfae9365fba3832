//! Validation of incoming requests against the documented limits. Both adapters (gRPC and the
//! CLI) build a [`RawRequest`] and get a [`Message`] or an error naming the field.

use std::collections::BTreeMap;

use chrono::NaiveDate;

use crate::error::{Error, Result};
use crate::message::{Message, Turn};

/// Longest buyer message, in characters.
pub const MAX_TEXT_CHARS: usize = 4_000;
/// Most history turns.
pub const MAX_HISTORY_TURNS: usize = 50;
/// Longest history turn, in characters.
pub const MAX_TURN_CHARS: usize = 4_000;
/// Most replies one request may ask for.
pub const MAX_REPLIES: u32 = 20;
/// Replies returned when the request asks for 0.
pub const DEFAULT_REPLIES: u32 = 3;
/// Most context entries, and the longest key and value.
pub const MAX_CONTEXT_ENTRIES: usize = 32;
pub const MAX_CONTEXT_KEY_CHARS: usize = 64;
pub const MAX_CONTEXT_VALUE_CHARS: usize = 256;
/// Largest encoded request accepted, in bytes (larger ones get RESOURCE_EXHAUSTED).
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024;

/// A request as it arrives, before validation.
#[derive(Debug, Clone, Default)]
pub struct RawRequest {
    pub text: String,
    pub country: String,
    pub language: String,
    pub date: String,
    pub history: Vec<Turn>,
    pub max_replies: u32,
    pub context: BTreeMap<String, String>,
}

impl RawRequest {
    /// Checks every field against its limit and normalises it.
    pub fn validate(self) -> Result<Message> {
        let text = self.text.trim();
        if text.is_empty() {
            return Err(Error::invalid("text", "must not be empty"));
        }
        let text_chars = text.chars().count();
        if text_chars > MAX_TEXT_CHARS {
            return Err(Error::invalid("text", format!("{text_chars} characters, the limit is {MAX_TEXT_CHARS}")));
        }
        let country_opt = parse_country(&self.country)?;
        let language_hint_opt = parse_language(&self.language)?;
        let date_opt = parse_date(&self.date)?;
        if self.history.len() > MAX_HISTORY_TURNS {
            return Err(Error::invalid(
                "history",
                format!("{} turns, the limit is {MAX_HISTORY_TURNS}", self.history.len()),
            ));
        }
        for (i, turn) in self.history.iter().enumerate() {
            let chars = turn.text.chars().count();
            if chars > MAX_TURN_CHARS {
                return Err(Error::invalid("history", format!("turn {i} has {chars} characters, the limit is {MAX_TURN_CHARS}")));
            }
        }
        if self.max_replies > MAX_REPLIES {
            return Err(Error::invalid("max_replies", format!("{}, the limit is {MAX_REPLIES}", self.max_replies)));
        }
        if self.context.len() > MAX_CONTEXT_ENTRIES {
            return Err(Error::invalid(
                "context",
                format!("{} entries, the limit is {MAX_CONTEXT_ENTRIES}", self.context.len()),
            ));
        }
        for (key, value) in &self.context {
            if key.chars().count() > MAX_CONTEXT_KEY_CHARS || value.chars().count() > MAX_CONTEXT_VALUE_CHARS {
                return Err(Error::invalid(
                    "context",
                    format!("entry `{key}` is over {MAX_CONTEXT_KEY_CHARS} key or {MAX_CONTEXT_VALUE_CHARS} value characters"),
                ));
            }
        }
        let max_replies = if self.max_replies == 0 { DEFAULT_REPLIES } else { self.max_replies };
        let history = self.history.into_iter().filter(|turn| !turn.text.trim().is_empty()).collect();
        Ok(Message {
            text: text.to_string(),
            country_opt,
            language_hint_opt,
            date_opt,
            history,
            max_replies: max_replies as usize,
            context: self.context,
        })
    }
}

fn parse_country(country: &str) -> Result<Option<String>> {
    let country = country.trim();
    if country.is_empty() {
        return Ok(None);
    }
    let upper = country.to_ascii_uppercase();
    if upper.len() != 2 || !is_iso_country(&upper) {
        return Err(Error::invalid("country", format!("`{country}` is not an ISO 3166-1 alpha-2 code")));
    }
    Ok(Some(upper))
}

fn parse_language(language: &str) -> Result<Option<String>> {
    let language = language.trim();
    if language.is_empty() {
        return Ok(None);
    }
    let lower = language.to_ascii_lowercase();
    let base = lower.split(['-', '_']).next().unwrap_or_default();
    if base.len() != 2 || !base.chars().all(|c| c.is_ascii_lowercase()) {
        return Err(Error::invalid("language", format!("`{language}` is not an ISO 639-1 code")));
    }
    Ok(Some(base.to_string()))
}

fn parse_date(date: &str) -> Result<Option<NaiveDate>> {
    let date = date.trim();
    if date.is_empty() {
        return Ok(None);
    }
    NaiveDate::parse_from_str(date, "%Y-%m-%d")
        .map(Some)
        .map_err(|_| Error::invalid("date", format!("`{date}` is not a YYYY-MM-DD date")))
}

/// ISO 3166-1 alpha-2 codes (officially assigned, plus XK for Kosovo).
const ISO_COUNTRIES: &str = "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ \
BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET \
FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR \
IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN \
MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY \
QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR \
TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW XK";

/// True for an upper-case ISO 3166-1 alpha-2 code.
pub fn is_iso_country(code: &str) -> bool {
    match *code.as_bytes() {
        [first @ b'A'..=b'Z', second @ b'A'..=b'Z'] => ISO_TABLE[(first - b'A') as usize] & (1 << (second - b'A')) != 0,
        _ => false,
    }
}

/// `ISO_COUNTRIES` as a table: per first letter, one bit per second letter.
const ISO_TABLE: [u32; 26] = iso_table();

const fn iso_table() -> [u32; 26] {
    // The list is two-letter codes, each followed by one space (the last by none).
    let bytes = ISO_COUNTRIES.as_bytes();
    let mut table = [0u32; 26];
    let mut i = 0;
    while i + 1 < bytes.len() {
        table[(bytes[i] - b'A') as usize] |= 1 << (bytes[i + 1] - b'A');
        i += 3;
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(text: &str) -> RawRequest {
        RawRequest { text: text.to_string(), ..RawRequest::default() }
    }

    #[test]
    fn knows_every_listed_country_and_no_other() {
        for code in ISO_COUNTRIES.split(' ') {
            assert!(code.len() == 2 && is_iso_country(code), "{code:?}");
        }
        for code in ["ZZ", "UK", "us", "U", "USA", " U", "S "] {
            assert!(!is_iso_country(code), "{code:?}");
        }
    }

    #[test]
    fn rejects_empty_text() {
        let err = raw("   ").validate().unwrap_err();
        assert!(err.to_string().contains("text"));
    }

    #[test]
    fn names_the_bad_field() {
        let err = RawRequest { country: "Brazil".into(), ..raw("hi") }.validate().unwrap_err();
        assert!(err.to_string().starts_with("invalid country"), "{err}");
        let err = RawRequest { date: "2026-13-01".into(), ..raw("hi") }.validate().unwrap_err();
        assert!(err.to_string().starts_with("invalid date"), "{err}");
    }

    #[test]
    fn normalises_fields() {
        let message = RawRequest { country: "br".into(), language: "pt-BR".into(), ..raw(" oi ") }.validate().unwrap();
        assert_eq!(message.country_opt.as_deref(), Some("BR"));
        assert_eq!(message.language_hint_opt.as_deref(), Some("pt"));
        assert_eq!(message.max_replies, 3);
        assert_eq!(message.text, "oi");
    }
}
