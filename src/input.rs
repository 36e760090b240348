//! Reading one input file with a size bound and a stall bound: every file the CLI or the
//! configuration names (signatures, documents, content, barcodes, images, certificates, trust and
//! intermediate bundles, CRLs, TLS files, the configuration file itself) goes through
//! [`read_bounded`].
//!
//! Why not `std::fs::read` after a `metadata` size check: devices (`/dev/zero`, `/dev/urandom`),
//! pipes and FIFOs report a size of 0, so the check passes and the read runs until memory is
//! gone; a FIFO nobody writes to blocks `open` forever. Here at most `limit + 1` bytes are ever
//! read, and a source that delivers nothing for [`STALL_TIMEOUT`] is given up on.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::Duration;
use thiserror::Error;

/// How long a source may deliver no byte at all before the read is abandoned. Local files and
/// pipes from local commands (`<(openssl ...)`) deliver within milliseconds; five seconds of
/// silence means nobody is writing (a FIFO without a writer, a terminal left waiting).
pub const STALL_TIMEOUT: Duration = Duration::from_secs(5);

/// Bytes moved per read: large enough that a 256 MiB file costs 4,096 reads, small enough that
/// the bytes read beyond a limit stay negligible.
const CHUNK: usize = 64 << 10;

/// Why an input file could not be read.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ReadError {
    /// The file cannot be opened or read (missing, no permission, a directory).
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The file holds more than the limit (detected after reading at most `limit + 1` bytes).
    #[error("{path}: larger than the limit of {limit} bytes")]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// The limit it exceeded.
        limit: usize,
    },
    /// The file delivered no data for the stall timeout (a FIFO without a writer).
    #[error("{path}: no data for {} s (a FIFO or device nobody writes to?)", after.as_secs())]
    Stalled {
        /// The file.
        path: PathBuf,
        /// How long the read waited.
        after: Duration,
    },
}

impl ReadError {
    /// True when the file does not exist (CLI exit 66; every other read error is a usage error).
    pub fn is_missing(&self) -> bool {
        matches!(self, ReadError::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound)
    }
}

/// Reads `path` whole if it holds at most `limit` bytes, giving up after [`STALL_TIMEOUT`] without
/// data.
pub fn read_bounded(path: &Path, limit: usize) -> Result<Vec<u8>, ReadError> {
    read_bounded_with(path, limit, STALL_TIMEOUT)
}

