//! Trust anchors and certificate bundles (PEM or DER files, directories).

use super::cert::Certificate;
use crate::asn1::pem;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use thiserror::Error;

/// Why certificates could not be loaded.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum LoadError {
    /// The file or directory does not exist or cannot be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The file holds no usable certificate.
    #[error("{path}: {reason}")]
    Invalid {
        /// The path.
        path: PathBuf,
        /// What was wrong.
        reason: String,
    },
}

impl LoadError {
    /// True when the path itself is missing (CLI exit 66).
    pub fn is_missing(&self) -> bool {
        matches!(self, LoadError::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound)
    }
}

/// Parses every certificate in a PEM or DER buffer (errors name the block).
pub fn parse_bundle(data: &[u8]) -> Result<Vec<Certificate>, String> {
    parse_bundle_at_most(data, usize::MAX)
}

/// [`parse_bundle`] for untrusted input with a count budget: a bundle of more than `max`
/// certificates is refused when the block after the `max`-th is found, before it or any later
/// one is decoded or parsed (a 72 MB PEM of 60,000 certificates was parsed whole, 336 MB, before
/// its count was checked).
pub fn parse_bundle_at_most(data: &[u8], max: usize) -> Result<Vec<Certificate>, String> {
    if pem::is_pem(data) {
        let (blocks, more) = pem::decode_blocks_at_most(
            data,
            |l| l == "CERTIFICATE" || l == "TRUSTED CERTIFICATE",
            max,
        );
        if more {
            return Err(format!("more than {max} certificates"));
        }
        if blocks.is_empty() {
            return Err("no CERTIFICATE block in PEM".into());
        }
        blocks
            .into_iter()
            .enumerate()
            .map(|(i, b)| {
                let der = b?;
                Certificate::from_der(&der).map_err(|e| format!("certificate #{}: {e}", i + 1))
            })
            .collect()
    } else {
        Certificate::from_der(data)
            .map(|c| vec![c])
            .map_err(|e| format!("not a DER certificate: {e}"))
    }
}

/// Reads certificates from files; a directory contributes every file in it that parses
/// (others are skipped and reported in the returned warnings).
pub fn load_paths(paths: &[PathBuf]) -> Result<(Vec<Certificate>, Vec<String>), LoadError> {
    let mut certs = Vec::new();
    let mut warnings = Vec::new();
    for p in paths {
        let meta = std::fs::metadata(p).map_err(|source| LoadError::Io {
            path: p.clone(),
            source,
        })?;
        if meta.is_dir() {
            let mut entries: Vec<PathBuf> = std::fs::read_dir(p)
                .map_err(|source| LoadError::Io {
                    path: p.clone(),
                    source,
                })?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|e| e.is_file())
                .collect();
            entries.sort();
            // A folder of a PKI usually holds keys, CRLs and leaves beside its CA certificates:
            // those are skipped with one line per kind, not one warning per file (#16). A leaf
            // is never an anchor: trusting it would make any certificate it names "valid".
            let mut not_certs: Vec<String> = Vec::new();
            let mut leaves: Vec<String> = Vec::new();
            for e in entries {
                match load_file(&e) {
                    Ok(c) => {
                        for c in c {
                            if is_ca(&c) {
                                certs.push(c);
                            } else {
                                leaves.push(file_name(&e));
                            }
                        }
                    }
                    // Private keys sit beside their certificates in most PKI folders: expected,
                    // not worth a line.
                    Err(_) if e.extension().is_some_and(|x| x == "key") => {}
                    Err(_) => not_certs.push(file_name(&e)),
                }
            }
            if !leaves.is_empty() {
                warnings.push(format!(
                    "{}: {} end-entity certificate(s) skipped, a leaf is not a trust anchor ({})",
                    p.display(),
                    leaves.len(),
                    sample(&leaves)
                ));
            }
            if !not_certs.is_empty() {
                warnings.push(format!(
                    "{}: {} file(s) that are not certificates skipped ({})",
                    p.display(),
                    not_certs.len(),
                    sample(&not_certs)
                ));
            }
        } else {
            certs.append(&mut load_file(p)?);
        }
    }
    Ok((certs, warnings))
}

/// A CA certificate: basicConstraints cA (RFC 5280 §4.2.1.9), or a self-issued certificate
/// without extensions (an X.509 v1 root, which predates basicConstraints).
fn is_ca(c: &Certificate) -> bool {
    match c.ext.basic_constraints {
        Some((ca, _)) => ca,
        None => c.is_self_issued(),
    }
}

