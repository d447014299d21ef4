//! Run-time SIMD dispatch and the thread pool.
//!
//! The best level is detected once (pulp's `Arch::new()` logic, cached); `STRIDEWISE_SIMD`
//! (`scalar`, `avx2`, `avx512`) or [`set_simd_level`] can force a lower one, which is how the
//! tests run every level the machine has. Threads come from one rayon pool sized by
//! `STRIDEWISE_NUM_THREADS` or [`set_num_threads`] (default: the machine's cores).

use pulp::{Simd, WithSimd};
use std::cell::{Cell, RefCell};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, OnceLock, RwLock};

/// A SIMD instruction set the kernels can be compiled for. [`SimdLevel::ALL`] lists the ones
/// of the architecture the crate is built for; the others never run there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SimdLevel {
    /// No explicit vectors (still whatever the baseline target allows: SSE2 on x86-64,
    /// NEON on aarch64, which the compiler may use on its own).
    Scalar,
    /// x86-64-v3: AVX2 + FMA.
    Avx2,
    /// x86-64-v4: AVX-512 (F, BW, CD, DQ, VL).
    Avx512,
    /// aarch64: NEON (Advanced SIMD, with FMA) as pulp's `Neon` level.
    Neon,
}

impl SimdLevel {
    /// Every level the kernels are compiled for on this architecture, lowest first.
    #[cfg(target_arch = "x86_64")]
    pub const ALL: &'static [SimdLevel] = &[Self::Scalar, Self::Avx2, Self::Avx512];
    /// Every level the kernels are compiled for on this architecture, lowest first.
    #[cfg(target_arch = "aarch64")]
    pub const ALL: &'static [SimdLevel] = &[Self::Scalar, Self::Neon];
    /// Every level the kernels are compiled for on this architecture, lowest first.
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    pub const ALL: &'static [SimdLevel] = &[Self::Scalar];

    /// The name used by `STRIDEWISE_SIMD` and the Python package.
    pub fn name(self) -> &'static str {
        match self {
            Self::Scalar => "scalar",
            Self::Avx2 => "avx2",
            Self::Avx512 => "avx512",
            Self::Neon => "neon",
        }
    }

    /// Parse a name as accepted by `STRIDEWISE_SIMD`.
    pub fn from_name(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "scalar" | "none" => Some(Self::Scalar),
            "avx2" | "v3" => Some(Self::Avx2),
            "avx512" | "v4" => Some(Self::Avx512),
            "neon" => Some(Self::Neon),
            _ => None,
        }
    }

    fn from_u8(v: u8) -> Self {
        match v {
            2 => Self::Avx2,
            3 => Self::Avx512,
            4 => Self::Neon,
            _ => Self::Scalar,
        }
    }

    fn to_u8(self) -> u8 {
        match self {
            Self::Scalar => 1,
            Self::Avx2 => 2,
            Self::Avx512 => 3,
            Self::Neon => 4,
        }
    }

    /// Position in [`SimdLevel::ALL`], if this architecture has the level.
    fn rank(self) -> Option<usize> {
        Self::ALL.iter().position(|&l| l == self)
    }

    /// This level if the CPU has it, else the best it has (a level of another architecture
    /// is never run).
    fn clamped(self) -> SimdLevel {
        let best = best_simd_level();
        match (self.rank(), best.rank()) {
            (Some(r), Some(b)) if r <= b => self,
            _ => best,
        }
    }
}

/// The best level this CPU supports (detected once).
pub fn best_simd_level() -> SimdLevel {
    static BEST: OnceLock<SimdLevel> = OnceLock::new();
    *BEST.get_or_init(|| {
        #[cfg(target_arch = "x86_64")]
        {
            if pulp::x86::V4::try_new().is_some() {
                return SimdLevel::Avx512;
            }
            if pulp::x86::V3::try_new().is_some() {
                return SimdLevel::Avx2;
            }
        }
        #[cfg(target_arch = "aarch64")]
        {
            if pulp::aarch64::Neon::try_new().is_some() {
                return SimdLevel::Neon;
            }
        }
        SimdLevel::Scalar
    })
}

/// Every level this CPU can run, lowest first.
pub fn available_simd_levels() -> Vec<SimdLevel> {
    let best = best_simd_level().rank().unwrap_or(0);
    SimdLevel::ALL[..=best].to_vec()
}

/// 0: not yet read from the environment; otherwise `SimdLevel::to_u8`.
static LEVEL: AtomicU8 = AtomicU8::new(0);

thread_local! {
    static LEVEL_HERE: Cell<Option<SimdLevel>> = const { Cell::new(None) };
    static POOL_HERE: RefCell<Option<Arc<rayon::ThreadPool>>> = const { RefCell::new(None) };
}

/// Restores a thread-local override when dropped (also on panic).
struct Restore<F: FnMut()>(F);
impl<F: FnMut()> Drop for Restore<F> {
    fn drop(&mut self) {
        (self.0)()
    }
}

/// Run `f` with reductions called from this thread forced to `level` (clamped to the best
/// available), without touching other threads. Used by the tests to cover every level.
pub fn with_simd_level<R>(level: SimdLevel, f: impl FnOnce() -> R) -> R {
    let old = LEVEL_HERE.with(|c| c.replace(Some(level.clamped())));
    let _restore = Restore(move || LEVEL_HERE.with(|c| c.set(old)));
    f()
}

/// Run `f` with reductions called from this thread using a pool of `n` threads.
pub fn with_num_threads<R>(n: usize, f: impl FnOnce() -> R) -> R {
    let p = build_pool(n.max(1));
    let old = POOL_HERE.with(|c| c.replace(Some(p)));
    let mut old = Some(old);
    let _restore = Restore(move || {
        let o = old.take().flatten();
        POOL_HERE.with(|c| *c.borrow_mut() = o);
    });
    f()
}

