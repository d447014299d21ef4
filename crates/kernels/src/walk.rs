//! Walking a normalised [`Layout`]: the pointer arithmetic over strides. Everything that
//! turns (base, offsets, strides) into element pointers or visits runs, rows and blocks of
//! them lives here, with its tests: the odometer over outer axes ([`for_each_row`]), the
//! work units of a layout ([`Split`]), the block loops the kernels run inside
//! ([`for_each_block`], [`for_each_in_row`]) and the only prefetching in the crate.

use crate::element::Element;
use crate::layout::{Axis, Layout};
use std::mem::MaybeUninit;
use std::sync::atomic::{AtomicU8, Ordering};

/// Visit the element offsets of rows `start..start + count` of the outer axes (outermost
/// first), in row-major order over those axes. The offsets are relative to the layout's base.
/// An empty `outer` has exactly one row at offset 0.
///
/// `f` is called from one place only: callers inline whole kernels into it, and every call
/// site would be one more copy of them at every SIMD level.
#[inline(always)]
pub fn for_each_row(outer: &[Axis], start: usize, count: usize, mut f: impl FnMut(isize)) {
    odometer(
        outer,
        start,
        count,
        #[inline(always)]
        |[off]| f(off),
    );
}

/// Call `f` with every element of `layout` (a normalised layout of reduced axes, say)
/// based at `base`, in the layout's order. Element by element: for the slow exact paths.
///
/// # Safety
/// Every `base + layout.offset + Σ i_k * stride_k` the layout reaches must be a valid,
/// initialised `T` for the duration of the call.
pub unsafe fn for_each_element<T: Copy>(base: *const T, layout: &Layout, mut f: impl FnMut(T)) {
    if layout.len == 0 {
        return;
    }
    let inner = layout.inner();
    for_each_row(layout.outer(), 0, layout.rows(), |o| {
        for i in 0..inner.len {
            // SAFETY: an element the layout reaches from `base` (our contract).
            f(unsafe { *base.offset(layout.offset + o + i as isize * inner.stride) });
        }
    });
}

/// Call `f` with rows `start..start + count` of a column reduction, in order, in groups of
/// up to `N`: for the offsets `o` of `reduced` (the reduced axes' layout, see
/// [`Layout::offsets_in`]), the elements `base + o + c` for `c` in `cols`, which are
/// consecutive, as f64 (f64 rows in place, others converted into `bufs`, each of at least
/// `cols.len()` elements). For the exact column sums (`ExactColumns`).
///
/// # Safety
/// For every offset `o` the layout reaches, the elements `base + o + c`, `c` in `cols`,
/// must be valid, initialised `T`s for the duration of the call.
pub unsafe fn for_each_row_group<T: Element, const N: usize>(
    base: *const T,
    reduced: &Layout,
    (start, count): (usize, usize),
    cols: std::ops::Range<usize>,
    bufs: &mut [Vec<f64>; N],
    mut f: impl FnMut(&[&[f64]]),
) {
    let width = cols.len();
    // Short rows (pieces far apart, where the hardware prefetcher does not ramp up) have
    // their lines hinted `ROWS_AHEAD` rows before they are read. Rows of 4 KiB or more are
    // left to the hardware: one thread, partials of an f64 axis-0 sum from memory, hinted
    // against not: (671, 10000) 3.5-3.6 against 3.1 ms, (20000, 600) 7.4-8.4 against 6.5,
    // (2000, 5000) 4.5-5.1 against 3.9-4.4; rows of 320 bytes need the hints ((200000, 40):
    // 4.5 against 7-10 ms), 1 KiB and 3.2 KiB measured the same either way. (Hinting 16 or
    // more rows ahead instead of 4 measured no better.)
    const ROWS_AHEAD: usize = 4;
    const HINTED_BYTES: usize = 4096;
    let hinted = width > 0 && width * std::mem::size_of::<T>() < HINTED_BYTES;
    // (Rows that are not hinted get no second walk of their offsets: an empty one.)
    let mut ahead = reduced.offsets_in(start, if hinted { count } else { 0 });
    let hint_next = |ahead: &mut Offsets<'_>| {
        if let Some(o) = ahead.next() {
            prefetch_run(base.wrapping_offset(o + cols.start as isize), width, 1);
        }
    };
    for _ in 0..ROWS_AHEAD {
        hint_next(&mut ahead);
    }
    let mut offsets = reduced.offsets_in(start, count);
    let mut firsts = [base; N];
    loop {
        let mut k = 0;
        while k < N {
            let Some(o) = offsets.next() else { break };
            hint_next(&mut ahead);
            firsts[k] = base.wrapping_offset(o + cols.start as isize);
            k += 1;
        }
        if k == 0 {
            break;
        }
        if T::ELEM == crate::ElemType::F64 {
            // SAFETY: each row's elements `cols`, consecutive, valid `T`s (our contract),
            // and `T` is f64 (`T::ELEM` says so).
            let rows: [&[f64]; N] = std::array::from_fn(|i| unsafe {
                std::slice::from_raw_parts(firsts[i.min(k - 1)].cast::<f64>(), width)
            });
            f(&rows[..k]);
        } else {
            for (first, buf) in firsts[..k].iter().zip(bufs.iter_mut()) {
                // SAFETY: the row's elements `cols`, consecutive, valid `T`s (our contract).
                let xs = unsafe { std::slice::from_raw_parts(*first, width) };
                widen(xs, &mut buf[..width]);
            }
            let rows: [&[f64]; N] = std::array::from_fn(|i| &bufs[i.min(k - 1)][..width]);
            f(&rows[..k]);
        }
    }
}

/// A slice of elements [`for_each_slice_f64`] gives: f64 values, or f32 ones read in place
/// (whose reader widens them as it goes).
#[derive(Clone, Copy, Debug)]
pub enum Floats<'a> {
    F64(&'a [f64]),
    F32(&'a [f32]),
}

impl Floats<'_> {
    /// The elements.
    pub fn len(&self) -> usize {
        match self {
            Floats::F64(xs) => xs.len(),
            Floats::F32(xs) => xs.len(),
        }
    }

    /// Whether there are none.
    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The first element's address.
    #[cfg(test)]
    pub fn as_ptr(&self) -> *const u8 {
        match self {
            Floats::F64(xs) => xs.as_ptr().cast(),
            Floats::F32(xs) => xs.as_ptr().cast(),
        }
    }
}