fn file_name(p: &Path) -> String {
    p.file_name().map_or_else(
        || p.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// The first few names of a list, for a one-line message.
fn sample(names: &[String]) -> String {
    const SHOWN: usize = 4;
    let mut s = names
        .iter()
        .take(SHOWN)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > SHOWN {
        s.push_str(&format!(", and {} more", names.len() - SHOWN));
    }
    s
}

fn load_file(p: &Path) -> Result<Vec<Certificate>, LoadError> {
    let data = read_file(p, crate::limits::MAX_BUNDLE_FILE_BYTES)?;
    parse_bundle(&data).map_err(|reason| LoadError::Invalid {
        path: p.to_path_buf(),
        reason,
    })
}

/// Reads a configured file through the bounded reader; an oversized or stalled file is
/// [`LoadError::Invalid`] (a usage error), a missing one [`LoadError::Io`].
pub fn read_file(p: &Path, limit: usize) -> Result<Vec<u8>, LoadError> {
    crate::input::read_bounded(p, limit).map_err(|e| match e {
        crate::input::ReadError::Io { path, source } => LoadError::Io { path, source },
        crate::input::ReadError::TooLarge { path, limit } => LoadError::Invalid {
            path,
            reason: format!("larger than the limit of {limit} bytes"),
        },
        crate::input::ReadError::Stalled { path, after } => LoadError::Invalid {
            path,
            reason: format!(
                "no data for {} s (a FIFO or device nobody writes to?)",
                after.as_secs()
            ),
        },
    })
}

/// Where a trust anchor came from (`tekser trust list`, and the demo warning).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// A built-in set's name and file (`kz-nca: trust/kz-nca-prod/root_rsa_2020.der`) or the
    /// configured path.
    pub source: String,
    /// True when the anchor's private key is public (the `demo` set).
    pub demo: bool,
}

impl Origin {
    /// An anchor from a configured file or directory.
    pub fn file(path: &Path) -> Self {
        Self {
            source: path.display().to_string(),
            demo: false,
        }
    }
}

/// The configured trust anchors, indexed by subject name.
#[derive(Debug, Default)]
pub struct TrustStore {
    anchors: Vec<Arc<Certificate>>,
    origins: Vec<Origin>,
    by_subject: HashMap<Vec<Vec<u8>>, Vec<usize>>,
    version: u64,
}

impl TrustStore {
    /// Builds a store of anchors from configured files; duplicates (same fingerprint) are kept
    /// once.
    pub fn new(certs: Vec<Certificate>) -> Self {
        let origin = Origin {
            source: "configured".into(),
            demo: false,
        };
        Self::with_origins(certs.into_iter().map(|c| (c, origin.clone())).collect())
    }

    /// Builds a store, each anchor with where it came from; duplicates (same fingerprint) are
    /// kept once, with the first origin.
    pub fn with_origins(certs: Vec<(Certificate, Origin)>) -> Self {
        let mut anchors: Vec<Arc<Certificate>> = Vec::new();
        let mut origins = Vec::new();
        for (c, o) in certs {
            if !anchors.iter().any(|a| a.fingerprint == c.fingerprint) {
                anchors.push(Arc::new(c));
                origins.push(o);
            }
        }
        let mut by_subject: HashMap<Vec<Vec<u8>>, Vec<usize>> = HashMap::new();
        let mut all_fps = Vec::with_capacity(anchors.len() * 32);
        for (i, a) in anchors.iter().enumerate() {
            by_subject
                .entry(a.subject_norm.clone())
                .or_default()
                .push(i);
            all_fps.extend_from_slice(&a.fingerprint);
        }
        // The version identifies this set of anchors in cache keys: a reload with other anchors
        // can never hit a path cached under the old set.
        let h = super::cert::sha256(&all_fps);
        let version = u64::from_be_bytes([h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7]]);
        Self {
            anchors,
            origins,
            by_subject,
            version,
        }
    }

    /// Every anchor with its origin, in configuration order.
    pub fn entries(&self) -> impl Iterator<Item = (&Arc<Certificate>, &Origin)> {
        self.anchors.iter().zip(self.origins.iter())
    }

    /// True when the anchor with this fingerprint belongs to the demo set.
    /// The demo roots are recognised by what they are, not by how they were named: loaded by
    /// path (`--trust fixtures/pki/rsa-root.crt`) they carry the warning too.
    pub fn is_demo(&self, fingerprint: &[u8; 32]) -> bool {
        self.entries()
            .any(|(a, o)| o.demo && &a.fingerprint == fingerprint)
            || super::builtin::is_demo_root(fingerprint)
    }

    /// Anchors whose subject matches `name` (normalised, [`super::cert::norm`]).
    pub fn by_subject<'a>(
        &'a self,
        name: &[Vec<u8>],
    ) -> impl Iterator<Item = &'a Arc<Certificate>> + 'a {
        self.by_subject
            .get(name)
            .into_iter()
            .flatten()
            .filter_map(|i| self.anchors.get(*i))
    }

    /// The anchor with this fingerprint, if the certificate is itself trusted.
    pub fn find(&self, fingerprint: &[u8; 32]) -> Option<&Arc<Certificate>> {
        self.anchors.iter().find(|a| &a.fingerprint == fingerprint)
    }

    /// Identifies the set of anchors (for cache keys).
    pub fn version(&self) -> u64 {
        self.version
    }

    /// Number of anchors.
    pub fn len(&self) -> usize {
        self.anchors.len()
    }

    /// True when no anchor is configured.
    pub fn is_empty(&self) -> bool {
        self.anchors.is_empty()
    }
}
