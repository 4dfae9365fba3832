//! Property tests: any UTF-8 input within the limits gets an answer or a clear error, never a
//! panic.

mod common;

use proptest::prelude::*;
use reply_engine::message::{Role, Turn};
use reply_engine::request::RawRequest;

fn turn() -> impl Strategy<Value = Turn> {
    (any::<bool>(), "\\PC{0,80}").prop_map(|(seller, text)| Turn { role: if seller { Role::Seller } else { Role::Buyer }, text })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn any_text_gets_an_answer_or_a_clear_error(
        text in "\\PC{0,300}",
        country in prop_oneof![Just(String::new()), "[A-Za-z]{0,3}"],
        date in prop_oneof![Just(String::new()), "[0-9-]{0,12}", Just("2026-03-01".to_string())],
        history in proptest::collection::vec(turn(), 0..6),
        max_replies in 0u32..25,
    ) {
        let request = RawRequest { text, country, date, history, max_replies, ..RawRequest::default() };
        match request.validate() {
            Ok(message) => {
                let suggestion = common::engine().suggest(&message).unwrap();
                prop_assert!(suggestion.replies.len() <= message.max_replies);
                prop_assert!(!suggestion.classification.intent.is_empty());
                prop_assert!(!suggestion.classification.language.is_empty());
                for reply in &suggestion.replies {
                    prop_assert!(!reply.text.contains('{'), "raw placeholder in {}", reply.text);
                }
            }
            Err(err) => prop_assert!(err.to_string().starts_with("invalid ")),
        }
    }

    #[test]
    fn any_bytes_as_a_batch_line_never_panic(line in "\\PC{0,200}") {
        let (value, _) = reply_engine::cli::answer_line(&common::engine(), &line);
        prop_assert!(value.is_object());
    }
}