/// Call `f` with every element of work unit `u` of `split` (see [`Layout::split`]; or
/// [`Layout::whole`], every element) of `layout` based at `base`, in the layout's order, in
/// slices of at most `buf.len()` (> 0) elements: f64 and f32 runs at stride 1 of at least
/// a quarter of `buf` in place, every other run converted to f64 into `buf`, short runs
/// packed together. For the exact sums, whose block code wants long slices (and widens f32
/// a few vectors at a time: 1e7 f32 converted into `buf` first took 1.0 ms more, one thread,
/// Zen 4, the memory idle while the block was cut).
///
/// # Safety
/// As [`for_each_element`].
pub unsafe fn for_each_slice_f64<T: Element>(
    base: *const T,
    layout: &Layout,
    (split, u): (Split, usize),
    buf: &mut [f64],
    mut f: impl FnMut(Floats<'_>),
) {
    let cap = buf.len();
    assert!(cap > 0);
    if layout.len == 0 {
        return;
    }
    let stride = layout.inner().stride;
    let in_place = matches!(T::ELEM, crate::ElemType::F64 | crate::ElemType::F32) && stride == 1;
    let step = stride * std::mem::size_of::<T>() as isize;
    // Elements waiting in `buf`.
    let mut k = 0;
    layout.for_each_run_of_unit(split, u, |off, len| {
        let run = base.wrapping_offset(off);
        if in_place && len >= cap / 4 {
            if k > 0 {
                f(Floats::F64(&buf[..k]));
                k = 0;
            }
            if T::ELEM == crate::ElemType::F64 {
                // SAFETY: the run's `len` elements are consecutive (stride 1), valid and
                // initialised (our contract), and of type f64 (`T::ELEM` says so).
                let run = unsafe { std::slice::from_raw_parts(run.cast::<f64>(), len) };
                run.chunks(cap).for_each(|xs| f(Floats::F64(xs)));
            } else {
                // SAFETY: as above, of type f32 (`in_place` and `T::ELEM` say so).
                let run = unsafe { std::slice::from_raw_parts(run.cast::<f32>(), len) };
                run.chunks(cap).for_each(|xs| f(Floats::F32(xs)));
            }
            return;
        }
        let mut i = 0;
        while i < len {
            let take = (len - i).min(cap - k);
            let first = run.wrapping_offset(i as isize * stride);
            if stride == 1 {
                // A slice, converted in vectors ([`widen`]; the exact sum of 1e7 f32 that
                // cancel, one thread: 20.0 ms with the element-at-a-time gather, 14.8 ms
                // with a loop the compiler vectorised for SSE2 only).
                // SAFETY: elements i .. i + take of the run, consecutive, valid `T`s by our
                // contract.
                let xs = unsafe { std::slice::from_raw_parts(first, take) };
                widen(xs, &mut buf[k..k + take]);
            } else {
                // SAFETY: elements i .. i + take of the run, valid `T`s by our contract.
                unsafe { gather_f64::<T>(first.cast::<u8>(), step, &mut buf[k..k + take]) };
            }
            (i, k) = (i + take, k + take);
            if k == cap {
                f(Floats::F64(buf));
                k = 0;
            }
        }
    });
    if k > 0 {
        f(Floats::F64(&buf[..k]));
    }
}

/// An axis the odometer steps: its length and the stride of each of the `N` arrays walked
/// along it (a layout's [`Axis`] is one array's; a [`JointAxis`] several arrays').
trait Stepped<const N: usize>: Copy {
    fn length(&self) -> usize;
    fn steps(&self) -> [isize; N];
}

impl Stepped<1> for Axis {
    #[inline(always)]
    fn length(&self) -> usize {
        self.len
    }
    #[inline(always)]
    fn steps(&self) -> [isize; 1] {
        [self.stride]
    }
}

impl<const N: usize> Stepped<N> for JointAxis<N> {
    #[inline(always)]
    fn length(&self) -> usize {
        self.len
    }
    #[inline(always)]
    fn steps(&self) -> [isize; N] {
        self.strides
    }
}

/// The odometer of [`for_each_row`] and [`for_each_joint_row`]: rows `start..start + count`
/// of `outer`, row-major, with each array's offset of the row.
#[inline(always)]
fn odometer<const N: usize, A: Stepped<N>>(
    outer: &[A],
    start: usize,
    count: usize,
    mut f: impl FnMut([isize; N]),
) {
    // Started from `start` by one unravel. Few axes is the common case: zeroing a whole
    // MAX_ODOMETER array cost about 100 instructions per call (callgrind), a percent of a
    // 1000-element mean.
    let mut small = [0usize; 8];
    let mut large = Vec::new();
    let idx: &mut [usize] = if outer.len() <= small.len() {
        &mut small
    } else {
        large.resize(outer.len(), 0);
        &mut large
    };
    let mut rest = start;
    let mut off = [0isize; N];
    for (k, a) in outer.iter().enumerate().rev() {
        idx[k] = rest % a.length();
        rest /= a.length();
        for (o, s) in off.iter_mut().zip(a.steps()) {
            *o += idx[k] as isize * s;
        }
    }
    for _ in 0..count {
        f(off);
        for k in (0..outer.len()).rev() {
            let (len, steps) = (outer[k].length(), outer[k].steps());
            idx[k] += 1;
            for (o, s) in off.iter_mut().zip(steps) {
                *o += s;
            }
            if idx[k] < len {
                break;
            }
            for (o, s) in off.iter_mut().zip(steps) {
                *o -= s * len as isize;
            }
            idx[k] = 0;
        }
    }
}

/// The segments of [`for_each_segment`] and [`for_each_joint_segment`]: `f(each array's row
/// offset, first index in the row, count, flat position of that first element)`.
#[inline(always)]
fn segments<const N: usize, A: Stepped<N>>(
    outer: &[A],
    inner_len: usize,
    from: usize,
    to: usize,
    mut f: impl FnMut([isize; N], usize, usize, usize),
) {
    if from >= to || inner_len == 0 {
        return;
    }
    let (r0, r1) = (from / inner_len, (to - 1) / inner_len);
    let mut r = r0;
    odometer(
        outer,
        r0,
        r1 - r0 + 1,
        #[inline(always)]
        |off| {
            let row = r * inner_len;
            let a = from.max(row) - row;
            let b = to.min(row + inner_len) - row;
            f(off, a, b - a, row + a);
            r += 1;
        },
    );
}

/// Cut the run of `len` elements at `ptr` (element stride `stride`) into consecutive pieces
/// of `piece` elements (the last may be shorter) and call `f` with each piece's first element
/// and length, in order. (The counting kernel empties its narrow tallies between pieces.)
/// Pointers are only computed, never read; `piece == 0` is taken as 1.
#[inline(always)]
pub fn for_each_piece<T>(
    ptr: *const T,
    len: usize,
    stride: isize,
    piece: usize,
    mut f: impl FnMut(*const T, usize),
) {
    let piece = piece.max(1);
    let mut start = 0;
    while start < len {
        let n = piece.min(len - start);
        // Wrapping: an address inside the run (start < len), as the caller states.
        f(ptr.wrapping_offset(start as isize * stride), n);
        start += n;
    }
}

/// Feed a run of `len` elements at `ptr` with element stride `stride` to a kernel, `L` at a
/// time: `full` gets each complete block of `L` consecutive run elements, `tail` gets the last
/// `len % L` one by one with their position in the block. Both get `state` first. With a
/// `pad` (a value the kernel's `full` leaves every lane unchanged by), a contiguous run's last
/// `len % L` elements go to `full` as one block filled up with it instead: one vector step
/// where short rows spent up to `L - 1` scalar ones. Strides 1
/// and 2 (every other element: `a[::2]`, complex parts) are compiled as constants so the
/// compiler uses whole-vector loads and shuffles; other strides gather. Every arm is one more
/// copy of every kernel at every SIMD level, which is why there are not more of them.
///
/// # Safety
/// `ptr + i * stride` must be a valid, initialised `T` for every `i < len`.
#[inline(always)]
pub unsafe fn for_each_block<T: Copy, S, const L: usize>(
    state: &mut S,
    ptr: *const T,
    len: usize,
    stride: isize,
    pad: Option<T>,
    full: impl FnMut(&mut S, &[T; L]),
    tail: impl FnMut(&mut S, usize, T),
) {
    match stride {
        // SAFETY: stride 1, so the run is `len` consecutive valid elements (our contract).
        1 => unsafe { blocks_contiguous(state, ptr, len, pad, full, tail) },
        // SAFETY: the same run, stride passed through unchanged (our contract).
        2 => unsafe { blocks_strided::<T, S, L, 2>(state, ptr, len, 2, full, tail) },
        // SAFETY: the same run, stride passed through unchanged (our contract).
        s => unsafe { blocks_strided::<T, S, L, 0>(state, ptr, len, s, full, tail) },
    }
}

/// Concurrent read streams in a long contiguous run: [`blocks_contiguous`] (and the kernels'
/// own contiguous loops, which must add blocks in the same order) take the run's first
/// `STREAMS * q` blocks of `L` as `STREAMS` quarters read side by side, block `i` of each
/// quarter in turn, then the rest in order. On one core of a Zen 3 a plain AVX2 max over
/// 800 MB of f64 read 11.9 GB/s (median of 12) and the same loop over 4 quarters 15.3: one
/// stream stalls at each 4 KiB page while the hardware prefetcher starts again; with four,
/// the others go on. Blocks of a few hundred bytes per stream, not kilobytes (4 streams of
/// 2 KiB pieces gained nothing), and long streams (a kernel that reads 32 KiB blocks in 4
/// streams of 8 KiB lost 16%).
pub const STREAMS: usize = 4;

/// The shortest stream worth reading side by side, in bytes (see [`STREAMS`]). In a C probe
/// over 800 MB cut into runs, runs of 64-80 KiB read as 4 streams gained 15-18% on one Zen 3
/// core and runs of 32 KiB about 8%; sums of 10000x10000 f64 rows (80 KB each, 4 streams
/// of 20 KB) took 1.14-1.19x less time. Shorter streams are left in order: a kernel whose
/// 32 KiB blocks were read as 4 streams of 8 KiB lost 16%.
pub const STREAM_MIN_BYTES: usize = 16 << 10;

/// How many blocks of `L` elements each of the [`STREAMS`] streams of a contiguous run of
/// `len` `T`s gets: 0 when the streams would be shorter than [`STREAM_MIN_BYTES`] (the run
/// is then read in order). Depends on `len` only, so every SIMD level cuts a run the same
/// way.
#[inline(always)]
pub fn stream_blocks<T, const L: usize>(len: usize) -> usize {
    let q = len / L / STREAMS;
    if q * L * std::mem::size_of::<T>() >= STREAM_MIN_BYTES && streams_on() {
        q
    } else {
        0
    }
}

/// Whether long runs are read as streams on this machine (see [`STREAMS`]): 0 not decided
/// yet, 1 yes, 2 no (in order only).
static STREAMS_ON: AtomicU8 = AtomicU8::new(0);

/// Whether [`stream_blocks`] cuts runs into streams: decided once per process by
/// [`decide_streams`], which every SIMD dispatch calls first (yes until then).
#[inline(always)]
pub(crate) fn streams_on() -> bool {
    STREAMS_ON.load(Ordering::Relaxed) != 2
}

/// Whether this process reads long contiguous runs as `STREAMS` streams side by side (else
/// in order): the CPU's choice or `STRIDEWISE_STREAMS` (see `decide_streams`). Only the
/// speed and a float `prod`'s last bits depend on it.
pub fn reads_streams() -> bool {
    decide_streams();
    streams_on()
}

/// Decides [`streams_on`] once: `STRIDEWISE_STREAMS=1` or `0` if set, else streams only
/// where the CPU has no AVX-512. The streams were measured on a Zen 3 (AVX2 only), where a
/// single stream stalled at every page (see [`STREAMS`]). On a Zen 4 with AVX-512 one
/// thread read faster in order, at either SIMD level (numpy / stridewise from memory, same
/// runs, AVX-512, streams -> in order: argmax of 1e7 f64 0.76x -> 0.95x, min 0.94x -> 1.00x,
/// f32 sum 1.04x -> 1.18x, mean over axis 1 of 2000x10000 f64 (rows of 80 KB) 0.70x ->
/// 1.02x; the read probe 23-26 GB/s as streams, 27-29 in order), and so did numpy's own
/// single-stream loops on an AVX-512 Xeon (issue 12). By the machine, not by the level in
/// use: forcing AVX2 keeps the machine's order, and the order depends on nothing else.
/// Float sums and the other order-free results are the same either way; a float `prod`
/// (the one result that depends on the order) is the same on one machine, as before.
#[inline(always)]
pub(crate) fn decide_streams() {
    if STREAMS_ON.load(Ordering::Relaxed) == 0 {
        decide_streams_now();
    }
}

#[cold]
#[inline(never)]
fn decide_streams_now() {
    let on = match std::env::var("STRIDEWISE_STREAMS").as_deref() {
        Ok("0") => false,
        Ok("1") => true,
        _ => crate::simd::best_simd_level() != crate::simd::SimdLevel::Avx512,
    };
    STREAMS_ON.store(if on { 1 } else { 2 }, Ordering::Relaxed);
}

/// # Safety
/// `ptr..ptr + len` must be valid, initialised `T`s.
#[inline(always)]
unsafe fn blocks_contiguous<T: Copy, S, const L: usize>(
    state: &mut S,
    ptr: *const T,
    len: usize,
    pad: Option<T>,
    mut full: impl FnMut(&mut S, &[T; L]),
    mut tail: impl FnMut(&mut S, usize, T),
) {
    if len == 0 {
        return;
    }
    // SAFETY: the caller guarantees `len` valid elements from `ptr`.
    let data = unsafe { std::slice::from_raw_parts(ptr, len) };
    // The first STREAMS * q blocks as STREAMS streams side by side (see `STREAMS`).
    let q = stream_blocks::<T, L>(len);
    let mut p = ptr;
    for _ in 0..q {
        for s in 0..STREAMS {
            // SAFETY: at the loop's i-th step `p` is element i * L of the run, so this is
            // block s * q + i, inside the run (s * q + i < STREAMS * q <= len / L); it is
            // `L` valid `T`s (our contract), and `[T; L]` has `T`'s alignment.
            let block: &[T; L] = unsafe { &*p.add(s * q * L).cast::<[T; L]>() };
            full(state, block);
        }
        p = p.wrapping_add(L);
    }
    let mut chunks = data[STREAMS * q * L..].chunks_exact(L);
    for c in chunks.by_ref() {
        let block: &[T; L] = c.try_into().expect("chunks_exact yields L elements");
        full(state, block);
    }
    let rest = chunks.remainder();
    match pad {
        // (A second call site of `full`: one loop for both kinds of block, choosing the
        // block's address each time, read 1e5 f64 at half the speed.)
        Some(pad) if !rest.is_empty() => {
            let mut last = [pad; L];
            last[..rest.len()].copy_from_slice(rest);
            full(state, &last);
        }
        _ => {
            for (j, &x) in rest.iter().enumerate() {
                tail(state, j, x);
            }
        }
    }
}

/// `C` is the stride as a compile-time constant, or 0 to use the run-time `stride`.
///
/// # Safety
/// `ptr + i * stride` must be a valid, initialised `T` for every `i < len`.
#[inline(always)]
unsafe fn blocks_strided<T: Copy, S, const L: usize, const C: isize>(
    state: &mut S,
    ptr: *const T,
    len: usize,
    stride: isize,
    mut full: impl FnMut(&mut S, &[T; L]),
    mut tail: impl FnMut(&mut S, usize, T),
) {
    let stride = if C != 0 { C } else { stride };
    let nblocks = len / L;
    let pf = Prefetch::plan::<T>(stride, L);
    let mut p = ptr;
    for _ in 0..nblocks {
        pf.block_ahead(p, stride);
        // SAFETY: block element j is run element (b * L + j) < len.
        let block: [T; L] = std::array::from_fn(
            #[inline(always)]
            |j| unsafe { *p.offset(j as isize * stride) },
        );
        full(state, &block);
        p = p.wrapping_offset(L as isize * stride);
    }
    for j in 0..len % L {
        // SAFETY: run element nblocks * L + j < len.
        tail(state, j, unsafe { *p.offset(j as isize * stride) });
    }
}

/// Bytes ahead of the current block that strided runs prefetch. Masked loads and gathers do
/// not train this machine's hardware prefetcher (AMD Zen 5): an AVX-512 sum of `x[::2]` from
/// memory ran at 2.8 ns per element against 1.0 at AVX2, and a C test of the same loads read
/// 20 M stride-2 f64 in 14.3 ms without and 8.4 ms with prefetches 16 KiB ahead (a contiguous
/// read of the same bytes: 8.7 ms); gathers at stride 3 went from 41 ms to 8.5 ms.
const PREFETCH_AHEAD: usize = 16 << 10;

/// Software prefetch for a strided run: which addresses of the block `blocks` blocks ahead to
/// touch, one per cache line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Prefetch {
    /// Blocks ahead (in run elements: `blocks * L`).
    ahead: isize,
    /// Prefetch every `step`-th element of that block (`step * |stride| * size <= 64`, so no
    /// cache line of the block is skipped; one element per line when elements are further
    /// apart than a line).
    step: usize,
    /// Elements per block.
    l: usize,
}

