//! The `reply-engine` binary: parses flags, sets up logging, and calls the library. `anyhow` is
//! used only here, at the edge.

use std::io::{BufReader, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use reply_engine::cli::{self, response_json};
use reply_engine::corpus::{Corpus, CorpusSource};
use reply_engine::grpc::{serve, EngineHandle, ServerConfig};
use reply_engine::lint::lint;
use reply_engine::request::RawRequest;
use reply_engine::Engine;
use tracing::info;

#[derive(Debug, Parser)]
#[command(name = "reply-engine", version, about = "Suggests replies to customer-service agents of cross-border shops")]
struct Args {
    /// Log as JSON lines (for log collectors) instead of human-readable text.
    #[arg(long, global = true, env = "REPLY_ENGINE_LOG_JSON")]
    log_json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the gRPC API.
    Serve {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:50051", env = "REPLY_ENGINE_ADDR")]
        addr: String,
        /// Corpus directory; the built-in corpus when absent.
        #[arg(long, env = "REPLY_ENGINE_CORPUS")]
        corpus: Option<PathBuf>,
        /// Requests processed at once; more are shed with RESOURCE_EXHAUSTED.
        #[arg(long, default_value_t = 256, env = "REPLY_ENGINE_MAX_CONCURRENT")]
        max_concurrent: usize,
        /// Bearer token required by admin RPCs (ReloadCorpus); admin RPCs are disabled without it.
        #[arg(long, env = "REPLY_ENGINE_ADMIN_TOKEN", hide_env_values = true)]
        admin_token: Option<String>,
    },
    /// Suggest replies for one message and print the response as JSON.
    Suggest {
        text: String,
        #[arg(long, default_value = "")]
        country: String,
        #[arg(long, default_value = "")]
        language: String,
        #[arg(long, default_value = "")]
        date: String,
        #[arg(long, default_value_t = 0)]
        max_replies: u32,
        #[arg(long)]
        corpus: Option<PathBuf>,
    },
    /// Answer a JSON Lines file (or - for stdin), one JSON object per line, in order.
    Batch {
        file: String,
        #[arg(long)]
        corpus: Option<PathBuf>,
    },
    /// Measure the engine on a labelled JSON Lines file.
    Eval {
        file: PathBuf,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
        /// List the rows the engine got wrong.
        #[arg(long)]
        misses: bool,
        #[arg(long)]
        corpus: Option<PathBuf>,
    },
    /// Validate a corpus directory (the built-in one when absent).
    Lint { dir: Option<PathBuf> },
}

fn main() -> ExitCode {
    let args = Args::parse();
    init_logging(args.log_json);
    match run(args.command) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging(json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

fn source_of(corpus: Option<PathBuf>) -> CorpusSource {
    corpus.map(CorpusSource::Dir).unwrap_or(CorpusSource::BuiltIn)
}

fn load(corpus: Option<PathBuf>) -> Result<Engine> {
    let source = source_of(corpus);
    Engine::load(source.clone()).with_context(|| format!("loading corpus {}", source.describe()))
}

fn run(command: Command) -> Result<ExitCode> {
    match command {
        Command::Serve { addr, corpus, max_concurrent, admin_token } => {
            let engine = load(corpus)?;
            let config = ServerConfig { max_concurrent, admin_token_opt: admin_token, ..ServerConfig::default() };
            let runtime = tokio::runtime::Runtime::new().context("starting the runtime")?;
            runtime.block_on(async move {
                let listener =
                    tokio::net::TcpListener::bind(&addr).await.with_context(|| format!("binding {addr}"))?;
                let handle = EngineHandle::new(engine);
                spawn_reload_on_sighup(handle.clone());
                serve(handle, listener, config, shutdown_signal()).await.context("serving")?;
                info!("stopped");
                Ok::<_, anyhow::Error>(())
            })?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Suggest { text, country, language, date, max_replies, corpus } => {
            let engine = load(corpus)?;
            let request = RawRequest { text, country, language, date, max_replies, ..RawRequest::default() };
            let message = request.validate()?;
            let suggestion = engine.suggest(&message)?;
            println!("{}", serde_json::to_string_pretty(&response_json(&suggestion))?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Batch { file, corpus } => {
            let engine = load(corpus)?;
            let stdout = std::io::stdout().lock();
            let summary = if file == "-" {
                cli::run_batch(&engine, std::io::stdin().lock(), stdout)?
            } else {
                let input = std::fs::File::open(&file).with_context(|| format!("opening {file}"))?;
                cli::run_batch(&engine, BufReader::new(input), stdout)?
            };
            info!(answered = summary.answered, failed = summary.failed, "batch done");
            Ok(if summary.failed > 0 { ExitCode::from(2) } else { ExitCode::SUCCESS })
        }
        Command::Eval { file, json, misses, corpus } => {
            let engine = load(corpus)?;
            let input = std::fs::File::open(&file).with_context(|| format!("opening {}", file.display()))?;
            let report = cli::evaluate(&engine, BufReader::new(input))?;
            let mut stdout = std::io::stdout().lock();
            if json {
                writeln!(stdout, "{}", serde_json::to_string_pretty(&report)?)?;
            } else {
                write!(stdout, "{}", cli::render_report(&report, misses))?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Lint { dir } => {
            let source = source_of(dir);
            let corpus = match Corpus::load(&source) {
                Ok(corpus) => corpus,
                Err(err) => {
                    eprintln!("{err}");
                    return Ok(ExitCode::FAILURE);
                }
            };
            let problems = lint(&corpus);
            for problem in &problems {
                eprintln!("{problem}");
            }
            if problems.is_empty() {
                println!("corpus {} is valid: {} scripts", source.describe(), corpus.scripts.len());
                Ok(ExitCode::SUCCESS)
            } else {
                eprintln!("{} problems", problems.len());
                Ok(ExitCode::FAILURE)
            }
        }
    }
}

/// Resolves on SIGTERM or Ctrl-C.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}

/// Re-reads the corpus on SIGHUP; a broken corpus is logged and the old one keeps serving.
fn spawn_reload_on_sighup(handle: EngineHandle) {
    #[cfg(unix)]
    tokio::spawn(async move {
        let Ok(mut hangup) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) else {
            return;
        };
        while hangup.recv().await.is_some() {
            let handle = handle.clone();
            match tokio::task::spawn_blocking(move || handle.reload()).await {
                Ok(Ok(num_scripts)) => info!(num_scripts, "corpus reloaded on SIGHUP"),
                Ok(Err(err)) => tracing::warn!(error = %err, "corpus reload rejected, the old corpus keeps serving"),
                Err(err) => tracing::warn!(error = %err, "corpus reload failed"),
            }
        }
    });
    #[cfg(not(unix))]
    let _ = handle;
}
