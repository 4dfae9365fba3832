//! Fuzzes validation and classification with arbitrary bytes: `cargo fuzz run classify`.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use reply_engine::corpus::CorpusSource;
use reply_engine::request::RawRequest;
use reply_engine::Engine;

fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| Engine::load(CorpusSource::BuiltIn).expect("built-in corpus loads"))
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data).to_string();
    let request = RawRequest { text, ..RawRequest::default() };
    if let Ok(message) = request.validate() {
        let suggestion = engine().suggest(&message).expect("a valid message gets an answer");
        assert!(!suggestion.classification.intent.is_empty());
    }
});