impl Prefetch {
    fn plan<T>(stride: isize, l: usize) -> Self {
        let gap = stride.unsigned_abs().max(1) * std::mem::size_of::<T>().max(1);
        let block_bytes = gap * l;
        Prefetch {
            ahead: (PREFETCH_AHEAD.div_ceil(block_bytes).max(1) * l) as isize,
            step: (64 / gap).max(1),
            l,
        }
    }

    /// Hint the cache lines of the block that starts `ahead` elements after `p`. Addresses
    /// past the run are harmless: a prefetch never faults and is not a memory access.
    #[inline(always)]
    fn block_ahead<T>(&self, p: *const T, stride: isize) {
        let mut j = 0;
        while j < self.l {
            hint(p.wrapping_offset((self.ahead + j as isize) * stride));
            j += self.step;
        }
    }
}

/// Hint the cache line holding `p` into the cache (nothing where there is no prefetch
/// instruction). Any address is fine: a prefetch never faults and is not a memory access.
#[inline(always)]
pub fn hint<T>(p: *const T) {
    // SAFETY: `_mm_prefetch` only hints the cache: it never faults, whatever the address,
    // and reads nothing the program observes; SSE is in the x86_64 baseline, so the
    // instruction always exists.
    #[cfg(target_arch = "x86_64")]
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(p.cast::<i8>())
    };
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

/// Bytes ahead of the current block that the AVX2 compensated f64 sum prefetches in a
/// contiguous run (see `kernels::sum`): a kilobyte measured best in a C copy of its loop.
pub const CONTIGUOUS_AHEAD: usize = 1 << 10;

/// Hint the cache lines of the `bytes` bytes that start `ahead` bytes after `ptr` (one
/// prefetch per 64 bytes). Addresses past the data are harmless, as in [`Prefetch`].
#[inline(always)]
pub fn prefetch_bytes<T>(ptr: *const T, ahead: usize, bytes: usize) {
    let base = ptr.cast::<u8>().wrapping_add(ahead);
    for b in (0..bytes).step_by(64) {
        hint(base.wrapping_add(b));
    }
}

/// Hint every cache line of the run `ptr + j * stride`, `j < len`, into the cache (one
/// prefetch per line, or per element when elements are further apart than a line). The vertical
/// path calls it on the next row: its rows are short pieces, where the hardware prefetcher does
/// not ramp up (a C test of a 4000x4000 TwoSum axis-0 sum: 9.3 ms without, 6.6 ms with).
#[inline(always)]
pub fn prefetch_run<T>(ptr: *const T, len: usize, stride: isize) {
    let pf = Prefetch::plan::<T>(stride, len);
    Prefetch { ahead: 0, ..pf }.block_ahead(ptr, stride);
}

