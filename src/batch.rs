//! `tekser verify FILE_OR_DIR... [--recursive]` (#17): many documents, each format detected,
//! verified in parallel, one NDJSON verdict per file with `--json`, else a summary.
//!
//! Memory stays flat whatever the number of files: each verdict is written (or counted) as
//! soon as it exists and then dropped; only the paths (to size the progress bar) and the
//! failures (for the summary) are kept. One failing or unreadable file marks the batch, never
//! aborts it (ripgrep's search_parallel).

use crate::cli::BatchArgs;
use crate::{render, write_stdout, Fail};
use rayon::prelude::*;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use tekser::config::Config;
use tekser::detect::Detected;
use tekser::verdict::{Indication, Verdict};
use tekser::verify::Input;

/// Most files one batch walks: a budget before work (a path is ~100 bytes; a million of them
/// is ~100 MB of names, the most a command line run should hold).
const MAX_FILES: usize = 1_000_000;

/// Most folder levels `--recursive` descends: deeper trees are refused, not walked forever.
const MAX_DEPTH: usize = 64;

/// Most failures listed by name in the summary (they are all counted, and all in NDJSON).
const MAX_LISTED_FAILURES: usize = 1000;

/// What is kept across files: counts and the failures, nothing per passing file.
#[derive(Default)]
struct Tally {
    passed: usize,
    failed: usize,
    indeterminate: usize,
    failures: Vec<(PathBuf, String)>,
    unlisted: usize,
    /// Passed, with permitted changes after signing that a reader sees (listed: a summary of
    /// "VALID" alone would hide what was added to the signed pages).
    changed: Vec<PathBuf>,
    changed_unlisted: usize,
    /// stdout's reader went away: stop writing, keep verifying nothing more.
    closed: bool,
}

/// Runs the batch; the exit status is 0 only if every document passed, else 1 if any failed,
/// else 2 (CONTRACT.md per-verdict statuses, taken over the whole batch).
pub fn run(config: &Config, args: &BatchArgs) -> Result<u8, Fail> {
    let started = std::time::Instant::now();
    let files = walk(&args.paths, args.recursive)?;
    if files.is_empty() {
        return Err(Fail::NoInput(
            "no files to verify in the folders given (add --recursive for their subfolders)"
                .to_owned(),
        ));
    }
    let json = args.common.json;
    let bar = progress_bar(files.len(), json);
    let tally = Mutex::new(Tally::default());
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(args.jobs.unwrap_or(0))
        .build()
        .map_err(|e| Fail::Usage(format!("cannot start the worker threads: {e}")))?;
    pool.install(|| {
        files.par_iter().for_each(|path| {
            if tally.lock().unwrap_or_else(|p| p.into_inner()).closed {
                return;
            }
            // One file's panic (a bug; overflow checks make arithmetic slips panics) fails that
            // file, not the folder.
            let v = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                verify_file(config, path)
            }))
            .unwrap_or_else(|_| {
                Err("internal error while verifying it (a bug: please report)".into())
            });
            let line = json.then(|| ndjson_line(path, &v));
            let mut t = match tally.lock() {
                Ok(t) => t,
                Err(p) => p.into_inner(),
            };
            if let Ok(v) = &v {
                if v.indication() == Indication::TOTAL_PASSED && render::changed_after_signing(v) {
                    if t.changed.len() < MAX_LISTED_FAILURES {
                        t.changed.push(path.clone());
                    } else {
                        t.changed_unlisted += 1;
                    }
                }
            }
            match v.as_ref().map(Verdict::indication) {
                Ok(Indication::TOTAL_PASSED) => t.passed += 1,
                Ok(Indication::INDETERMINATE) => t.indeterminate += 1,
                Ok(Indication::TOTAL_FAILED) | Err(_) => t.failed += 1,
            }
            if !matches!(
                v.as_ref().map(Verdict::indication),
                Ok(Indication::TOTAL_PASSED)
            ) {
                if t.failures.len() < MAX_LISTED_FAILURES {
                    let why = match &v {
                        Ok(v) => render::bottom_line(v),
                        Err(e) => format!("NOT VALID — {e}"),
                    };
                    t.failures.push((path.clone(), why));
                } else {
                    t.unlisted += 1;
                }
            }
            // Written under the lock: NDJSON lines never interleave.
            if let Some(line) = line {
                if !t.closed && !write_stdout(&line) {
                    t.closed = true;
                }
            }
            drop(t);
            if let Some(b) = &bar {
                b.inc(1);
            }
        });
    });
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let t = tally.into_inner().unwrap_or_else(|p| p.into_inner());
    let took = started.elapsed();
    let summary = summary(&t, files.len(), took);
    if json {
        // stdout holds the NDJSON alone (CONTRACT.md): the summary goes to stderr.
        eprint!("{summary}");
    } else if !t.closed {
        write_stdout(&summary);
    }
    let verified = t.passed + t.failed + t.indeterminate;
    Ok(if t.failed > 0 {
        1
    } else if t.indeterminate > 0 || verified < files.len() {
        // Output closed early: the files not verified did not pass.
        2
    } else {
        0
    })
}

