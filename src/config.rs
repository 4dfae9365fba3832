//! Server configuration: a TOML file, overridden by `REPLY_ENGINE_*` environment variables,
//! overridden by command-line flags. Parsed once in `main` and passed by value.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{Error, Result};

/// Default of [`Config::inline_max_bytes`]. A request this size costs the engine at most
/// about 100 µs on the reference machine (a 70-character message with up to 50 short turns of
/// history), within the time a runtime thread may run between two awaits; larger requests (long
/// texts, long histories, up to milliseconds) go to the blocking pool.
pub const DEFAULT_INLINE_MAX_BYTES: usize = 512;

/// Everything `reply-engine serve` can be told.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Address of the gRPC server.
    pub addr: String,
    /// Corpus directory; the built-in corpus when absent.
    pub corpus: Option<PathBuf>,
    /// Requests processed at once; more are shed with RESOURCE_EXHAUSTED.
    pub max_concurrent: usize,
    /// Bearer token for admin RPCs (ReloadCorpus); admin RPCs are refused without one.
    pub admin_token: Option<String>,
    /// Log as JSON lines.
    pub log_json: bool,
    /// Address of the Prometheus metrics endpoint (`/metrics`); none when absent.
    pub metrics_addr: Option<String>,
    /// PEM certificate chain and private key: serve TLS when both are set.
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    /// Seconds in-flight requests may take to finish after SIGTERM.
    pub shutdown_grace_secs: u64,
    /// Requests up to this encoded size (bytes) are answered on the runtime thread that decoded
    /// them, larger ones on the blocking pool; 0 sends all to the pool.
    pub inline_max_bytes: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            addr: "127.0.0.1:50051".to_string(),
            corpus: None,
            max_concurrent: 256,
            admin_token: None,
            log_json: false,
            metrics_addr: None,
            tls_cert: None,
            tls_key: None,
            shutdown_grace_secs: 10,
            inline_max_bytes: DEFAULT_INLINE_MAX_BYTES,
        }
    }
}

impl Config {
    /// Reads a TOML file; unknown keys are errors.
    pub fn from_file(path: &Path) -> Result<Config> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io { path: path.to_path_buf(), source })?;
        toml::from_str(&text).map_err(|err| Error::Corpus {
            path: path.to_path_buf(),
            line: err.span().map(|span| text[..span.start].matches('\n').count() + 1).unwrap_or(0),
            message: err.message().to_string(),
        })
    }

    /// Applies `REPLY_ENGINE_*` variables found by `lookup` (the process environment in `main`).
    pub fn apply_env(&mut self, lookup: impl Fn(&str) -> Option<String>) -> Result<()> {
        if let Some(addr) = lookup("REPLY_ENGINE_ADDR") {
            self.addr = addr;
        }
        if let Some(corpus) = lookup("REPLY_ENGINE_CORPUS") {
            self.corpus = Some(PathBuf::from(corpus));
        }
        if let Some(value) = lookup("REPLY_ENGINE_MAX_CONCURRENT") {
            self.max_concurrent = parse_number("REPLY_ENGINE_MAX_CONCURRENT", &value)?;
        }
        if let Some(token) = lookup("REPLY_ENGINE_ADMIN_TOKEN") {
            self.admin_token = Some(token);
        }
        if let Some(value) = lookup("REPLY_ENGINE_LOG_JSON") {
            self.log_json = matches!(value.as_str(), "1" | "true" | "yes");
        }
        if let Some(addr) = lookup("REPLY_ENGINE_METRICS_ADDR") {
            self.metrics_addr = Some(addr);
        }
        if let Some(cert) = lookup("REPLY_ENGINE_TLS_CERT") {
            self.tls_cert = Some(PathBuf::from(cert));
        }
        if let Some(key) = lookup("REPLY_ENGINE_TLS_KEY") {
            self.tls_key = Some(PathBuf::from(key));
        }
        if let Some(value) = lookup("REPLY_ENGINE_SHUTDOWN_GRACE_SECS") {
            self.shutdown_grace_secs = parse_number("REPLY_ENGINE_SHUTDOWN_GRACE_SECS", &value)?;
        }
        if let Some(value) = lookup("REPLY_ENGINE_INLINE_MAX_BYTES") {
            self.inline_max_bytes = parse_number("REPLY_ENGINE_INLINE_MAX_BYTES", &value)?;
        }
        Ok(())
    }

    /// A configuration for tests: loopback on a free port.
    pub fn for_test() -> Config {
        Config { addr: "127.0.0.1:0".to_string(), ..Config::default() }
    }
}

/// A numeric variable, or an error naming it.
fn parse_number<T: std::str::FromStr>(key: &'static str, value: &str) -> Result<T> {
    value.parse().map_err(|_| Error::invalid(key, format!("`{value}` is not a number")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_then_environment() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("reply-engine.toml");
        std::fs::write(&path, "addr = \"0.0.0.0:6000\"\nmax_concurrent = 8\n").unwrap();
        let mut config = Config::from_file(&path).unwrap();
        assert_eq!(config.addr, "0.0.0.0:6000");
        assert_eq!(config.max_concurrent, 8);
        config
            .apply_env(|key| match key {
                "REPLY_ENGINE_MAX_CONCURRENT" => Some("16".into()),
                "REPLY_ENGINE_ADMIN_TOKEN" => Some("t".into()),
                "REPLY_ENGINE_INLINE_MAX_BYTES" => Some("0".into()),
                _ => None,
            })
            .unwrap();
        assert_eq!(config.max_concurrent, 16);
        assert_eq!(config.admin_token.as_deref(), Some("t"));
        assert_eq!(config.inline_max_bytes, 0);
        assert_eq!(config.addr, "0.0.0.0:6000");
    }

    #[test]
    fn unknown_keys_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.toml");
        std::fs::write(&path, "addr = \"x\"\nmax_concurency = 8\n").unwrap();
        let err = Config::from_file(&path).unwrap_err().to_string();
        assert!(err.contains("bad.toml:2:"), "{err}");
    }
}
