//! One work budget per request (issue #12): every public-key operation a verification makes —
//! a document signature, a certificate signature tried while building a path, a CRL or OCSP
//! response signature — is charged to one meter for the whole request, before it runs.
//!
//! Each layer has its own cap as well (signers per CMS, candidates per signer, checks per path
//! search, CRL signer candidates), but their product is large: 32 signers × 4 candidates × 64
//! checks per search is 8,192 signature checks, seconds of GOST arithmetic. The meter bounds the
//! sum, whatever layer spends it. It counts signature operations, not time, so a verdict does not
//! depend on how busy the machine is.

use std::sync::atomic::{AtomicUsize, Ordering};

/// The request's remaining signature operations.
#[derive(Debug)]
pub struct Work {
    limit: usize,
    spent: AtomicUsize,
    /// A charge was refused: some check did not run (see [`Work::refused`]).
    refused: std::sync::atomic::AtomicBool,
}

/// The request's budget is spent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the request's budget of {0} signature operations is spent")]
pub struct WorkSpent(pub usize);

impl Work {
    /// A meter allowing `limit` operations.
    pub fn new(limit: usize) -> Self {
        Self {
            limit,
            spent: AtomicUsize::new(0),
            refused: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// A meter that never runs out, for callers outside a request (tests, tools) whose inputs
    /// are bounded by the per-layer caps alone.
    pub fn unlimited() -> Self {
        Self::new(usize::MAX)
    }

    /// Charges one operation, before it runs.
    pub fn charge(&self) -> Result<(), WorkSpent> {
        self.spent
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |s| {
                (s < self.limit).then_some(s + 1)
            })
            .map(|_| ())
            .map_err(|_| {
                self.refused.store(true, Ordering::Relaxed);
                WorkSpent(self.limit)
            })
    }

    /// Whether a charge was refused: a check was skipped, so whatever depended on it (a
    /// revocation source passed over, say) is unproved, not merely unavailable.
    pub fn refused(&self) -> bool {
        self.refused.load(Ordering::Relaxed)
    }

    /// The budget.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Operations charged so far.
    pub fn spent(&self) -> usize {
        self.spent.load(Ordering::Relaxed).min(self.limit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charges_up_to_the_limit_then_refuses() {
        let w = Work::new(2);
        assert_eq!(w.charge(), Ok(()));
        assert_eq!(w.charge(), Ok(()));
        assert!(!w.refused());
        assert_eq!(w.charge(), Err(WorkSpent(2)));
        assert!(w.refused());
        assert_eq!(w.spent(), 2);
    }
}
