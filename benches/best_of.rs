//! The engine's cost per message as the best of many timed rounds: on a shared machine, other
//! load only ever adds time, so the fastest round moves far less between runs than a mean does.
//! Used to compare builds change by change (run each build in turn, several times).
//!
//!     cargo bench --bench best_of            # the load benchmark's message
//!     cargo bench --bench best_of -- mix     # the criterion benchmark's mix of messages
//!     cargo bench --bench best_of -- large   # the mix on the built-in corpus and on 100,000
//!                                            # scripts, rounds alternating between the two

use std::time::Instant;

use reply_engine::corpus::CorpusSource;
use reply_engine::message::Message;
use reply_engine::Engine;

mod common;
use common::{messages, synthetic_engine, MESSAGES};

/// The allocator of the `reply-engine` binary, so that the figures are those of the service.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The message that `bench/load.sh` sends.
const LOAD_MESSAGE: &str = "hi, the parcel has not arrived yet, it has been 40 days. can you check?";

const ROUNDS: usize = 60;
const CALLS_PER_ROUND: usize = 3_000;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mix = args.iter().any(|arg| arg == "mix" || arg == "large");
    let messages = if mix { messages(&MESSAGES) } else { messages(&[LOAD_MESSAGE]) };
    let engine = Engine::load(CorpusSource::BuiltIn).unwrap();
    if args.iter().any(|arg| arg == "large") {
        // Rounds alternate between the two corpora, so that the machine's load weighs on both.
        let large = synthetic_engine(100_000);
        let (mut builtin_rounds, mut large_rounds) = (Vec::new(), Vec::new());
        for _ in 0..ROUNDS {
            builtin_rounds.push(time_round(&engine, &messages));
            large_rounds.push(time_round(&large, &messages));
        }
        let (builtin, large) = (summary(builtin_rounds), summary(large_rounds));
        println!("suggest (mix), built-in corpus: {builtin}");
        println!("suggest (mix), 100,000 scripts: {large}");
        return;
    }
    let rounds = (0..ROUNDS).map(|_| time_round(&engine, &messages)).collect();
    println!("suggest ({}): {}", if mix { "mix" } else { "load message" }, summary(rounds));
}

/// Microseconds per message over one round.
fn time_round(engine: &Engine, messages: &[Message]) -> f64 {
    let started = Instant::now();
    for i in 0..CALLS_PER_ROUND {
        std::hint::black_box(engine.suggest(&messages[i % messages.len()]).unwrap());
    }
    started.elapsed().as_secs_f64() * 1e6 / CALLS_PER_ROUND as f64
}

fn summary(mut rounds: Vec<f64>) -> String {
    rounds.sort_by(f64::total_cmp);
    format!(
        "best {:.2} µs, quartile {:.2} µs, median {:.2} µs per message over {} rounds of {CALLS_PER_ROUND}",
        rounds[0],
        rounds[rounds.len() / 4],
        rounds[rounds.len() / 2],
        rounds.len()
    )
}