/// [`read_bounded`] with an explicit stall timeout.
pub fn read_bounded_with(path: &Path, limit: usize, stall: Duration) -> Result<Vec<u8>, ReadError> {
    let io = |source| ReadError::Io {
        path: path.to_path_buf(),
        source,
    };
    let too_large = || ReadError::TooLarge {
        path: path.to_path_buf(),
        limit,
    };
    // `metadata` never blocks, not even on a FIFO: a missing file is reported at once, and a
    // regular file's size refuses an oversized file before any byte is read.
    let meta = std::fs::metadata(path).map_err(io)?;
    let cap = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
    let mut buf = Vec::new();
    if meta.is_file() {
        if meta.len() > cap.saturating_sub(1) {
            return Err(too_large());
        }
        // The metadata size is only a hint (the file may change): reserve it, bounded by the cap.
        buf.reserve(usize::try_from(meta.len()).unwrap_or(0));
    }
    // `open` and `read` on a FIFO or device can block without end, and std offers no deadline
    // for them: they run on a thread of their own that hands over chunks, and this side waits
    // for each chunk at most `stall`. A thread still blocked after a stall is left behind and
    // ends when its read does, because every send to a dropped receiver fails: the CLI exits
    // right after reporting the error; the server reads files at start-up and on
    // /admin/trust/reload, where each reload against a stalled FIFO leaves one such thread.
    let (tx, rx) = mpsc::sync_channel::<std::io::Result<Vec<u8>>>(4);
    let owned = path.to_path_buf();
    std::thread::Builder::new()
        .name("tekser-read".into())
        .spawn(move || {
            let file = match std::fs::File::open(&owned) {
                Ok(f) => f,
                Err(e) => {
                    let _ = tx.send(Err(e));
                    return;
                }
            };
            let mut src = file.take(cap);
            loop {
                let mut chunk = vec![0u8; CHUNK];
                match src.read(&mut chunk) {
                    Ok(0) => return,
                    Ok(n) => {
                        chunk.truncate(n);
                        if tx.send(Ok(chunk)).is_err() {
                            return;
                        }
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(e) => {
                        let _ = tx.send(Err(e));
                        return;
                    }
                }
            }
        })
        .map_err(io)?;
    loop {
        match rx.recv_timeout(stall) {
            Ok(Ok(chunk)) => {
                buf.extend_from_slice(&chunk);
                if buf.len() > limit {
                    return Err(too_large());
                }
            }
            Ok(Err(e)) => return Err(io(e)),
            Err(RecvTimeoutError::Timeout) => {
                return Err(ReadError::Stalled {
                    path: path.to_path_buf(),
                    after: stall,
                })
            }
            // The reader ended without error: end of file.
            Err(RecvTimeoutError::Disconnected) => return Ok(buf),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_regular_file_within_the_limit_is_read_whole() {
        let p = std::env::temp_dir().join(format!("tekser-input-{}", std::process::id()));
        std::fs::write(&p, vec![7u8; 200_000]).expect("tmp");
        assert_eq!(read_bounded(&p, 200_000).expect("fits").len(), 200_000);
        assert!(matches!(
            read_bounded(&p, 199_999),
            Err(ReadError::TooLarge { limit: 199_999, .. })
        ));
        let _ = std::fs::remove_file(&p);
    }

    #[test]
    fn an_endless_device_stops_at_the_limit() {
        let e = read_bounded(Path::new("/dev/zero"), 1 << 20).expect_err("endless");
        assert!(
            matches!(e, ReadError::TooLarge { limit, .. } if limit == 1 << 20),
            "{e}"
        );
        assert!(e.to_string().contains("/dev/zero"), "{e}");
    }

    #[test]
    fn a_missing_file_is_missing() {
        let e = read_bounded(Path::new("/nonexistent/x"), 10).expect_err("missing");
        assert!(e.is_missing());
    }

    #[test]
    fn a_fifo_without_a_writer_stalls_and_is_given_up() {
        let p = std::env::temp_dir().join(format!("tekser-fifo-{}", std::process::id()));
        let _ = std::fs::remove_file(&p);
        let made = std::process::Command::new("mkfifo")
            .arg(&p)
            .status()
            .expect("mkfifo runs");
        assert!(made.success());
        let t = std::time::Instant::now();
        let e = read_bounded_with(&p, 10, Duration::from_millis(300)).expect_err("stalls");
        println!("FIFO given up after {:?}", t.elapsed());
        assert!(matches!(e, ReadError::Stalled { .. }), "{e}");
        assert!(t.elapsed() < Duration::from_secs(5));
        let _ = std::fs::remove_file(&p);
    }
}

/// `%XX` escapes decoded (RFC 3986), strictly: `None` for an escape that is not two hex digits
/// (`u8::from_str_radix` alone would take "%+f") or a result that is not UTF-8. Used for query
/// values and for the user and password of a Redis URL.
pub fn percent_decode(v: &str) -> Option<String> {
    let b = v.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        if c == b'%' {
            let hex = b.get(i + 1..i + 3)?;
            if !hex.iter().all(u8::is_ascii_hexdigit) {
                return None;
            }
            out.push(u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?);
            i += 3;
        } else {
            out.push(c);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod percent_tests {
    use super::percent_decode;

    #[test]
    fn strict_percent_decoding() {
        assert_eq!(
            percent_decode("2025-06-01T00%3A00%3A00%2B06%3A00").as_deref(),
            Some("2025-06-01T00:00:00+06:00")
        );
        for bad in ["a%zz", "%+f", "%-1", "%4", "%", "%ff"] {
            assert_eq!(percent_decode(bad), None, "{bad}");
        }
    }
}