/// Call `f(j, x_j)` for each element `x_j = ptr[j * stride]`, `j < len`, of one row. Stride 1
/// iterates a slice so the compiler can vectorise across `j`.
///
/// # Safety
/// `ptr + j * stride` must be a valid, initialised `T` for every `j < len`.
#[inline(always)]
pub unsafe fn for_each_in_row<T: Copy>(
    ptr: *const T,
    len: usize,
    stride: isize,
    mut f: impl FnMut(usize, T),
) {
    if stride == 1 {
        if len == 0 {
            return;
        }
        // SAFETY: the caller guarantees `len` valid elements from `ptr`.
        let row = unsafe { std::slice::from_raw_parts(ptr, len) };
        for (j, &x) in row.iter().enumerate() {
            f(j, x);
        }
    } else {
        for j in 0..len {
            // SAFETY: j < len, covered by the caller's contract.
            f(j, unsafe { *ptr.offset(j as isize * stride) });
        }
    }
}

/// How a layout is cut into work units of about `unit` elements: long rows into pieces,
/// short rows into groups of whole rows. Depends only on the layout, never on threads or
/// addresses, so that partial results are combined the same way every time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Split {
    /// Each row is cut into `per_row` pieces of `unit` elements (the last may be shorter).
    Pieces {
        /// Pieces per row.
        per_row: usize,
        /// Elements per piece.
        unit: usize,
    },
    /// Each unit holds `per_unit` consecutive rows (the last may hold fewer).
    Rows {
        /// Rows per unit.
        per_unit: usize,
    },
}

impl Layout {
    /// Cut this layout into units of about `unit` elements; returns the split and the count.
    pub fn split(&self, unit: usize) -> (Split, usize) {
        let n = self.inner().len;
        let rows = self.rows();
        if self.len == 0 {
            return (Split::Rows { per_unit: 1 }, 0);
        }
        if n >= unit {
            let per_row = n.div_ceil(unit);
            (Split::Pieces { per_row, unit }, rows * per_row)
        } else {
            let per_unit = (unit / n).max(1);
            (Split::Rows { per_unit }, rows.div_ceil(per_unit))
        }
    }

    /// The whole layout as one work unit, unit 0 (for [`Layout::for_each_run_of_unit`]).
    pub fn whole(&self) -> (Split, usize) {
        (
            Split::Rows {
                per_unit: self.rows().max(1),
            },
            0,
        )
    }

    /// Visit the runs of work unit `u` of `split` as (offset from the view's base, length);
    /// every run has the inner stride. `f` is called from one place (see `for_each_row`).
    #[inline(always)]
    pub fn for_each_run_of_unit(&self, split: Split, u: usize, mut f: impl FnMut(isize, usize)) {
        let inner = self.inner();
        // (first row, rows, first element in the row, run length)
        let (r0, count, start, len) = match split {
            Split::Pieces { per_row, unit } => {
                let (row, piece) = (u / per_row, u % per_row);
                let start = piece * unit;
                (row, 1, start, unit.min(inner.len - start))
            }
            Split::Rows { per_unit } => {
                let r0 = u * per_unit;
                (r0, per_unit.min(self.rows() - r0), 0, inner.len)
            }
        };
        let first = self.offset + start as isize * inner.stride;
        for_each_row(
            self.outer(),
            r0,
            count,
            #[inline(always)]
            |o| f(first + o, len),
        );
    }

    /// The offsets (from the view's base) of elements `start..start + count` in row-major
    /// order over the layout's axes, outermost first (clamped to the layout's length).
    pub fn offsets_in(&self, start: usize, count: usize) -> Offsets<'_> {
        let end = self.len.min(start.saturating_add(count));
        let left = end.saturating_sub(start);
        let mut idx = [0usize; MAX_ODOMETER];
        let mut off = self.offset;
        if left > 0 {
            let mut rest = start;
            for (k, a) in self.axes.iter().enumerate().rev() {
                idx[k] = rest % a.len;
                rest /= a.len;
                off += idx[k] as isize * a.stride;
            }
        }
        Offsets {
            axes: &self.axes,
            idx,
            off,
            left,
        }
    }
}

/// The element offsets of [`Layout::offsets_in`]: an odometer over the layout's axes.
#[derive(Debug, Clone)]
pub struct Offsets<'a> {
    axes: &'a [Axis],
    idx: [usize; MAX_ODOMETER],
    off: isize,
    left: usize,
}

impl Offsets<'_> {
    /// Write the next offsets into `out`, as many as fit and remain; returns how many.
    pub fn fill(&mut self, out: &mut [isize]) -> usize {
        let mut n = 0;
        while n < out.len() {
            let Some(o) = self.next() else { break };
            out[n] = o;
            n += 1;
        }
        n
    }
}

impl Iterator for Offsets<'_> {
    type Item = isize;

    fn next(&mut self) -> Option<isize> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let o = self.off;
        for k in (0..self.axes.len()).rev() {
            let a = self.axes[k];
            self.idx[k] += 1;
            self.off += a.stride;
            if self.idx[k] < a.len {
                break;
            }
            self.off -= a.stride * a.len as isize;
            self.idx[k] = 0;
        }
        Some(o)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl ExactSizeIterator for Offsets<'_> {}

/// Offsets of the rows of `axes` (logical order, any strides), row-major: the input offsets
/// of the outputs of an axis reduction when `axes` are the kept axes.
pub fn row_offsets(axes: &[Axis]) -> Vec<isize> {
    // Length-1 axes add nothing; dropping them keeps the odometer within MAX_ODOMETER axes
    // (a view of more than 63 axes longer than 1 would have over 2^63 elements).
    let axes: Vec<Axis> = axes.iter().copied().filter(|a| a.len != 1).collect();
    if let [a] = axes[..] {
        // (One axis, the rows of a matrix: a loop the compiler vectorises, not a push per
        // row through the odometer.)
        return (0..a.len as isize).map(|i| i * a.stride).collect();
    }
    let rows: usize = axes.iter().map(|a| a.len).product();
    let mut v = Vec::with_capacity(rows);
    for_each_row(&axes, 0, rows, |o| v.push(o));
    v
}

/// Visit the logical flat positions `from..to` of rows of `inner_len` elements, the rows'
/// offsets given by `outer`'s odometer (row-major): `f(row offset, first index in the row,
/// count, flat position of that first element)`, in order. The caller adds
/// `index * inner stride` to the row offset. Nothing is visited when `from >= to`.
#[inline(always)]
pub fn for_each_segment(
    outer: &[Axis],
    inner_len: usize,
    from: usize,
    to: usize,
    mut f: impl FnMut(isize, usize, usize, usize),
) {
    segments(
        outer,
        inner_len,
        from,
        to,
        #[inline(always)]
        |[off], a, n, pos| f(off, a, n, pos),
    );
}

/// Copy elements `i0 .. i0 + out.len()` of the run `ptr + i * stride` into `out`, in order
/// (any stride: negative, zero, or larger than a row).
///
/// # Safety
/// `ptr + i * stride` must be a valid, initialised `T` for each of those `i`.
#[inline(always)]
pub unsafe fn gather<T: Copy>(ptr: *const T, stride: isize, i0: usize, out: &mut [T]) {
    let p = ptr.wrapping_offset(i0 as isize * stride);
    let n = out.len();
    // SAFETY: `MaybeUninit<T>` has `T`'s layout, and only initialised `T`s are written
    // through this view.
    let out = unsafe { std::slice::from_raw_parts_mut(out.as_mut_ptr().cast(), n) };
    // SAFETY: forwarded from our contract.
    unsafe { gather_uninit(p, stride, out) };
}

/// Copy the run `ptr + i * stride`, `i < out.len()`, into `out` in order and return it as
/// initialised, without the prefetch hints of [`gather_ahead`] (for runs whose lines the
/// caller reads anyway: the rows of outputs a few elements apart of short rows, where the
/// hints were a third of the time).
///
/// # Safety
/// `ptr + i * stride` must be a valid, initialised `T` for each `i < out.len()`.
#[inline(always)]
pub unsafe fn gather_near<T: Copy>(
    ptr: *const T,
    stride: isize,
    out: &mut [MaybeUninit<T>],
) -> &[T] {
    let n = out.len();
    // SAFETY: forwarded from our contract.
    unsafe { gather_uninit(ptr, stride, out) };
    // SAFETY: `gather_uninit` wrote all `n` elements; `MaybeUninit<T>` has `T`'s layout.
    unsafe { std::slice::from_raw_parts(out.as_ptr().cast::<T>(), n) }
}

/// Copy the run `ptr + i * stride`, `i < out.len()`, into `out` in order and return it as
/// initialised, hinting the cache lines of the run [`PREFETCH_AHEAD`] bytes further on
/// (except at stride 2; a strided run read in pieces: the kernels then add the piece with
/// their contiguous loops).
///
/// # Safety
/// `ptr + i * stride` must be a valid, initialised `T` for each `i < out.len()`.
#[inline(always)]
pub unsafe fn gather_ahead<T: Copy>(
    ptr: *const T,
    stride: isize,
    out: &mut [MaybeUninit<T>],
) -> &[T] {
    let n = out.len();
    // Stride 2 is copied with whole-vector loads (see `gather_uninit`), which the hardware
    // prefetcher follows as it does contiguous reads: software prefetches only cost there
    // (their plan's division and a prefetch per line: a tenth of a short strided row).
    // Stride -1 keeps them (1000 reversed rows of 1000 f64 summed in 1.16 ms without and
    // 1.11 with, Zen 3, one thread: within this machine's noise). Prefetching stride 2 as
    // well was tried again on Zen 3: in-cache 316x316 `[:, ::2]` means lost 20-30%.
    if n > 0 && stride != 2 {
        Prefetch::plan::<T>(stride, n).block_ahead(ptr, stride);
    }
    // SAFETY: forwarded from our contract.
    unsafe { gather_uninit(ptr, stride, out) };
    // SAFETY: every element of `out` was written just above; `MaybeUninit<T>` has `T`'s
    // layout.
    unsafe { std::slice::from_raw_parts(out.as_ptr().cast::<T>(), n) }
}

