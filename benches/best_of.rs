//! The engine's cost per message as the best of many timed rounds: on a shared machine, other
//! load only ever adds time, so the fastest round moves far less between runs than a mean does.
//! Used to compare builds change by change (run each build in turn, several times).
//!
//!     cargo bench --bench best_of            # the load benchmark's message
//!     cargo bench --bench best_of -- mix     # the criterion benchmark's mix of messages

use std::time::Instant;

use reply_engine::corpus::CorpusSource;
use reply_engine::request::RawRequest;
use reply_engine::Engine;

/// The allocator of the `reply-engine` binary, so that the figures are those of the service.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The message that `bench/load.sh` sends.
const LOAD_MESSAGE: &str = "hi, the parcel has not arrived yet, it has been 40 days. can you check?";

/// The mix of `benches/classify.rs`.
const MIX: [&str; 12] = [
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

const ROUNDS: usize = 60;
const CALLS_PER_ROUND: usize = 3_000;

fn main() {
    let mix = std::env::args().skip(1).any(|arg| arg == "mix");
    let texts: Vec<&str> = if mix { MIX.to_vec() } else { vec![LOAD_MESSAGE] };
    let messages: Vec<_> = texts
        .iter()
        .map(|text| RawRequest { text: text.to_string(), country: "US".into(), ..RawRequest::default() }.validate().unwrap())
        .collect();
    let engine = Engine::load(CorpusSource::BuiltIn).unwrap();
    let mut rounds: Vec<f64> = (0..ROUNDS)
        .map(|_| {
            let started = Instant::now();
            for i in 0..CALLS_PER_ROUND {
                std::hint::black_box(engine.suggest(&messages[i % messages.len()]).unwrap());
            }
            started.elapsed().as_secs_f64() * 1e6 / CALLS_PER_ROUND as f64
        })
        .collect();
    rounds.sort_by(f64::total_cmp);
    println!(
        "suggest ({}): best {:.2} µs, quartile {:.2} µs, median {:.2} µs per message over {ROUNDS} rounds of {CALLS_PER_ROUND}",
        if mix { "mix" } else { "load message" },
        rounds[0],
        rounds[ROUNDS / 4],
        rounds[ROUNDS / 2]
    );
}
