//! What the benchmarks share: a mix of buyer messages and a large synthetic corpus.

use reply_engine::corpus::{Corpus, CorpusSource, Script, INTENTS, LANGUAGES};
use reply_engine::message::Message;
use reply_engine::request::RawRequest;
use reply_engine::Engine;

/// A mix of buyer messages across languages, lengths and styles.
pub const MESSAGES: [&str; 12] = [
    "where is my package?? its been 40 days",
    "能便宜点吗亲，包邮吗",
    "cadê meu pedido, vc pode ver pfv",
    "¿tienen envío gratis a México?",
    "اللون مو نفس الصورة أبداً",
    "Здравствуйте, когда отправите заказ?",
    "Le colis est marqué livré mais je n'ai rien reçu",
    "Gibt es einen Rabatt, wenn ich drei Stück kaufe?",
    "THE BLENDER ARRIVED BROKEN!!! I WANT A REFUND",
    "배송 언제 와요?",
    "いつ発送されますか？",
    "hi",
];

/// `texts` as requests from the US.
pub fn messages(texts: &[&str]) -> Vec<Message> {
    texts
        .iter()
        .map(|text| RawRequest { text: text.to_string(), country: "US".into(), ..RawRequest::default() }.validate().unwrap())
        .collect()
}

/// The built-in corpus with its scripts multiplied up to `target` by varying their words, so that
/// every intent × language cell holds hundreds of scripts.
pub fn synthetic_engine(target: usize) -> Engine {
    let mut corpus = Corpus::load(&CorpusSource::BuiltIn).unwrap();
    let originals = corpus.scripts.clone();
    let mut n = 0usize;
    while corpus.scripts.len() < target {
        let base = &originals[n % originals.len()];
        let words: Vec<&str> = base.text.split_whitespace().collect();
        let rotate = (n / originals.len()) % words.len().max(1);
        let mut text: Vec<&str> = words[rotate..].to_vec();
        text.extend_from_slice(&words[..rotate]);
        corpus.scripts.push(Script { id: format!("{}.synthetic{n}", base.id), text: text.join(" "), ..base.clone() });
        n += 1;
    }
    assert!(INTENTS.len() * LANGUAGES.len() * 300 < corpus.scripts.len());
    Engine::from_corpus(CorpusSource::BuiltIn, corpus).unwrap()
}