/// The files to verify: named files as given, a folder's files (sorted, so runs compare), its
/// subfolders with `--recursive`. Symbolic links to folders are not followed (no cycles).
fn walk(paths: &[PathBuf], recursive: bool) -> Result<Vec<PathBuf>, Fail> {
    let mut out = Vec::new();
    for p in paths {
        let meta =
            std::fs::metadata(p).map_err(|e| Fail::NoInput(format!("{}: {e}", p.display())))?;
        if meta.is_dir() {
            walk_dir(p, recursive, 0, &mut out)?;
        } else {
            push(&mut out, p.clone())?;
        }
    }
    // `X` beside `X.p7s` is the detached signature's content: verified with it, not alone —
    // only when `X.p7s` is a CMS signature. A sibling that merely has the name (a PDF or an
    // XML file called `X.p7s`) is verified as what it is, and `X` on its own (a forged `X`
    // hid behind such a sibling and was never read).
    let names: std::collections::HashSet<&Path> = out.iter().map(PathBuf::as_path).collect();
    let is_content = |p: &Path| {
        ["p7s", "sig", "cms"].iter().any(|ext| {
            let mut sig = p.as_os_str().to_owned();
            sig.push(".");
            sig.push(ext);
            let sig = Path::new(&sig);
            names.contains(sig) && sniffs_as_cms(sig)
        })
    };
    let keep: Vec<bool> = out.iter().map(|p| !is_content(p)).collect();
    drop(names);
    let mut keep = keep.into_iter();
    out.retain(|_| keep.next().unwrap_or(true));
    Ok(out)
}

fn walk_dir(dir: &Path, recursive: bool, depth: usize, out: &mut Vec<PathBuf>) -> Result<(), Fail> {
    if depth > MAX_DEPTH {
        return Err(Fail::Usage(format!(
            "{}: more than {MAX_DEPTH} folder levels",
            dir.display()
        )));
    }
    let mut entries: Vec<(PathBuf, std::fs::FileType)> = std::fs::read_dir(dir)
        .map_err(|e| Fail::NoInput(format!("{}: {e}", dir.display())))?
        .filter_map(Result::ok)
        .filter_map(|e| e.file_type().ok().map(|t| (e.path(), t)))
        .collect();
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    for (path, kind) in entries {
        if kind.is_dir() {
            if recursive {
                walk_dir(&path, recursive, depth + 1, out)?;
            }
        } else if kind.is_file() || (kind.is_symlink() && path.is_file()) {
            push(out, path)?;
        }
    }
    Ok(())
}

