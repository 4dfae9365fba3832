//! Criterion benchmarks: classification and suggestion (classify + rank) per message, on the
//! built-in corpus and on a generated corpus of 100,000 scripts.

use std::sync::Arc;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use reply_engine::corpus::{Corpus, CorpusSource, Script, INTENTS, LANGUAGES};
use reply_engine::message::Message;
use reply_engine::request::RawRequest;
use reply_engine::Engine;

/// The allocator of the `reply-engine` binary, so that the figures are those of the service.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// A mix of buyer messages across languages, lengths and styles.
const MESSAGES: [&str; 12] = [
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

fn messages() -> Vec<Message> {
    MESSAGES
        .iter()
        .map(|text| RawRequest { text: text.to_string(), country: "US".into(), ..RawRequest::default() }.validate().unwrap())
        .collect()
}

/// The built-in corpus with its scripts multiplied up to `target` by varying their words, so that
/// every intent × language cell holds hundreds of scripts.
fn synthetic_engine(target: usize) -> Engine {
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

fn bench(c: &mut Criterion) {
    let builtin = Arc::new(Engine::load(CorpusSource::BuiltIn).unwrap());
    let messages = messages();

    let mut group = c.benchmark_group("per_message");
    group.bench_function("classify/builtin", |b| {
        let mut i = 0;
        b.iter(|| {
            i = (i + 1) % messages.len();
            builtin.classify(&messages[i])
        })
    });
    group.bench_function("suggest/builtin", |b| {
        let mut i = 0;
        b.iter(|| {
            i = (i + 1) % messages.len();
            builtin.suggest(&messages[i]).unwrap()
        })
    });
    let large = synthetic_engine(100_000);
    group.bench_with_input(BenchmarkId::new("suggest", "synthetic_100k"), &large, |b, engine| {
        let mut i = 0;
        b.iter(|| {
            i = (i + 1) % messages.len();
            engine.suggest(&messages[i]).unwrap()
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
