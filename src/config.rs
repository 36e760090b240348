//! Configuration in two steps: [`RawConfig`] is what the user wrote (flags today, a TOML file
//! with the server), [`Config`] is validated once: trust anchors loaded, times parsed, policy typed.

use crate::crypto::{AlgorithmPolicy, Sha1Policy};
use crate::limits::Limits;
use crate::pki::time::parse_rfc3339;
use crate::pki::trust::{load_paths, LoadError, TrustStore};
use crate::verify::{RequestOptions, RevocationMode, Verifier, VerifierConfig};
use std::path::PathBuf;
use thiserror::Error;

/// What the user asked for, unvalidated.
#[derive(Debug, Clone, Default)]
pub struct RawConfig {
    /// `--trust` files or directories.
    pub trust: Vec<PathBuf>,
    /// `--intermediate` files.
    pub intermediates: Vec<PathBuf>,
    /// `--crl` files.
    pub crls: Vec<PathBuf>,
    /// `--at`
    pub at: Option<String>,
    /// `--revocation`
    pub revocation: Option<String>,
    /// `--danger-allow-sha1`
    pub danger_allow_sha1: bool,
    /// Budgets.
    pub limits: Limits,
}

/// A configuration that is known to be usable.
#[derive(Debug)]
pub struct Config {
    /// The verifier built from it.
    pub verifier: Verifier,
    /// Default request options.
    pub request: RequestOptions,
    /// Things the user should know (skipped files in trust directories).
    pub warnings: Vec<String>,
}

/// Why a configuration is unusable.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A named file is missing (CLI exit 66).
    #[error(transparent)]
    Missing(LoadError),
    /// A value is wrong (CLI exit 64).
    #[error("{0}")]
    Invalid(String),
}

impl RawConfig {
    /// Validates and loads everything once.
    pub fn validate(self) -> Result<Config, ConfigError> {
        if !self.crls.is_empty() {
            // Refuse rather than ignore: a user passing a CRL expects revoked certificates to fail.
            return Err(ConfigError::Invalid(
                "--crl: offline CRL checking is not implemented yet in this build".into(),
            ));
        }
        let load = |paths: &[PathBuf]| {
            load_paths(paths).map_err(|e| {
                if e.is_missing() {
                    ConfigError::Missing(e)
                } else {
                    ConfigError::Invalid(e.to_string())
                }
            })
        };
        let (anchors, mut warnings) = load(&self.trust)?;
        let (intermediates, w2) = load(&self.intermediates)?;
        warnings.extend(w2);
        if anchors.is_empty() {
            warnings.push(
                "no trust anchors configured (--trust): no certificate chain can be validated"
                    .into(),
            );
        }
        let at = self
            .at
            .as_deref()
            .map(parse_rfc3339)
            .transpose()
            .map_err(ConfigError::Invalid)?;
        let revocation = self
            .revocation
            .as_deref()
            .map(str::parse::<RevocationMode>)
            .transpose()
            .map_err(ConfigError::Invalid)?
            .unwrap_or_default();
        let policy = AlgorithmPolicy {
            sha1: if self.danger_allow_sha1 {
                Sha1Policy::DangerAllowLegacy
            } else {
                Sha1Policy::Refuse
            },
            ..AlgorithmPolicy::default()
        };
        let verifier = Verifier::new(
            TrustStore::new(anchors),
            intermediates,
            VerifierConfig {
                limits: self.limits,
                policy,
                ..VerifierConfig::default()
            },
        );
        Ok(Config {
            verifier,
            request: RequestOptions { at, revocation },
            warnings,
        })
    }
}