fn push(out: &mut Vec<PathBuf>, p: PathBuf) -> Result<(), Fail> {
    if out.len() >= MAX_FILES {
        return Err(Fail::Usage(format!(
            "more than {MAX_FILES} files: verify the folders in parts"
        )));
    }
    out.push(p);
    Ok(())
}

/// Why a file has no verdict: it could not be read, or is nothing tekser reads.
type NoVerdict = String;

/// One file: read (bounded), detect, verify with the format's verifier.
fn verify_file(config: &Config, path: &Path) -> Result<Verdict, NoVerdict> {
    let limits = *config.verifier.limits();
    let bytes = read_file(path, limits.max_input_bytes)?;
    let (v, req, fx) = (&config.verifier, &config.request, config.fetcher.as_ref());
    // The detected input, verified through the one entry point.
    let content;
    let lines;
    let refs: Vec<&[u8]>;
    let images = [bytes.as_slice()];
    let input = match tekser::detect::detect(&bytes) {
        Detected::Pdf => Input::Pdf(&bytes),
        Detected::Cms(_) => {
            // A detached signature `X.p7s` (`.sig`, `.cms`) is checked against `X` beside it.
            content = detached_content(path, limits.max_content_bytes)?;
            Input::Cms {
                signature: &bytes,
                content: content.as_deref(),
            }
        }
        Detected::Xml => Input::Xml(&bytes),
        Detected::Barcode(_) => {
            lines = tekser::formats::barcode::split_lines(&bytes);
            refs = lines.iter().map(Vec::as_slice).collect();
            Input::Barcodes {
                payloads: &refs,
                content: None,
            }
        }
        Detected::Png | Detected::Jpeg => Input::BarcodeImages {
            images: &images,
            content: None,
        },
        Detected::Certificate(_) => Input::Chain {
            certificates: &bytes,
            max_depth: None,
        },
        other => {
            return Err(format!(
            "not a format tekser reads ({}): PDF, CMS, XML, barcode text, PNG/JPEG, certificate",
            other.describe()
        ))
        }
    };
    Ok(v.verify_online(&input, req, fx))
}

/// Whether the first bytes of `path` are a CMS signature (unreadable, or not a regular file
/// whose read cannot stall: no).
fn sniffs_as_cms(path: &Path) -> bool {
    use std::io::Read;
    if !std::fs::metadata(path).is_ok_and(|m| m.is_file()) {
        return false;
    }
    let mut head = Vec::with_capacity(tekser::detect::SNIFF_WINDOW);
    std::fs::File::open(path)
        .and_then(|f| {
            f.take(tekser::detect::SNIFF_WINDOW as u64)
                .read_to_end(&mut head)
        })
        .is_ok()
        && matches!(tekser::detect::detect(&head), Detected::Cms(_))
}

/// Reads a regular file of at most `limit` bytes. The walk yields regular files, whose reads
/// do not block, so the per-read thread of `input::read_bounded` (there for FIFOs and devices,
/// which can stall) is not needed: it cost ~40 % of the rate on 10,000 small files. Anything
/// that is no longer a regular file when opened still goes through `read_bounded`.
fn read_file(path: &Path, limit: usize) -> Result<Vec<u8>, NoVerdict> {
    use std::io::Read;
    let fail = |e: &dyn std::fmt::Display| format!("cannot read it: {e}");
    let regular = std::fs::metadata(path).map_err(|e| fail(&e))?;
    if !regular.is_file() {
        return tekser::input::read_bounded(path, limit).map_err(|e| fail(&e));
    }
    if regular.len() > u64::try_from(limit).unwrap_or(u64::MAX) {
        return Err(fail(&format!("larger than the limit of {limit} bytes")));
    }
    let file = std::fs::File::open(path).map_err(|e| fail(&e))?;
    // The size may have changed since: the read stays bounded whatever the file holds now.
    let cap = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
    let mut buf = Vec::with_capacity(usize::try_from(regular.len()).unwrap_or(0));
    file.take(cap).read_to_end(&mut buf).map_err(|e| fail(&e))?;
    if buf.len() > limit {
        return Err(fail(&format!("larger than the limit of {limit} bytes")));
    }
    Ok(buf)
}

