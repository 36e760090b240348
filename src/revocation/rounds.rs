//! The fetch-round driver: verify, fetch what the verification asked for, verify again. One
//! function, [`drive`], used by the CLI (through [`crate::verify::Verifier::verify_online`]), the
//! HTTP verify route, the batch endpoint and certificate inspection alike.
//!
//! Why rounds at all: the core never does I/O. A verification answers from what it has and
//! lists the fetches that would answer the rest; OCSP answers come first, CRLs are asked for only
//! where OCSP failed, delta CRLs only once a base CRL is known, so a verification can need up to
//! [`MAX_ROUNDS`] fetch rounds.
//!
//! Why async: the server runs verifications on its CPU pool and fetches on the blocking pool,
//! awaiting both; the CLI runs both inline. Written once as an `async fn` over the two steps, the
//! round policy (how many, the deadline, no job twice, a stalled round ends) cannot drift
//! between the callers; the CLI polls it with [`block_on`], with no runtime.

use super::FetchJob;
use crate::verify::RevocationMode;
use std::future::Future;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

/// Most fetch rounds per verification: OCSP, then CRLs where OCSP failed, then delta CRLs.
pub const MAX_ROUNDS: usize = 3;

/// Where a verification stands in its fetch rounds: what was fetched so far, how many rounds ran,
/// the deadline. Handed to each verification step; cheap to clone (the done list is shared).
#[derive(Debug, Clone)]
pub struct Rounds {
    done: Arc<Vec<FetchJob>>,
    /// The request's work budget, shared by all its verification runs.
    work: Arc<crate::pki::work::Work>,
    round: usize,
    deadline: Instant,
    enabled: bool,
}

impl Rounds {
    /// The rounds of one verification: `budget` is the configured revocation deadline (one for
    /// the whole verification, issue #13 item 6); nothing is fetched when `mode` is off.
    /// `work` is the request's budget ([`crate::verify::Verifier::new_work`]).
    pub fn new(budget: Duration, mode: RevocationMode, work: Arc<crate::pki::work::Work>) -> Self {
        Self {
            done: Arc::new(Vec::new()),
            work,
            round: 0,
            deadline: Instant::now() + budget,
            enabled: mode != RevocationMode::Off,
        }
    }

    /// The fetches already run for this verification (pass them to the verification as `done`).
    pub fn done(&self) -> &[FetchJob] {
        &self.done
    }

    /// Where the next verification run starts: the fetches run so far and the request's budget.
    pub fn run(&self) -> super::Run<'_> {
        super::Run {
            done: &self.done,
            work: &self.work,
        }
    }

    /// When every fetch of this verification gives up.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// The outcome of one verification run: `wanted` is what it asked to fetch. When nothing
    /// new can be fetched (none wanted, all already run this verification, rounds or deadline
    /// spent, revocation off) the run is final and `finish` turns its verdict into the answer;
    /// otherwise the step asks for the new fetches and `finish` is not called (a verdict about
    /// to be replaced is not serialised).
    pub fn step<V, T>(
        &self,
        (verdict, wanted): (V, Vec<FetchJob>),
        finish: impl FnOnce(V) -> T,
    ) -> Step<T> {
        let exhausted =
            !self.enabled || self.round >= MAX_ROUNDS || Instant::now() >= self.deadline;
        if !exhausted {
            // A job run once is not run again in a later round, even if its result fell out of
            // the cache: a dead responder must not buy more rounds.
            let new: Vec<FetchJob> = wanted
                .into_iter()
                .filter(|j| !self.done.iter().any(|d| d.same(j)))
                .collect();
            if !new.is_empty() {
                return Step(StepKind::Fetch(new));
            }
        }
        Step(StepKind::Done(finish(verdict)))
    }

    fn ran(&mut self, jobs: Vec<FetchJob>) {
        let mut all = Vec::with_capacity(self.done.len() + jobs.len());
        all.extend(self.done.iter().cloned());
        all.extend(jobs);
        self.done = Arc::new(all);
        self.round += 1;
    }
}

/// What one verification run produced: the answer, or fetches to run first. Built only by
/// [`Rounds::step`], which answers once the rounds are spent: that is what bounds [`drive`].
#[derive(Debug)]
pub struct Step<T>(StepKind<T>);

