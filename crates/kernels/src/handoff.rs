//! Handing mid-size work to other cores in about a microsecond.
//!
//! rayon's sleeping workers take ~10 us to wake, so reductions below
//! [`crate::PARALLEL_THRESHOLD`] elements stay off its pool. Here persistent helper
//! threads, after each job, **spin** for up to `STRIDEWISE_SPIN_US` microseconds (default
//! [`DEFAULT_SPIN_US`]) waiting for the next one, then park. A call that finds them spinning
//! hands its parts over with one atomic store each; parked ones are woken by `unpark` (a
//! futex: several microseconds, the same as rayon).
//!
//! **Idle cost**: after each call that used them, each helper burns at most the spin time of
//! one core, then sleeps. `STRIDEWISE_SPIN_US=0` parks at once (every hand-off then pays the
//! wake-up).
//!
//! One caller at a time: a call that finds the helpers busy (another thread's reduction) runs
//! its parts itself.
//!
//! **Parts are claimed, not assigned.** Every participant (the caller and each helper that
//! takes the job) claims the next unclaimed part from one counter until none are left, and
//! the caller then withdraws the job from helpers that have not taken it yet. So a helper
//! that is not running (its core busy with another process: a compiler, a second Python)
//! costs nothing but the caller doing its share; with fixed assignments the caller waited
//! for it, and mid-size reductions ran up to 10x slower than on one thread on a loaded
//! machine. Results go to each part's own place, so they do not depend on who ran what.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, TryLockError};
use std::thread::Thread;
use std::time::{Duration, Instant};

/// Microseconds a helper spins for the next job before it parks, unless `STRIDEWISE_SPIN_US`
/// says otherwise.
pub const DEFAULT_SPIN_US: u64 = 100;

/// A job: the function every part runs and the counter its parts are claimed from, on the
/// poster's stack.
struct Job<'a> {
    f: &'a (dyn Fn(usize) + Sync),
    parts: usize,
    next: AtomicUsize,
}

impl Job<'_> {
    /// Run parts until none are left unclaimed.
    fn work(&self) {
        loop {
            let k = self.next.fetch_add(1, Ordering::Relaxed);
            if k >= self.parts {
                return;
            }
            (self.f)(k);
        }
    }
}

/// A slot's states: no job for the helper ...
const IDLE: u8 = 0;
/// ... a job posted (`job` is valid) that the helper has not taken ...
const POSTED: u8 = 1;
/// ... and the helper working on it (back to `IDLE` when it has finished).
const TAKEN: u8 = 2;

/// One helper's mailbox.
struct Slot {
    /// `IDLE`, `POSTED` or `TAKEN`; only the poster moves `IDLE -> POSTED` and `POSTED ->
    /// IDLE` (withdrawn), only the helper `POSTED -> TAKEN -> IDLE`.
    state: AtomicU8,
    /// Points to the poster's `Job` while the state is `POSTED` or `TAKEN`.
    job: AtomicPtr<()>,
    /// The last job the helper took panicked in one of its parts.
    panicked: AtomicBool,
}

/// A helper thread and its mailbox.
struct Helper {
    slot: Arc<Slot>,
    thread: Thread,
}

/// The helpers; the lock is held by the one caller using them.
static HELPERS: Mutex<Vec<Helper>> = Mutex::new(Vec::new());

fn spin_time() -> Duration {
    static SPIN: OnceLock<Duration> = OnceLock::new();
    *SPIN.get_or_init(|| {
        let us = std::env::var("STRIDEWISE_SPIN_US")
            .ok()
            .and_then(|s| s.trim().parse::<u64>().ok())
            .unwrap_or(DEFAULT_SPIN_US);
        Duration::from_micros(us)
    })
}

fn helper_loop(slot: Arc<Slot>) {
    let spin = spin_time();
    loop {
        let start = Instant::now();
        let mut tries = 0u32;
        loop {
            if slot.state.load(Ordering::Relaxed) == POSTED
                && slot
                    .state
                    .compare_exchange(POSTED, TAKEN, Ordering::Acquire, Ordering::Relaxed)
                    .is_ok()
            {
                break;
            }
            tries = tries.wrapping_add(1);
            if tries % 64 == 0 && start.elapsed() >= spin {
                // `unpark` before `park` makes `park` return at once: no lost wake-up.
                std::thread::park();
            } else {
                std::hint::spin_loop();
            }
        }
        let p = slot.job.load(Ordering::Relaxed).cast::<Job<'_>>();
        // SAFETY: the poster stored a pointer to its `Job` before the Release store of
        // `POSTED`, which our successful Acquire exchange read; it keeps the job alive until it
        // sees this slot `IDLE` again (see `Posted::drop`), which is stored only after the
        // last use below. It cannot withdraw the job: the state is `TAKEN`.
        let job: &Job<'_> = unsafe { &*p };
        let r = catch_unwind(AssertUnwindSafe(|| job.work()));
        slot.panicked.store(r.is_err(), Ordering::Relaxed);
        slot.state.store(IDLE, Ordering::Release);
    }
}

/// Withdraws the posted job from helpers that have not taken it and waits for those that
/// have, when dropped (also when the caller's own parts panic): the job must outlive every
/// helper's use of it.
struct Posted<'a> {
    helpers: &'a [Helper],
}