fn detached_content(sig: &Path, limit: usize) -> Result<Option<Vec<u8>>, NoVerdict> {
    let ext = sig.extension().and_then(|e| e.to_str()).unwrap_or_default();
    if !matches!(ext.to_ascii_lowercase().as_str(), "p7s" | "sig" | "cms") {
        return Ok(None);
    }
    let content = sig.with_extension("");
    if !content.is_file() {
        return Ok(None);
    }
    read_file(&content, limit)
        .map(Some)
        .map_err(|e| format!("the signed content beside it: {e}"))
}

/// One NDJSON line: the verdict with its `path` first; a file without a verdict is
/// TOTAL_FAILED / FORMAT_FAILURE with `format` null and the reason (never a pass).
fn ndjson_line(path: &Path, v: &Result<Verdict, NoVerdict>) -> String {
    let path = path.to_string_lossy();
    let path = serde_json::Value::from(path.as_ref()).to_string();
    match v {
        // `path` first, then the verdict's own fields in their usual order.
        Ok(v) => {
            let verdict = v.to_json_compact();
            let rest = verdict.strip_prefix('{').unwrap_or(&verdict);
            format!("{{\"path\":{path},{rest}\n")
        }
        Err(why) => {
            let rest = serde_json::json!({
                "indication": "TOTAL_FAILED",
                "sub_indication": "FORMAT_FAILURE",
                "format": null,
                "signatures": [],
                "document": null,
                "errors": [{ "code": "unrecognised-input", "message": why }],
            })
            .to_string();
            let rest = rest.strip_prefix('{').unwrap_or(&rest);
            format!("{{\"path\":{path},{rest}\n")
        }
    }
}

/// The summary table: counts per indication, then each file that did not pass, with why.
fn summary(t: &Tally, total: usize, took: std::time::Duration) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let secs = took.as_secs_f64();
    let _ = writeln!(
        s,
        "{total} file(s) in {secs:.2} s ({:.0} files/s)",
        if secs > 0.0 { total as f64 / secs } else { 0.0 }
    );
    for (label, n) in [
        ("VALID (TOTAL_PASSED)", t.passed),
        ("NOT VALID (TOTAL_FAILED)", t.failed),
        ("CANNOT CONFIRM (INDETERMINATE)", t.indeterminate),
    ] {
        let _ = writeln!(s, "  {label:<32} {n:>8}");
    }
    if !t.failures.is_empty() {
        let _ = writeln!(s, "not passed:");
        let mut failures: Vec<_> = t.failures.iter().collect();
        failures.sort();
        for (p, why) in failures {
            let _ = writeln!(
                s,
                "  {}: {why}",
                crate::cli::escape_text(&p.to_string_lossy())
            );
        }
        if t.unlisted > 0 {
            let _ = writeln!(s, "  ... and {} more", t.unlisted);
        }
    }
    if !t.changed.is_empty() {
        let _ = writeln!(
            s,
            "valid, but changed after signing in ways the signature permits (see each file):"
        );
        let mut changed: Vec<_> = t.changed.iter().collect();
        changed.sort();
        for p in changed {
            let _ = writeln!(s, "  {}", crate::cli::escape_text(&p.to_string_lossy()));
        }
        if t.changed_unlisted > 0 {
            let _ = writeln!(s, "  ... and {} more", t.changed_unlisted);
        }
    }
    s
}

/// A progress bar on stderr, only when stderr is a terminal and the output is for people.
fn progress_bar(total: usize, json: bool) -> Option<indicatif::ProgressBar> {
    if json || !std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        return None;
    }
    let bar = indicatif::ProgressBar::new(u64::try_from(total).unwrap_or(u64::MAX));
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} files  eta {eta}")
    {
        bar.set_style(style);
    }
    Some(bar)
}