/// The level reductions use now.
pub fn simd_level() -> SimdLevel {
    if let Some(l) = LEVEL_HERE.with(|c| c.get()) {
        return l;
    }
    match LEVEL.load(Ordering::Relaxed) {
        0 => {
            let level = std::env::var("STRIDEWISE_SIMD")
                .ok()
                .and_then(|s| SimdLevel::from_name(&s))
                .map_or(best_simd_level(), SimdLevel::clamped);
            LEVEL.store(level.to_u8(), Ordering::Relaxed);
            level
        }
        v => SimdLevel::from_u8(v),
    }
}

/// Force a SIMD level for all later calls (`None`: back to the best available). A level the
/// CPU lacks is clamped to the best it has; the level actually set is returned.
pub fn set_simd_level(level: Option<SimdLevel>) -> SimdLevel {
    let l = level.map_or(best_simd_level(), SimdLevel::clamped);
    LEVEL.store(l.to_u8(), Ordering::Relaxed);
    l
}

/// Run `op` compiled for `level` (which must not exceed [`best_simd_level`]; it is clamped).
#[inline(always)]
pub(crate) fn dispatch<Op: WithSimd>(level: SimdLevel, op: Op) -> Op::Output {
    // (Here, outside the SIMD code: a lazy test inside a kernel made its loops slower.)
    crate::walk::decide_streams();
    #[cfg(target_arch = "x86_64")]
    {
        match level {
            SimdLevel::Avx512 => {
                if let Some(simd) = pulp::x86::V4::try_new() {
                    return Simd::vectorize(simd, op);
                }
            }
            SimdLevel::Avx2 => {
                if let Some(simd) = pulp::x86::V3::try_new() {
                    return Simd::vectorize(simd, op);
                }
            }
            SimdLevel::Scalar | SimdLevel::Neon => {}
        }
    }
    #[cfg(target_arch = "aarch64")]
    {
        if level == SimdLevel::Neon {
            if let Some(simd) = pulp::aarch64::Neon::try_new() {
                return Simd::vectorize(simd, op);
            }
        }
    }
    let _ = level;
    Simd::vectorize(pulp::Scalar::new(), op)
}

/// Run `op` at the level of `simd`, the level the caller already runs at, as a function of
/// its own: one copy per level however many places call it, where an inlined operation would
/// be one copy per call site. Worth it for a large body reached from several places (the
/// line scans of argmin/argmax); the cost is two calls.
#[inline(never)]
pub(crate) fn outlined<S: Simd, Op: WithSimd>(simd: S, op: Op) -> Op::Output {
    simd.vectorize(op)
}

static POOL: RwLock<Option<Arc<rayon::ThreadPool>>> = RwLock::new(None);

/// The thread count reductions start with: `STRIDEWISE_NUM_THREADS` if set to a positive
/// number, else the CPUs this process may use.
pub fn default_num_threads() -> usize {
    std::env::var("STRIDEWISE_NUM_THREADS")
        .ok()
        .and_then(|s| s.trim().parse::<usize>().ok())
        .filter(|&n| n > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

fn build_pool(n: usize) -> Arc<rayon::ThreadPool> {
    Arc::new(
        rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .thread_name(|i| format!("stridewise-{i}"))
            .build()
            .expect("failed to start the stridewise thread pool"),
    )
}

/// The pool reductions run on.
pub(crate) fn pool() -> Arc<rayon::ThreadPool> {
    if let Some(p) = POOL_HERE.with(|c| c.borrow().clone()) {
        return p;
    }
    if let Some(p) = POOL.read().unwrap_or_else(|e| e.into_inner()).as_ref() {
        return Arc::clone(p);
    }
    let mut w = POOL.write().unwrap_or_else(|e| e.into_inner());
    Arc::clone(w.get_or_insert_with(|| build_pool(default_num_threads())))
}

/// Use `n` threads (at least 1) for later reductions. Calls already running keep their pool.
pub fn set_num_threads(n: usize) {
    let n = n.max(1);
    let mut w = POOL.write().unwrap_or_else(|e| e.into_inner());
    if w.as_ref().is_some_and(|p| p.current_num_threads() == n) {
        return;
    }
    *w = Some(build_pool(n));
}

/// Threads later reductions use.
pub fn get_num_threads() -> usize {
    pool().current_num_threads()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for l in [
            SimdLevel::Scalar,
            SimdLevel::Avx2,
            SimdLevel::Avx512,
            SimdLevel::Neon,
        ] {
            assert_eq!(SimdLevel::from_name(l.name()), Some(l));
            assert_eq!(SimdLevel::from_u8(l.to_u8()), l);
        }
        assert_eq!(SimdLevel::from_name("sse9"), None);
    }

    #[test]
    fn available_levels_end_with_the_best() {
        let l = available_simd_levels();
        assert_eq!(l[0], SimdLevel::Scalar);
        assert_eq!(*l.last().unwrap(), best_simd_level());
    }

    #[test]
    fn levels_clamp_to_what_this_cpu_has() {
        let best = best_simd_level();
        for &l in &available_simd_levels() {
            assert_eq!(l.clamped(), l);
        }
        // A level of another architecture, or one this CPU lacks, falls back to the best.
        for l in [SimdLevel::Avx2, SimdLevel::Avx512, SimdLevel::Neon] {
            if !available_simd_levels().contains(&l) {
                assert_eq!(l.clamped(), best, "{l:?}");
            }
        }
    }
}
