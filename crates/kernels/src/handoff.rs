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
//! its parts itself. Parts are contiguous ranges of work units and their results are put
//! together in unit order, so the result does not depend on who ran what.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, TryLockError};
use std::thread::Thread;
use std::time::{Duration, Instant};

/// Microseconds a helper spins for the next job before it parks, unless `STRIDEWISE_SPIN_US`
/// says otherwise.
pub const DEFAULT_SPIN_US: u64 = 100;

/// A job: the function every part runs, on the poster's stack.
type Job<'a> = &'a (dyn Fn(usize) + Sync);

/// One helper's mailbox.
struct Slot {
    /// The part of each job this helper runs.
    part: usize,
    /// Incremented by the poster for each job; the helper runs each value once.
    posted: AtomicUsize,
    /// Set to the value of `posted` whose job the helper has finished.
    done: AtomicUsize,
    /// Points to the poster's `Job` while `posted != done`.
    job: AtomicPtr<()>,
    /// The last job panicked.
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
    let mut seen = 0;
    loop {
        let start = Instant::now();
        let mut tries = 0u32;
        let seq = loop {
            let s = slot.posted.load(Ordering::Acquire);
            if s != seen {
                break s;
            }
            tries = tries.wrapping_add(1);
            if tries % 64 == 0 && start.elapsed() >= spin {
                // `unpark` before `park` makes `park` return at once: no lost wake-up.
                std::thread::park();
            } else {
                std::hint::spin_loop();
            }
        };
        seen = seq;
        let p = slot.job.load(Ordering::Acquire).cast::<Job<'_>>();
        // SAFETY: the poster stored a pointer to its `Job` before publishing `posted` (the
        // Acquire load above pairs with its Release) and keeps the job alive until it sees
        // `done == seq` (see `Posted::drop`), which is stored only after this call.
        let job: Job<'_> = unsafe { *p };
        let r = catch_unwind(AssertUnwindSafe(|| job(slot.part)));
        slot.panicked.store(r.is_err(), Ordering::Relaxed);
        slot.done.store(seq, Ordering::Release);
    }
}

/// Waits for the posted jobs when dropped, also when the caller's own part panics: the job
/// must outlive every helper's use of it.
struct Posted<'a> {
    helpers: &'a [Helper],
    seqs: Vec<usize>,
}

impl Drop for Posted<'_> {
    fn drop(&mut self) {
        for (Helper { slot, .. }, &seq) in self.helpers.iter().zip(&self.seqs) {
            let mut tries = 0u32;
            while slot.done.load(Ordering::Acquire) != seq {
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

/// Run `f(0)`, ..., `f(parts - 1)`, part 0 on this thread and the others on helpers, and
/// return when all have finished. Returns `false` without running anything when the helpers
/// are busy with another caller's job (then run the parts yourself). A panic in a part is
/// raised here once every part has finished.
pub(crate) fn run(parts: usize, f: &(dyn Fn(usize) + Sync)) -> bool {
    let mut helpers = match HELPERS.try_lock() {
        Ok(h) => h,
        // A part panicked while the lock was held; the helpers themselves are fine.
        Err(TryLockError::Poisoned(p)) => p.into_inner(),
        Err(TryLockError::WouldBlock) => return false,
    };
    while helpers.len() + 1 < parts {
        let slot = Arc::new(Slot {
            part: helpers.len() + 1,
            posted: AtomicUsize::new(0),
            done: AtomicUsize::new(0),
            job: AtomicPtr::new(std::ptr::null_mut()),
            panicked: AtomicBool::new(false),
        });
        let mine = Arc::clone(&slot);
        let spawned = std::thread::Builder::new()
            .name(format!("stridewise-helper-{}", slot.part))
            .spawn(move || helper_loop(mine));
        let Ok(handle) = spawned else {
            return false; // no more threads: the caller runs everything
        };
        let thread = handle.thread().clone();
        helpers.push(Helper { slot, thread });
    }
    let used = &helpers[..parts.saturating_sub(1)];
    let job: Job<'_> = f;
    let job_ptr = std::ptr::from_ref(&job).cast_mut().cast::<()>();
    let mut posted = Posted {
        helpers: used,
        seqs: Vec::with_capacity(used.len()),
    };
    for Helper { slot, thread } in used {
        slot.job.store(job_ptr, Ordering::Relaxed);
        let seq = slot.posted.fetch_add(1, Ordering::Release) + 1;
        posted.seqs.push(seq);
        thread.unpark();
    }
    f(0);
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
                let ran = run(parts, &|p| {
                    hits[p].fetch_add(p + 1, Ordering::Relaxed);
                });
                assert!(ran);
                let got: Vec<usize> = hits.iter().map(|h| h.load(Ordering::Relaxed)).collect();
                assert_eq!(got, (1..=parts).collect::<Vec<_>>());
            }
        }
    }

    #[test]
    fn a_panicking_part_panics_the_caller_after_all_parts_finish() {
        let _one = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        let finished = AtomicUsize::new(0);
        let r = catch_unwind(AssertUnwindSafe(|| {
            run(3, &|p| {
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
        assert!(run(3, &|_| {
            n.fetch_add(1, Ordering::Relaxed);
        }));
        assert_eq!(n.load(Ordering::Relaxed), 3);
    }
}