#[derive(Debug)]
enum StepKind<T> {
    Done(T),
    Fetch(Vec<FetchJob>),
}

/// Runs `verify` until it answers, running `fetch` for what it asks between runs.
///
/// `verify(&rounds)` runs one verification with `rounds.done()` and returns
/// `rounds.step(...)`; `fetch(jobs, deadline)` runs the jobs (blocking or on another thread) and
/// returns the jobs it ran. Either may fail with `E` (a full queue, a panic), which ends the
/// rounds. At most [`MAX_ROUNDS`] fetch rounds, so at most `MAX_ROUNDS + 1` verifications.
pub async fn drive<T, E, VF, FF>(
    mut rounds: Rounds,
    mut verify: impl FnMut(&Rounds) -> VF,
    mut fetch: impl FnMut(Vec<FetchJob>, Instant) -> FF,
) -> Result<T, E>
where
    VF: Future<Output = Result<Step<T>, E>>,
    FF: Future<Output = Vec<FetchJob>>,
{
    loop {
        match verify(&rounds).await?.0 {
            StepKind::Done(t) => return Ok(t),
            StepKind::Fetch(jobs) => {
                let ran = fetch(jobs, rounds.deadline).await;
                rounds.ran(ran);
            }
        }
    }
}

/// Wakes the thread that polls in [`block_on`].
struct ThreadWaker(std::thread::Thread);

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
}

/// Runs a future to completion on this thread (the CLI's use of [`drive`], whose steps are
/// plain blocking calls wrapped in ready futures: the first poll completes it).
pub fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let waker = Waker::from(Arc::new(ThreadWaker(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    loop {
        match future.as_mut().poll(&mut cx) {
            Poll::Ready(out) => return out,
            Poll::Pending => std::thread::park(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;
    use std::convert::Infallible;
    use std::future::ready;

    fn crl(url: &str) -> FetchJob {
        FetchJob::Crl {
            url: url.into(),
            issuer: None,
        }
    }

    /// Runs the driver with a verification that always wants `want(round)` and counts the
    /// verifications and fetches.
    fn run(
        mode: RevocationMode,
        budget: Duration,
        want: impl Fn(usize) -> Vec<FetchJob>,
    ) -> (usize, usize, usize) {
        let (runs, fetches) = (Cell::new(0), Cell::new(0));
        let answer = block_on(drive(
            Rounds::new(budget, mode, Arc::new(crate::pki::work::Work::unlimited())),
            |r| {
                runs.set(runs.get() + 1);
                ready(Ok::<_, Infallible>(
                    r.step(((), want(r.done().len())), |()| r.done().len()),
                ))
            },
            |jobs, _| {
                fetches.set(fetches.get() + jobs.len());
                ready(jobs)
            },
        ));
        let done = answer.unwrap_or_else(|e| match e {});
        (runs.get(), fetches.get(), done)
    }

    #[test]
    fn nothing_wanted_is_one_run() {
        assert_eq!(
            run(RevocationMode::Prefer, Duration::from_secs(9), |_| vec![]),
            (1, 0, 0)
        );
    }

    #[test]
    fn new_jobs_each_round_stop_after_three_rounds() {
        let (runs, fetches, done) = run(RevocationMode::Require, Duration::from_secs(9), |n| {
            vec![crl(&format!("http://127.0.0.1/{n}"))]
        });
        assert_eq!(
            (runs, fetches, done),
            (MAX_ROUNDS + 1, MAX_ROUNDS, MAX_ROUNDS)
        );
    }

    #[test]
    fn a_round_asking_only_for_done_jobs_is_final() {
        // The same job wanted every time (its responder is dead): fetched once, then answered.
        let (runs, fetches, _) = run(RevocationMode::Prefer, Duration::from_secs(9), |_| {
            vec![crl("http://127.0.0.1/dead")]
        });
        assert_eq!((runs, fetches), (2, 1));
    }

    #[test]
    fn revocation_off_or_deadline_passed_fetches_nothing() {
        let want = |_| vec![crl("http://127.0.0.1/x")];
        assert_eq!(
            run(RevocationMode::Off, Duration::from_secs(9), want),
            (1, 0, 0)
        );
        assert_eq!(
            run(RevocationMode::Require, Duration::ZERO, want),
            (1, 0, 0)
        );
    }
}
