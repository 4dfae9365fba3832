//! Criterion benchmarks: classification and suggestion (classify + rank) per message, on the
//! built-in corpus and on a generated corpus of 100,000 scripts.

use std::sync::Arc;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use reply_engine::corpus::CorpusSource;
use reply_engine::Engine;

mod common;
use common::{messages, synthetic_engine, MESSAGES};

/// The allocator of the `reply-engine` binary, so that the figures are those of the service.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn bench(c: &mut Criterion) {
    let builtin = Arc::new(Engine::load(CorpusSource::BuiltIn).unwrap());
    let messages = messages(&MESSAGES);

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
