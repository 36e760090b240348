//! CPU-bound work off the tokio threads: a bounded rayon pool with a permit per queued job.
//!
//! A request takes a permit before its job is queued; with none left, `/v1/verify` answers 503 at
//! once (`try_run`) while batch items wait for one (`run`). A job's panic is caught and returned as
//! an error, so one bad verification cannot take a worker or the server down.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio::sync::{oneshot, OwnedSemaphorePermit, Semaphore};

/// Why a job produced no result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobError {
    /// The queue is full (only from `try_run`).
    Busy,
    /// The job panicked.
    Panicked,
}

/// The verification pool.
pub struct Executor {
    pool: rayon::ThreadPool,
    permits: Arc<Semaphore>,
    capacity: usize,
    rejected: AtomicU64,
    panics: AtomicU64,
    /// Jobs over at most this many input bytes run inline on the calling (I/O) thread.
    inline_max_bytes: usize,
}

impl std::fmt::Debug for Executor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Executor")
            .field("threads", &self.pool.current_num_threads())
            .field("capacity", &self.capacity)
            .finish()
    }
}

impl Executor {
    /// `threads` workers (0 = one per core) and room for `capacity` jobs queued or running.
    pub fn new(threads: usize, capacity: usize) -> std::io::Result<Self> {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("tekser-verify-{i}"))
            .build()
            .map_err(std::io::Error::other)?;
        Ok(Self {
            pool,
            permits: Arc::new(Semaphore::new(capacity.max(1))),
            capacity: capacity.max(1),
            rejected: AtomicU64::new(0),
            panics: AtomicU64::new(0),
            inline_max_bytes: 0,
        })
    }

    /// Runs jobs over inputs of at most `bytes` on the I/O thread that read them (see
    /// [`Executor::try_run_sized`]); 0 (the default) hands every job to the pool.
    pub fn with_inline_max_bytes(mut self, bytes: usize) -> Self {
        self.inline_max_bytes = bytes;
        self
    }

    /// [`Executor::try_run`] for a job over `size` input bytes: a small one (at most the inline
    /// limit) runs right here, on the I/O thread, which saves the two cross-thread hand-offs
    /// (on one core, two context switches) that cost more than a warm CMS verification
    /// itself; a large one goes to the pool so that it never holds up other connections' I/O.
    /// Either way it takes a permit first (load shedding counts it) and a panic is contained.
    pub async fn try_run_sized<T: Send + 'static>(
        &self,
        size: usize,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, JobError> {
        if self.inline_max_bytes == 0 || size > self.inline_max_bytes {
            return self.try_run(f).await;
        }
        let Ok(permit) = Arc::clone(&self.permits).try_acquire_owned() else {
            self.rejected.fetch_add(1, Ordering::Relaxed);
            return Err(JobError::Busy);
        };
        let out = catch_unwind(AssertUnwindSafe(f));
        drop(permit);
        out.map_err(|_| {
            self.panics.fetch_add(1, Ordering::Relaxed);
            JobError::Panicked
        })
    }

    /// Runs `f` if a permit is free now; `Busy` otherwise.
    pub async fn try_run<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, JobError> {
        match Arc::clone(&self.permits).try_acquire_owned() {
            Ok(p) => self.spawn(p, f).await,
            Err(_) => {
                self.rejected.fetch_add(1, Ordering::Relaxed);
                Err(JobError::Busy)
            }
        }
    }

    /// Runs `f`, waiting for a permit.
    pub async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, JobError> {
        match Arc::clone(&self.permits).acquire_owned().await {
            Ok(p) => self.spawn(p, f).await,
            Err(_) => Err(JobError::Busy),
        }
    }

    async fn spawn<T: Send + 'static>(
        &self,
        permit: OwnedSemaphorePermit,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, JobError> {
        let (tx, rx) = oneshot::channel();
        self.pool.spawn(move || {
            let out = catch_unwind(AssertUnwindSafe(f));
            drop(permit);
            let _ = tx.send(out);
        });
        match rx.await {
            Ok(Ok(v)) => Ok(v),
            _ => {
                self.panics.fetch_add(1, Ordering::Relaxed);
                Err(JobError::Panicked)
            }
        }
    }

    /// Jobs queued or running now.
    pub fn depth(&self) -> usize {
        self.capacity - self.permits.available_permits()
    }

    /// Jobs refused with 503 so far.
    pub fn rejected(&self) -> u64 {
        self.rejected.load(Ordering::Relaxed)
    }

    /// Jobs that panicked so far.
    pub fn panics(&self) -> u64 {
        self.panics.load(Ordering::Relaxed)
    }

    /// Worker threads.
    pub fn threads(&self) -> usize {
        self.pool.current_num_threads()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panicking_job_is_an_error_and_the_pool_keeps_working() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let ex = Executor::new(1, 2).unwrap();
            let r: Result<(), JobError> = ex.try_run(|| panic!("boom")).await;
            assert_eq!(r, Err(JobError::Panicked));
            assert_eq!(ex.panics(), 1);
            assert_eq!(ex.try_run(|| 41 + 1).await, Ok(42));
            assert_eq!(ex.depth(), 0, "permits come back after a panic");
            // The mapping the routes use: a panic is a 500, a full queue a 503.
            assert_eq!(
                super::super::routes::job_error_status(JobError::Panicked),
                500
            );
            assert_eq!(super::super::routes::job_error_status(JobError::Busy), 503);
        });
    }

    /// Small jobs run on the calling thread, large ones on the pool; inline ones still take a
    /// permit (a full queue answers Busy: load shedding holds) and a panic stays contained.
    #[test]
    fn small_jobs_run_inline_under_the_same_permits() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let ex = Executor::new(1, 1).unwrap().with_inline_max_bytes(1000);
            let name = || std::thread::current().name().map(str::to_owned);
            let here = name();
            assert_eq!(ex.try_run_sized(1000, name).await, Ok(here));
            assert_eq!(
                ex.try_run_sized(1001, name).await,
                Ok(Some("tekser-verify-0".to_owned()))
            );
            let r: Result<(), JobError> = ex.try_run_sized(10, || panic!("boom")).await;
            assert_eq!(r, Err(JobError::Panicked));
            assert_eq!((ex.panics(), ex.depth()), (1, 0));
            // The one permit held by a job on the pool: an inline job is shed too.
            let (tx, rx) = std::sync::mpsc::channel::<()>();
            let held = ex.try_run_sized(usize::MAX, move || rx.recv().is_ok());
            let (held, shed) = tokio::join!(held, async {
                tokio::task::yield_now().await;
                let shed = ex.try_run_sized(10, || ()).await;
                let _ = tx.send(());
                shed
            });
            assert_eq!(shed, Err(JobError::Busy));
            assert_eq!(held, Ok(true));
            assert_eq!(ex.rejected(), 1);
            // Off by default: everything goes to the pool.
            let ex = Executor::new(1, 1).unwrap();
            assert_eq!(
                ex.try_run_sized(0, name).await,
                Ok(Some("tekser-verify-0".to_owned()))
            );
        });
    }
}