/// Write the run `ptr + i * stride`, `i < out.len()`, into `out` in order. Strides 2 and -1
/// are compiled as constants: the compiler then copies every other element with whole-vector
/// loads and shuffles, where element by element the copy was a third of a strided f64
/// axis-0 sum.
///
/// # Safety
/// `ptr + i * stride` must be a valid, initialised `T` for each `i < out.len()`.
#[inline(always)]
unsafe fn gather_uninit<T: Copy>(ptr: *const T, stride: isize, out: &mut [MaybeUninit<T>]) {
    // SAFETY: forwarded from our contract, with the same stride.
    unsafe {
        match stride {
            2 => gather_by::<T, 2>(ptr, 2, out),
            // Reversed rows: whole vectors read backwards and reversed in registers, where
            // element by element `a[:, ::-1].mean(axis=1)` of 1000x1000 f64 ran at 0.75x
            // numpy on one thread.
            -1 => gather_by::<T, -1>(ptr, -1, out),
            s => gather_by::<T, 0>(ptr, s, out),
        }
    }
}

/// [`gather_uninit`] with the stride `C` as a compile-time constant, or 0 for `stride`.
///
/// # Safety
/// As [`gather_uninit`].
#[inline(always)]
unsafe fn gather_by<T: Copy, const C: isize>(
    ptr: *const T,
    stride: isize,
    out: &mut [MaybeUninit<T>],
) {
    let stride = if C != 0 { C } else { stride };
    for (i, o) in out.iter_mut().enumerate() {
        // SAFETY: element i of the run, valid by our contract.
        o.write(unsafe { *ptr.wrapping_offset(i as isize * stride) });
    }
}

/// One axis walked by `N` arrays at once (the weighted average reads the data and its
/// weights, and writes outputs, over the same indices): its length and each array's stride
/// in **bytes** (the arrays may have different element types).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JointAxis<const N: usize> {
    /// Length.
    pub len: usize,
    /// Byte stride of each array along this axis (any sign, zero for a broadcast axis).
    pub strides: [isize; N],
}

/// [`for_each_row`] for `N` arrays at once: visit rows `start..start + count` of `outer`
/// (outermost first, row-major) with each array's byte offset of the row. An empty `outer`
/// has exactly one row at offsets 0.
#[inline(always)]
pub fn for_each_joint_row<const N: usize>(
    outer: &[JointAxis<N>],
    start: usize,
    count: usize,
    f: impl FnMut([isize; N]),
) {
    odometer(outer, start, count, f);
}

/// [`for_each_segment`] for `N` arrays at once: the flat positions `from..to` of rows of
/// `inner_len` elements, the rows given by `outer`'s joint odometer, as `f(each array's row
/// offset, first index in the row, count)`, in order. Nothing is visited when `from >= to`.
#[inline(always)]
pub fn for_each_joint_segment<const N: usize>(
    outer: &[JointAxis<N>],
    inner_len: usize,
    from: usize,
    to: usize,
    mut f: impl FnMut([isize; N], usize, usize),
) {
    segments(
        outer,
        inner_len,
        from,
        to,
        #[inline(always)]
        |off, a, n, _| f(off, a, n),
    );
}

/// Read `out.len()` elements of type `T` from the run at byte address `ptr` with byte stride
/// `stride`, converted to f64 (bool bytes: nonzero is 1), into `out`, in order.
///
/// # Safety
/// `ptr + i * stride` must be a valid, initialised, aligned `T` for each `i < out.len()`.
#[inline(always)]
pub unsafe fn gather_f64<T: Element>(ptr: *const u8, stride: isize, out: &mut [f64]) {
    let mut p = ptr;
    for o in out.iter_mut() {
        // SAFETY: element i of the run, valid, initialised and aligned by our contract.
        *o = unsafe { *p.cast::<T>() }.to_f64();
        p = p.wrapping_offset(stride);
    }
}

/// `out[i] = xs[i]` as f64 (`out` as long as `xs`), in the vectors of the current SIMD level:
/// the same loop outside a level's code is compiled for SSE2, two elements an instruction.
pub fn widen<T: Element>(xs: &[T], out: &mut [f64]) {
    struct Widen<'a, T> {
        xs: &'a [T],
        out: &'a mut [f64],
    }
    impl<T: Element> pulp::WithSimd for Widen<'_, T> {
        type Output = ();
        #[inline(always)]
        fn with_simd<S: pulp::Simd>(self, _: S) {
            for (o, x) in self.out.iter_mut().zip(self.xs) {
                *o = x.to_f64();
            }
        }
    }
    assert_eq!(xs.len(), out.len());
    crate::simd::dispatch(crate::simd::simd_level(), Widen { xs, out });
}

/// Converts a run of some element type to f64: one of the [`gather_f64`] instances, chosen
/// by the element type at run time (so the code that calls it is compiled once).
pub type ReadF64 = unsafe fn(*const u8, isize, &mut [f64]);

/// Elements `i0 .. i0 + len` (`len <= buf.len()`) of the run at byte offset `off` from
/// `base`, byte stride `stride`, as f64: the memory itself when the run is contiguous f64
/// (`in_place`, stride 8), else converted by `read` into `buf`.
///
/// # Safety
/// Each of those elements must be a valid, aligned, initialised element of the type `read`
/// converts (f64 when `in_place`), and stay unchanged while the returned slice lives.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub unsafe fn run_f64(
    base: *const u8,
    off: isize,
    i0: usize,
    len: usize,
    stride: isize,
    in_place: bool,
    read: ReadF64,
    buf: &mut [f64],
) -> &[f64] {
    let first = base.wrapping_offset(off + i0 as isize * stride);
    if in_place && stride == 8 {
        // SAFETY: `len` consecutive f64 from `first`, valid and unchanged by our contract;
        // the caller's borrow of `buf` bounds the slice's lifetime no longer than its own.
        unsafe { std::slice::from_raw_parts(first.cast::<f64>(), len) }
    } else if stride == 0 && len > 0 {
        // A broadcast run: one element, repeated.
        // SAFETY: forwarded from our contract (the run's one element).
        unsafe { read(first, 0, &mut buf[..1]) };
        let x = buf[0];
        buf[..len].fill(x);
        &buf[..len]
    } else {
        // SAFETY: forwarded from our contract.
        unsafe { read(first, stride, &mut buf[..len]) };
        &buf[..len]
    }
}

/// A raw base pointer that may be shared with the worker threads of one reduction.
#[derive(Clone, Copy)]
pub(crate) struct SharedPtr<T>(pub *const T);

// SAFETY: it is only created from a `StridedView<T>` (T: Sync), whose contract makes the
// elements shared, read-only data for the view's lifetime; the reduction that holds it
// finishes before that lifetime ends.
unsafe impl<T: Sync> Send for SharedPtr<T> {}
// SAFETY: as above.
unsafe impl<T: Sync> Sync for SharedPtr<T> {}

impl<T> SharedPtr<T> {
    /// The element pointer at `off` elements from the base (not dereferenced here).
    #[inline(always)]
    pub fn at(self, off: isize) -> *const T {
        self.0.wrapping_offset(off)
    }
}

/// A raw pointer to partials that the units of one reduction write, each its own elements.
pub(crate) struct SharedOut<P>(pub *mut P);

impl<P> Clone for SharedOut<P> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<P> Copy for SharedOut<P> {}

// SAFETY: the driver that makes one hands each unit a set of elements no other unit writes
// or reads while the units run, and keeps the buffer alive until they have all returned:
// sending the pointer to a worker thread shares no element between threads.
unsafe impl<P: Send> Send for SharedOut<P> {}
// SAFETY: as above; `&SharedOut` gives nothing but a copy of the pointer.
unsafe impl<P: Send> Sync for SharedOut<P> {}

impl<P> SharedOut<P> {
    /// The pointer `i` elements further, or back where `i` is negative (not dereferenced
    /// here).
    #[inline(always)]
    pub fn at(self, i: isize) -> Self {
        SharedOut(self.0.wrapping_offset(i))
    }

    /// Write `v` at `i` elements from the pointer, back where `i` is negative (the old value
    /// is not dropped: partials are `Copy`).
    ///
    /// # Safety
    /// `self.0 + i` must be valid for writes, inside one allocation, and no other thread may
    /// access that element during the call.
    #[inline(always)]
    pub unsafe fn write(self, i: isize, v: P) {
        // SAFETY: our contract.
        unsafe { self.0.offset(i).write(v) }
    }
}