impl Drop for Posted<'_> {
    fn drop(&mut self) {
        for Helper { slot, .. } in self.helpers {
            if slot
                .state
                .compare_exchange(POSTED, IDLE, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
            {
                continue; // never taken: the helper will not touch the job
            }
            let mut tries = 0u32;
            while slot.state.load(Ordering::Acquire) != IDLE {
                tries = tries.wrapping_add(1);
                if tries < 1 << 16 {
                    std::hint::spin_loop();
                } else {
                    std::thread::yield_now();
                }
            }
        }
    }
}

/// Run `f(0)`, ..., `f(parts - 1)` on this thread and up to `workers - 1` helpers, each part
/// once, and return when all have finished. Returns `false` without running anything when
/// the helpers are busy with another caller's job (then run the parts yourself). A panic in
/// a part is raised here once every part that started has finished (parts not yet claimed
/// then may never run).
pub(crate) fn run(parts: usize, workers: usize, f: &(dyn Fn(usize) + Sync)) -> bool {
    let mut helpers = match HELPERS.try_lock() {
        Ok(h) => h,
        // A part panicked while the lock was held; the helpers themselves are fine.
        Err(TryLockError::Poisoned(p)) => p.into_inner(),
        Err(TryLockError::WouldBlock) => return false,
    };
    let wanted = workers.min(parts).saturating_sub(1);
    while helpers.len() < wanted {
        let slot = Arc::new(Slot {
            state: AtomicU8::new(IDLE),
            job: AtomicPtr::new(std::ptr::null_mut()),
            panicked: AtomicBool::new(false),
        });
        let mine = Arc::clone(&slot);
        let spawned = std::thread::Builder::new()
            .name(format!("stridewise-helper-{}", helpers.len() + 1))
            .spawn(move || helper_loop(mine));
        let Ok(handle) = spawned else {
            break; // no more threads: fewer helpers
        };
        let thread = handle.thread().clone();
        helpers.push(Helper { slot, thread });
    }
    let used = &helpers[..wanted.min(helpers.len())];
    let job = Job {
        f,
        parts,
        next: AtomicUsize::new(0),
    };
    let job_ptr = std::ptr::from_ref(&job).cast_mut().cast::<()>();
    for h in used {
        h.slot.panicked.store(false, Ordering::Relaxed);
        h.slot.job.store(job_ptr, Ordering::Relaxed);
        h.slot.state.store(POSTED, Ordering::Release);
        h.thread.unpark();
    }
    let posted = Posted { helpers: used };
    job.work();
    drop(posted);
    if used.iter().any(|h| h.slot.panicked.load(Ordering::Relaxed)) {
        panic!("a stridewise helper thread panicked");
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The tests share the helpers, which serve one caller at a time.
    static SERIAL: Mutex<()> = Mutex::new(());

    #[test]
    fn every_part_runs_once_and_results_come_back() {
        let _one = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        for parts in 1..5 {
            for _ in 0..50 {
                let hits: Vec<AtomicUsize> = (0..parts).map(|_| AtomicUsize::new(0)).collect();
                let ran = run(parts, parts, &|p| {
                    hits[p].fetch_add(p + 1, Ordering::Relaxed);
                });
                assert!(ran);
                let got: Vec<usize> = hits.iter().map(|h| h.load(Ordering::Relaxed)).collect();
                assert_eq!(got, (1..=parts).collect::<Vec<_>>());
            }
        }
    }

    #[test]
    fn more_parts_than_workers_each_run_once() {
        let _one = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        for workers in 1..4 {
            for parts in [1, 2, 5, 16] {
                let hits: Vec<AtomicUsize> = (0..parts).map(|_| AtomicUsize::new(0)).collect();
                assert!(run(parts, workers, &|p| {
                    hits[p].fetch_add(1, Ordering::Relaxed);
                }));
                assert!(hits.iter().all(|h| h.load(Ordering::Relaxed) == 1));
            }
        }
    }

    #[test]
    fn a_part_that_blocks_does_not_hold_up_the_others() {
        // Part 0 waits until every other part has run: with assigned parts and one blocked
        // participant this would deadlock; with claimed parts the others take the rest.
        let _one = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        let parts = 8;
        let done = AtomicUsize::new(0);
        assert!(run(parts, 2, &|p| {
            if p == 0 {
                while done.load(Ordering::Acquire) < parts - 1 {
                    std::thread::yield_now();
                }
            } else {
                done.fetch_add(1, Ordering::Release);
            }
        }));
        assert_eq!(done.load(Ordering::Relaxed), parts - 1);
    }

    #[test]
    fn a_panicking_part_panics_the_caller_after_all_parts_finish() {
        let _one = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        let finished = AtomicUsize::new(0);
        let r = catch_unwind(AssertUnwindSafe(|| {
            run(3, 3, &|p| {
                if p == 2 {
                    panic!("part 2 fails");
                }
                std::thread::sleep(Duration::from_millis(5));
                finished.fetch_add(1, Ordering::Relaxed);
            })
        }));
        assert!(r.is_err());
        assert_eq!(finished.load(Ordering::Relaxed), 2);
        // The helpers still work afterwards.
        let n = AtomicUsize::new(0);
        assert!(run(3, 3, &|_| {
            n.fetch_add(1, Ordering::Relaxed);
        }));
        assert_eq!(n.load(Ordering::Relaxed), 3);
    }
}