/// Most axes a view may have (numpy allows 64).
pub const MAX_ODOMETER: usize = 64;

#[cfg(test)]
mod tests {
    /// Segments of every range of flat positions, over rows of any strides, visit exactly
    /// those positions in order, each at its element's offset; gather copies a run at any
    /// stride (negative and zero included) in order.
    /// The joint odometer visits the same rows as one odometer per array, from any start, in
    /// row-major order, and its offsets are each array's own.
    #[test]
    fn joint_rows_are_each_arrays_rows() {
        let joint = [
            JointAxis {
                len: 3,
                strides: [-40, 24, 0],
            },
            JointAxis {
                len: 4,
                strides: [8, -8, 16],
            },
            JointAxis {
                len: 2,
                strides: [100, 0, 1],
            },
        ];
        let rows = 3 * 4 * 2;
        for start in 0..=rows {
            for count in 0..=rows - start {
                let mut got = Vec::new();
                for_each_joint_row(&joint, start, count, |o| got.push(o));
                let mut want = Vec::new();
                for j in 0..3 {
                    let axes: Vec<Axis> = joint
                        .iter()
                        .map(|a| Axis {
                            len: a.len,
                            stride: a.strides[j],
                        })
                        .collect();
                    let mut one = Vec::new();
                    for_each_row(&axes, start, count, |o| one.push(o));
                    want.push(one);
                }
                assert_eq!(got.len(), count);
                for (r, o) in got.iter().enumerate() {
                    assert_eq!(*o, [want[0][r], want[1][r], want[2][r]], "{start} {count}");
                }
            }
        }
        let mut none = Vec::new();
        for_each_joint_row::<2>(&[], 0, 1, |o| none.push(o));
        assert_eq!(none, vec![[0, 0]]);
    }

    /// Joint segments of every range visit exactly its positions, in order, at each array's
    /// offsets.
    #[test]
    fn joint_segments_cover_ranges_in_order() {
        let outer = [
            JointAxis {
                len: 3,
                strides: [-40, 8],
            },
            JointAxis {
                len: 2,
                strides: [7, 0],
            },
        ];
        let inner_len = 5usize;
        let n = 3 * 2 * inner_len;
        let row_of = |pos: usize| {
            let r = pos / inner_len;
            [
                (r / 2) as isize * -40 + (r % 2) as isize * 7,
                (r / 2) as isize * 8,
            ]
        };
        for from in 0..=n {
            for to in from..=n {
                let mut seen = Vec::new();
                for_each_joint_segment(&outer, inner_len, from, to, |off, i0, len| {
                    assert!(len >= 1 && i0 + len <= inner_len);
                    let first = seen.len() + from;
                    assert_eq!(off, row_of(first));
                    assert_eq!(i0, first % inner_len);
                    seen.extend(first..first + len);
                });
                assert_eq!(seen, (from..to).collect::<Vec<_>>(), "{from}..{to}");
            }
        }
    }

    /// run_f64 reads f64 runs of stride 8 in place and every other run through the reader.
    #[test]
    fn run_f64_in_place_or_converted() {
        let data: Vec<f64> = (0..12).map(f64::from).collect();
        let base = data.as_ptr().cast::<u8>();
        let mut buf = [0.0; 8];
        // SAFETY: elements 3..8 of `data`.
        let r = unsafe { run_f64(base, 8, 2, 5, 8, true, gather_f64::<f64>, &mut buf) };
        assert_eq!(r, &data[3..8]);
        assert_eq!(r.as_ptr(), data[3..].as_ptr());
        // SAFETY: elements 11, 9, 7 of `data`.
        let r = unsafe { run_f64(base, 88, 0, 3, -16, true, gather_f64::<f64>, &mut buf) };
        assert_eq!(r, &[11.0, 9.0, 7.0]);
        // SAFETY: element 5 of `data`, four times.
        let r = unsafe { run_f64(base, 40, 3, 4, 0, true, gather_f64::<f64>, &mut buf) };
        assert_eq!(r, &[5.0; 4]);
        let ints: Vec<u32> = (0..6).collect();
        // SAFETY: elements 1, 3, 5 of `ints`.
        let r = unsafe {
            run_f64(
                ints.as_ptr().cast(),
                4,
                0,
                3,
                8,
                false,
                gather_f64::<u32>,
                &mut buf,
            )
        };
        assert_eq!(r, &[1.0, 3.0, 5.0]);
    }

    /// gather_ahead copies a run at any stride (negative, zero, wider than a cache line) in
    /// order and returns exactly the elements it wrote; its prefetches may point past the
    /// run (they never fault).
    #[test]
    fn gather_ahead_and_near_copy_runs_at_any_stride() {
        use std::mem::MaybeUninit;
        let data: Vec<u64> = (0..300).map(|i| i * 7 + 1).collect();
        for (start, stride, n) in [
            (0usize, 1isize, 300usize),
            (0, 2, 150),
            (299, -3, 100),
            (299, -1, 300),
            (298, -1, 37),
            (6, -1, 7),
            (17, 0, 5),
            (3, 37, 8),
            (0, 5, 0),
        ] {
            let want: Vec<u64> = (0..n)
                .map(|i| data[(start as isize + i as isize * stride) as usize])
                .collect();
            let mut buf = [MaybeUninit::<u64>::uninit(); 300];
            // SAFETY: every element read is inside `data` (checked by the expected values).
            let got =
                unsafe { gather_ahead(data.as_ptr().wrapping_add(start), stride, &mut buf[..n]) };
            assert_eq!(got, &want[..], "start {start} stride {stride} n {n}");
            let mut buf = [MaybeUninit::<u64>::uninit(); 300];
            // SAFETY: as above; `gather_near` copies the same elements without the hints.
            let got =
                unsafe { gather_near(data.as_ptr().wrapping_add(start), stride, &mut buf[..n]) };
            assert_eq!(got, &want[..], "near: start {start} stride {stride} n {n}");
        }
    }

    /// gather_f64 reads every element of a run at any byte stride (negative, zero) in order,
    /// converted; bool bytes other than 0 and 1 are true.
    #[test]
    fn gather_f64_reads_runs_at_any_stride() {
        let data: Vec<i16> = (0..20).map(|i| i * 3 - 7).collect();
        let base = data.as_ptr().cast::<u8>();
        for (start, stride, n) in [
            (0usize, 2isize, 20usize),
            (19, -2, 20),
            (5, 0, 4),
            (1, 6, 6),
        ] {
            let mut out = vec![0.0; n];
            // SAFETY: every element read is inside `data` (checked by the expected values).
            unsafe { gather_f64::<i16>(base.wrapping_add(2 * start), stride, &mut out) };
            let want: Vec<f64> = (0..n)
                .map(|i| f64::from(data[(start as isize + i as isize * stride / 2) as usize]))
                .collect();
            assert_eq!(out, want);
        }
        let bytes = [0u8, 1, 2, 255];
        let mut out = [9.0; 4];
        // SAFETY: four bytes, each read once.
        unsafe { gather_f64::<crate::element::Bool8>(bytes.as_ptr(), 1, &mut out) };
        assert_eq!(out, [0.0, 1.0, 1.0, 1.0]);
    }

    #[test]
    fn segments_and_gathers_cover_ranges_in_order() {
        let outer = [
            Axis {
                len: 3,
                stride: -40,
            },
            Axis { len: 2, stride: 7 },
        ];
        let (inner_len, inner_stride) = (5usize, 2isize);
        let n = 3 * 2 * inner_len;
        let offset_of = |pos: usize| {
            let (r, i) = (pos / inner_len, pos % inner_len);
            (r / 2) as isize * -40 + (r % 2) as isize * 7 + i as isize * inner_stride
        };
        for from in 0..=n {
            for to in from..=n + 1 {
                let mut seen = Vec::new();
                for_each_segment(&outer, inner_len, from, to.min(n), |off, i0, len, pos| {
                    assert!(len >= 1 && i0 + len <= inner_len);
                    for k in 0..len {
                        assert_eq!(off + (i0 + k) as isize * inner_stride, offset_of(pos + k));
                        seen.push(pos + k);
                    }
                });
                assert_eq!(seen, (from..to.min(n)).collect::<Vec<_>>(), "{from}..{to}");
            }
        }
        let data: Vec<u32> = (0..40).collect();
        for (stride, start) in [(1isize, 0usize), (3, 1), (-2, 39), (0, 7)] {
            for i0 in [0usize, 2] {
                let mut out = [0u32; 6];
                // SAFETY: elements start + (i0 + k) * stride, k < 6, lie inside `data`.
                unsafe { gather(data.as_ptr().add(start), stride, i0, &mut out) };
                let want: Vec<u32> = (0..6)
                    .map(|k| (start as isize + (i0 + k) as isize * stride) as u32)
                    .collect();
                assert_eq!(out.to_vec(), want, "stride {stride}, i0 {i0}");
            }
        }
    }

    #[test]
    fn pieces_cover_the_run_in_order() {
        let data: Vec<u32> = (0..23).collect();
        for (stride, len) in [(1isize, 23usize), (2, 12), (3, 8)] {
            for piece in [0, 1, 4, 5, 23, 100] {
                let mut seen = Vec::new();
                super::for_each_piece(data.as_ptr(), len, stride, piece, |p, n| {
                    assert!(n >= 1 && n <= piece.max(1));
                    for i in 0..n {
                        // SAFETY: the piece lies inside the run, inside `data`.
                        seen.push(unsafe { *p.offset(i as isize * stride) });
                    }
                });
                let want: Vec<u32> = (0..len as u32).map(|i| i * stride as u32).collect();
                assert_eq!(seen, want, "stride {stride}, piece {piece}");
            }
        }
        super::for_each_piece(data.as_ptr(), 0, 1, 4, |_, _| panic!("no piece of nothing"));
    }

    use super::*;
    use crate::layout::{normalize, StridedView};

    /// Offsets of a layout's elements, computed independently of the odometer: element `i`
    /// unravelled over the axes, outermost first.
    fn unravelled_offsets(l: &Layout) -> Vec<isize> {
        (0..l.len)
            .map(|i| {
                let mut rest = i;
                let mut off = l.offset;
                for a in l.axes.iter().rev() {
                    off += (rest % a.len) as isize * a.stride;
                    rest /= a.len;
                }
                off
            })
            .collect()
    }

    #[test]
    fn offsets_in_is_a_slice_of_every_offset() {
        let data: Vec<u8> = vec![0; 4096];
        let views = [
            StridedView::from_slice(&data, 2, &[5, 7, 3], &[100, 3, -1]).unwrap(),
            StridedView::from_slice(&data, 0, &[11], &[3]).unwrap(),
            StridedView::from_slice(&data, 0, &[4, 1, 6], &[200, 0, 7]).unwrap(),
            StridedView::from_slice(&data, 0, &[3, 4], &[0, 1]).unwrap(),
            StridedView::from_slice(&data, 9, &[], &[]).unwrap(),
            StridedView::from_slice(&data, 0, &[3, 0], &[1, 1]).unwrap(),
        ];
        for v in &views {
            let l = v.layout();
            let all = unravelled_offsets(&l);
            assert_eq!(all.len(), l.len);
            assert_eq!(l.offsets_in(0, usize::MAX).collect::<Vec<_>>(), all);
            for start in 0..=all.len() + 1 {
                for count in [0, 1, 2, 3, 5, 7, 8, 100, usize::MAX] {
                    let it = l.offsets_in(start, count);
                    let lo = start.min(all.len());
                    let hi = all.len().min(start.saturating_add(count));
                    assert_eq!(it.len(), hi.max(lo) - lo);
                    let got: Vec<isize> = it.collect();
                    assert_eq!(got, all[lo..hi.max(lo)], "start {start} count {count}");
                    // `fill` hands out the same sequence in batches, the last one short.
                    for batch in [1usize, 3, 4] {
                        let mut it = l.offsets_in(start, count);
                        let (mut buf, mut got) = (vec![0isize; batch], Vec::new());
                        loop {
                            let n = it.fill(&mut buf);
                            got.extend_from_slice(&buf[..n]);
                            if n < batch {
                                break;
                            }
                        }
                        assert_eq!(got, all[lo..hi.max(lo)], "fill {batch}");
                    }
                }
            }
        }
    }

    #[test]
    fn for_each_row_of_no_axes_or_one_axis() {
        let mut got = Vec::new();
        for_each_row(&[], 0, 1, |o| got.push(o));
        assert_eq!(got, [0]);
        got.clear();
        for_each_row(&[], 0, 0, |o| got.push(o));
        assert!(got.is_empty());
        for_each_row(&[Axis { len: 5, stride: -3 }], 1, 3, |o| got.push(o));
        assert_eq!(got, [-3, -6, -9]);
    }

    #[test]
    fn prefetch_plan_touches_every_line_of_a_block_far_enough_ahead() {
        for (stride, size) in [
            (1isize, 8usize),
            (2, 8),
            (-2, 8),
            (3, 4),
            (5, 8),
            (8, 8),
            (4000, 8),
            (2, 1),
        ] {
            let l = 32;
            let pf = match size {
                8 => Prefetch::plan::<f64>(stride, l),
                4 => Prefetch::plan::<f32>(stride, l),
                _ => Prefetch::plan::<u8>(stride, l),
            };
            let gap = stride.unsigned_abs() * size;
            // Far enough: at least PREFETCH_AHEAD bytes, a whole number of blocks.
            assert!(pf.ahead as usize * gap >= PREFETCH_AHEAD, "{stride} {size}");
            assert_eq!(pf.ahead as usize % l, 0);
            // Consecutive prefetched elements are at most one line apart.
            assert!(pf.step * gap <= 64 || pf.step == 1, "{stride} {size}");
            assert!(pf.step >= 1);
        }
    }

    #[test]
    fn for_each_row_starts_mid_way() {
        let outer = [
            Axis {
                len: 3,
                stride: 100,
            },
            Axis { len: 4, stride: 10 },
        ];
        let mut all = Vec::new();
        for_each_row(&outer, 0, 12, |o| all.push(o));
        for start in 0..12 {
            for count in 0..=(12 - start) {
                let mut part = Vec::new();
                for_each_row(&outer, start, count, |o| part.push(o));
                assert_eq!(part, all[start..start + count]);
            }
        }
    }

    fn collect_blocks(
        data: &[i64],
        start: usize,
        len: usize,
        stride: isize,
        pad: Option<i64>,
    ) -> Vec<i64> {
        let mut acc = (Vec::new(), Vec::new());
        // SAFETY: the callers pass runs that stay inside `data`.
        unsafe {
            for_each_block::<i64, _, 4>(
                &mut acc,
                data.as_ptr().add(start),
                len,
                stride,
                pad,
                |a, b| a.0.extend_from_slice(b),
                |a, j, x| a.1.push((j, x)),
            )
        };
        let (mut seen, tails) = acc;
        for (k, &(j, x)) in tails.iter().enumerate() {
            assert_eq!(j, k);
            seen.push(x);
        }
        seen
    }

    #[test]
    fn blocks_visit_each_run_element_once_in_order() {
        let data: Vec<i64> = (0..100).collect();
        for stride in [1isize, 2, 3, 4, 5, 7, -1, -2, -3, -4, -6, 0] {
            for len in [0usize, 1, 3, 4, 5, 8, 9, 13] {
                let start = if stride < 0 { 99 } else { 0 };
                let got = collect_blocks(&data, start, len, stride, None);
                let mut want: Vec<i64> = (0..len as i64)
                    .map(|i| start as i64 + i * stride as i64)
                    .collect();
                assert_eq!(got, want, "stride {stride} len {len}");
                // With a pad, a contiguous run's last block is filled up with it.
                if stride == 1 {
                    want.resize(len.next_multiple_of(4), -1);
                }
                let got = collect_blocks(&data, start, len, stride, Some(-1));
                assert_eq!(got, want, "stride {stride} len {len} padded");
            }
        }
    }

    #[test]
    fn long_contiguous_runs_are_read_as_side_by_side_streams() {
        // Blocks of 4 i64: a stream must hold STREAM_MIN_BYTES, so runs from 4 streams of
        // 1024 blocks up, where this machine reads streams (decided first: the other tests'
        // dispatches may decide it at any time, once).
        decide_streams();
        let min = STREAMS * STREAM_MIN_BYTES / 8;
        assert_eq!(stream_blocks::<i64, 4>(min - 1), 0);
        let q = if streams_on() {
            STREAM_MIN_BYTES / 32
        } else {
            0
        };
        assert_eq!(stream_blocks::<i64, 4>(min), q);
        let data: Vec<i64> = (0..(min + 4000) as i64).collect();
        for len in [min - 1, min, min + 3, min + 4 * 4 + 1, min + 3999] {
            let q = stream_blocks::<i64, 4>(len);
            let got = collect_blocks(&data, 0, len, 1, None);
            // Block i of each of the STREAMS quarters in turn, then the rest in order.
            let mut want = Vec::new();
            for i in 0..q {
                for s in 0..STREAMS {
                    want.extend((s * q + i) * 4..(s * q + i + 1) * 4);
                }
            }
            want.extend(STREAMS * q * 4..len);
            let want: Vec<i64> = want.into_iter().map(|i| i as i64).collect();
            assert_eq!(got, want, "len {len}");
            // Strided runs keep their order.
            let got = collect_blocks(&data, 0, len / 2, 2, None);
            assert!(got.iter().copied().eq((0..len as i64 / 2).map(|i| 2 * i)));
        }
    }

    #[test]
    fn rows_visit_each_element() {
        let data: Vec<i64> = (0..50).collect();
        for stride in [1isize, 2, 5, -1, -3, 0] {
            for len in [0usize, 1, 7] {
                let start = if stride < 0 { 49 } else { 0 };
                let mut got = Vec::new();
                // SAFETY: the row stays inside `data` (len <= 7, |stride| <= 5, start 0 or 49).
                unsafe {
                    for_each_in_row(data.as_ptr().add(start), len, stride, |j, x| {
                        got.push((j, x))
                    })
                };
                let want: Vec<(usize, i64)> = (0..len)
                    .map(|j| (j, start as i64 + j as i64 * stride as i64))
                    .collect();
                assert_eq!(got, want);
            }
        }
    }

    #[test]
    fn units_cover_every_element_once() {
        let cases: &[(&[usize], &[isize])] = &[
            (&[1000], &[1]),
            (&[10, 7], &[7, 1]),
            (&[3, 50], &[100, 2]),
            (&[4, 5, 6], &[60, 12, 2]),
            (&[], &[]),
        ];
        for (shape, strides) in cases {
            let l = normalize(shape, strides);
            let want = unravelled_offsets(&l);
            for unit in [1usize, 3, 7, 16, 64, 5000] {
                let (split, units) = l.split(unit);
                let mut got = Vec::new();
                for u in 0..units {
                    l.for_each_run_of_unit(split, u, |off, len| {
                        got.extend((0..len as isize).map(|i| off + i * l.inner().stride))
                    });
                }
                assert_eq!(got, want, "{shape:?} {strides:?} unit {unit}");
            }
        }
    }

    /// The elements of a slice, as f64.
    fn f64s(xs: Floats<'_>) -> Vec<f64> {
        match xs {
            Floats::F64(xs) => xs.to_vec(),
            Floats::F32(xs) => xs.iter().map(|&x| f64::from(x)).collect(),
        }
    }

    /// Slices as f64 visit every element once, in the layout's order, in place exactly for
    /// long contiguous f64 and f32 rows and packed into the buffer otherwise.
    #[test]
    fn slices_of_f64_cover_every_element() {
        let data: Vec<f64> = (0..4000).map(f64::from).collect();
        let ints: Vec<i32> = (0..4000).collect();
        let floats: Vec<f32> = (0..4000u16).map(f32::from).collect();
        let cases: [(&[usize], &[isize]); 6] = [
            (&[4000], &[1]),
            (&[40, 100], &[100, 1]),
            (&[100, 40], &[1, 100]),
            (&[20, 7], &[-3, 100]),
            (&[3, 5, 10], &[1000, 1, 100]),
            (&[0, 5], &[5, 1]),
        ];
        for (shape, strides) in cases {
            let base = if strides.iter().any(|&s| s < 0) {
                2000
            } else {
                0
            };
            let l = normalize(shape, strides);
            let mut want = Vec::new();
            // SAFETY: the cases stay inside `data` from `base`.
            unsafe { for_each_element(data.as_ptr().add(base), &l, |x: f64| want.push(x)) };
            // The whole layout, and every unit of a few splits, in order.
            let mut parts = vec![vec![l.whole()]];
            for unit in [3usize, 64, 1000] {
                let (split, units) = l.split(unit);
                parts.push((0..units).map(|u| (split, u)).collect());
            }
            for cap in [1usize, 7, 64, 400, 5000] {
                for units in &parts {
                    let (mut got, mut got_i, mut got_f) = (Vec::new(), Vec::new(), Vec::new());
                    let mut buf = vec![f64::NAN; cap];
                    let (mut in_place, mut in_place_f) = (0, 0);
                    for &unit in units {
                        // SAFETY: as above.
                        unsafe {
                            for_each_slice_f64(data.as_ptr().add(base), &l, unit, &mut buf, |xs| {
                                assert!(!xs.is_empty() && xs.len() <= cap);
                                let at = xs.as_ptr().cast::<f64>();
                                in_place += usize::from(data.as_ptr_range().contains(&at));
                                got.extend(f64s(xs));
                            })
                        };
                        // SAFETY: as above, for the i32 copy of the data.
                        unsafe {
                            for_each_slice_f64(ints.as_ptr().add(base), &l, unit, &mut buf, |xs| {
                                assert!(matches!(xs, Floats::F64(_)));
                                got_i.extend(f64s(xs))
                            })
                        };
                        // SAFETY: as above, for the f32 copy of the data.
                        unsafe {
                            for_each_slice_f64(
                                floats.as_ptr().add(base),
                                &l,
                                unit,
                                &mut buf,
                                |xs| {
                                    assert!(!xs.is_empty() && xs.len() <= cap);
                                    let at = xs.as_ptr().cast::<f32>();
                                    let inside = floats.as_ptr_range().contains(&at);
                                    assert_eq!(inside, matches!(xs, Floats::F32(_)));
                                    in_place_f += usize::from(inside);
                                    got_f.extend(f64s(xs))
                                },
                            )
                        };
                    }
                    let what = format!("{shape:?} {strides:?} cap {cap} {:?}", units.first());
                    assert_eq!(got, want, "{what}");
                    assert_eq!(got_i, want, "i32 {what}");
                    assert_eq!(got_f, want, "f32 {what}");
                    if units.len() == 1 {
                        let long_rows = l.inner().stride == 1 && l.inner().len >= cap / 4;
                        assert_eq!(in_place > 0, long_rows && l.len > 0, "{what}");
                        assert_eq!(in_place_f > 0, long_rows && l.len > 0, "f32 {what}");
                    }
                }
            }
        }
    }

    #[test]
    fn row_offsets_are_row_major() {
        let axes = [
            Axis {
                len: 2,
                stride: -10,
            },
            Axis { len: 3, stride: 1 },
        ];
        assert_eq!(row_offsets(&axes), vec![0, 1, 2, -10, -9, -8]);
        assert_eq!(row_offsets(&[]), vec![0]);
        // Many length-1 axes (more than the odometer holds) are harmless.
        let mut many = vec![Axis { len: 1, stride: 7 }; 100];
        many.push(Axis { len: 3, stride: 2 });
        assert_eq!(row_offsets(&many), vec![0, 2, 4]);
    }

    /// Row groups of a column reduction: every reduced position's row, columns `cols`, in
    /// the layout's order, in groups of at most N (the last shorter), f64 rows in place and
    /// others converted; ranges of rows as the units ask.
    #[test]
    fn row_groups_cover_every_row_in_order() {
        let data: Vec<f64> = (0..6000).map(f64::from).collect();
        let ints: Vec<i32> = (0..6000).collect();
        // (Reduced axes' shape and strides; the kept run is 0..cols_len at stride 1.)
        let cases: [(&[usize], &[isize], usize); 4] = [
            (&[50], &[100], 100),       // a C matrix's rows
            (&[7, 6], &[600, 100], 90), // two reduced axes
            (&[20], &[-100], 100),      // reversed rows (base at the last row)
            (&[9], &[120], 120),        // padded rows: 120 apart, 100 read
        ];
        for (shape, strides, span) in cases {
            let base = if strides[0] < 0 { 1900 } else { 0 };
            let l = normalize(shape, strides);
            let rows = l.len;
            for cols in [0..span.min(100), 3..17, 90..span.min(100)] {
                for (start, count) in [(0, rows), (1, rows - 1), (rows / 2, 3), (rows, 0)] {
                    // What each row must hold: the offsets in order, then the columns.
                    let want: Vec<Vec<f64>> = l
                        .offsets_in(start, count)
                        .map(|o| {
                            cols.clone()
                                .map(|c| data[(base as isize + o) as usize + c])
                                .collect()
                        })
                        .collect();
                    let mut bufs: [Vec<f64>; 3] =
                        std::array::from_fn(|_| vec![f64::NAN; cols.len()]);
                    let (mut got, mut got_i, mut groups, mut in_place) = (vec![], vec![], 0, 0);
                    // SAFETY: the cases stay inside `data` (and `ints`) from `base`.
                    unsafe {
                        for_each_row_group(
                            data.as_ptr().add(base),
                            &l,
                            (start, count),
                            cols.clone(),
                            &mut bufs,
                            |g| {
                                assert!(!g.is_empty() && g.len() <= 3);
                                groups += 1;
                                for row in g {
                                    assert_eq!(row.len(), cols.len());
                                    let inside = data.as_ptr_range().contains(&row.as_ptr());
                                    in_place += usize::from(inside || row.is_empty());
                                    got.push(row.to_vec());
                                }
                            },
                        );
                        for_each_row_group(
                            ints.as_ptr().add(base),
                            &l,
                            (start, count),
                            cols.clone(),
                            &mut bufs,
                            |g| got_i.extend(g.iter().map(|r| r.to_vec())),
                        );
                    }
                    assert_eq!(got, want, "{shape:?} {strides:?} {cols:?} {start}+{count}");
                    assert_eq!(got_i, want);
                    assert_eq!(groups, want.len().div_ceil(3));
                    assert_eq!(in_place, want.len(), "f64 rows are read in place");
                }
            }
        }
    }
}
