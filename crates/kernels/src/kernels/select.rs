//! Order statistics: what median, quantile and percentile (and their nan-variants) select.
//!
//! **Semantics.** An output's values are its reduced positions' elements, in any order (a
//! multiset: selection does not depend on the layout). NaN sorts after every number, as in
//! numpy's sort and partition, so the sorted values are the `count` numbers ascending, then
//! the NaNs. Rank `r` (0-based) of an output is element `r` of that order: a number when
//! `r < count`, else NaN. Ties are equal values (`-0.0 == 0.0`): which of two equal elements
//! is returned is not specified, as in numpy's partition.
//!
//! **Algorithm.** Each output's numbers are copied into a scratch buffer (NaNs left out and
//! counted), and the wanted ranks are selected in it (outputs of at most `SORT_UP_TO`
//! numbers are sorted; ranks close together in outputs of 2048 to 16384 numbers are first
//! cut down to the elements between two pivots from a sample, [`bracket`]): the middle
//! wanted rank by quickselect
//! ([`select_nth`], linear time), then the ranks left of it in the left part and the ranks
//! right of it in the right part, recursively (`O(n log k)` for `k` ranks); from
//! `DENSE_FROM` distinct ranks (100 percentiles) by cutting the elements into buckets by
//! value and selecting in the buckets that hold a rank ([`select_buckets`], outputs of 512
//! to 65536 elements), or by partitioning around pivots and going on in every side that
//! holds a wanted rank ([`select_dense`]: a quicksort that stops at sides without one). The caller's array is never written. Quickselect partitions without a branch on the data (each element written to
//! both sides, a count moved by the comparison, see [`partition`]): the standard library's
//! `select_nth_unstable` branches on every comparison, a coin toss around a median, and
//! took 12 ns an element of a 365-element output.
//!
//! **Quantiles** ([`QuantileMethod`], numpy's 13 `method`s). For `c` numbers and a `q` in
//! `[0, 1]`, a method gives a virtual index into the sorted numbers; the discrete methods
//! take the element at an integer index, the others interpolate between the elements at
//! `floor(index)` and the next by `gamma` (numpy's `_lerp`: `a + (b - a) * gamma`, or
//! `b - (b - a) * (1 - gamma)` from `gamma >= 0.5`). Each formula is numpy's own
//! (`numpy/lib/_function_base_impl.py`: `_QuantileMethods`, `_get_indexes`, `_get_gamma`),
//! evaluated in f64 in the same order, so an f64 input's quantiles are numpy's bit for bit.
//! (numpy evaluates an f32 input's in f32 and an integer input's difference in the
//! integers; the crate's are f64 throughout.) The Python layer applies numpy's helpers
//! themselves to the order statistics, for numpy's result types.

use crate::element::{ElemType, Element};
use std::cmp::Ordering;

/// Distinct ranks from which an output's buffer is partitioned around pivots
/// ([`select_dense`]) rather than selected rank by rank.
pub(crate) const DENSE_FROM: usize = 24;

/// The order of two numbers (no NaN reaches it).
#[inline(always)]
pub(crate) fn order<T: Element>(a: &T, b: &T) -> Ordering {
    a.partial_cmp(b).unwrap_or(Ordering::Equal)
}

/// Rearrange `v` so that `v[r]` is its `r`-th smallest element for every `r` in `ranks`
/// (ascending, distinct, each `< v.len()`). `v` holds no NaN. `spare` is scratch (grown to
/// `v.len()` as needed).
pub(crate) fn select_ranks<T: Element>(v: &mut [T], ranks: &[usize], spare: &mut Vec<T>) {
    if ranks.len() >= DENSE_FROM {
        select_buckets(v, 0, ranks, spare, BUCKET_LEVELS);
        return;
    }
    select_in(v, 0, ranks, spare);
}

/// Outputs of this many elements (up to `BUCKETS_UP_TO`) with many ranks are cut into
/// buckets by value ([`select_buckets`]); shorter and longer ones are partitioned around
/// pivots ([`select_dense`]).
const BUCKETS_FROM: usize = 512;
/// (Beyond, the scatter into a few thousand buckets leaves the caches: 1e6 f64 with 200
/// ranks were slower cut into buckets than partitioned, in a standalone copy on Zen 1.)
const BUCKETS_UP_TO: usize = 1 << 16;
/// Levels of buckets in buckets before the pivots take over.
const BUCKET_LEVELS: usize = 2;

/// [`select_ranks`] for many ranks in `v` (positions `first..` of the buffer) of
/// `BUCKETS_FROM..=BUCKETS_UP_TO` elements: the elements are moved into `n / 8` buckets
/// (64 to 2048) by value, `bucket(x) = floor((x - lo) * buckets / (hi - lo))`, clamped to
/// the first and last bucket, in one pass that counts and one that moves (through `spare`);
/// then each bucket that holds a wanted rank is sorted (up to 32 elements) or selected in
/// the same way, one level down (then by [`select_dense`]). `bucket` never decreases as
/// `x` grows (each step, the conversion to f64 included, rounds monotonically; `x - lo`
/// and the product are clamped, not wrapped), so every element of a bucket is no greater
/// than any of a later one, whatever the rounding: the buckets are the sorted order cut
/// into ranges, and a rank's value is in the bucket its position falls in. `lo` and `hi`
/// are the second smallest and second largest of 64 elements spread over `v`, so that an
/// outlier or two do not put every element into one bucket (they go to the end buckets).
/// With 200 ranks in 4000 f64 (100 percentiles) this took about half the time of
/// [`select_dense`] (a standalone copy, Zen 1): two passes over the elements and sorts of
/// about 8, where the pivots take about seven partitions.
fn select_buckets<T: Element>(
    v: &mut [T],
    first: usize,
    ranks: &[usize],
    spare: &mut Vec<T>,
    levels: usize,
) {
    let n = v.len();
    if ranks.is_empty() || n < 2 {
        return;
    }
    if !(BUCKETS_FROM..=BUCKETS_UP_TO).contains(&n) || levels == 0 {
        select_dense(v, first, ranks, spare, steps_for(n));
        return;
    }
    let mut sample = [v[0]; 64];
    for (j, x) in sample.iter_mut().enumerate() {
        *x = v[j * (n - 1) / 63];
    }
    sample.sort_unstable_by(order::<T>);
    let (lo, hi) = (sample[1].to_f64(), sample[62].to_f64());
    let buckets = buckets_for(n);
    let scale = buckets as f64 / (hi - lo);
    if !(lo < hi && scale.is_finite() && scale > 0.0) {
        // (Mostly one value, or a range beyond the largest float.)
        select_dense(v, first, ranks, spare, steps_for(n));
        return;
    }
    let last = buckets - 1;
    // `max(0.0)` also makes a NaN product 0 (none: v holds numbers); `as` saturates.
    let bucket = |x: T| (((x.to_f64() - lo) * scale).max(0.0) as usize).min(last);
    // next[b]: bucket b's size, then its first position, then (once every element is moved)
    // the position after its last: the end of bucket b and the start of bucket b + 1.
    let mut next = vec![0u32; buckets];
    for &x in v.iter() {
        next[bucket(x)] += 1;
    }
    let mut at = 0;
    for c in next.iter_mut() {
        (*c, at) = (at, at + *c);
    }
    if spare.len() < n {
        spare.resize(n, v[0]);
    }
    for &x in v.iter() {
        let b = bucket(x);
        spare[next[b] as usize] = x;
        next[b] += 1;
    }
    v.copy_from_slice(&spare[..n]);
    let ends = next;
    let mut k = 0;
    while k < ranks.len() {
        // The bucket that holds rank k (the first whose end is past it), and its ranks.
        let r = ranks[k] - first;
        let b = ends.partition_point(|&e| e as usize <= r);
        let (s, e) = (
            if b == 0 { 0 } else { ends[b - 1] as usize },
            ends[b] as usize,
        );
        let end = k + ranks[k..].partition_point(|&q| q - first < e);
        let w = &mut v[s..e];
        if w.len() <= PARTITION_FROM {
            w.sort_unstable_by(order::<T>);
        } else {
            select_buckets(w, first + s, &ranks[k..end], spare, levels - 1);
        }
        k = end;
    }
}

/// Buckets for `n` elements in [`select_buckets`]: about 8 elements each.
fn buckets_for(n: usize) -> usize {
    (n / 8).clamp(64, 2048)
}

/// How many partition steps a selection in `n` elements takes before it leaves the rest to
/// the standard library (pivots that split badly): `2 log2(n) + 4`.
fn steps_for(n: usize) -> usize {
    2 * (usize::BITS - n.leading_zeros()) as usize + 4
}

/// [`select_ranks`] for many ranks: `v` (positions `first..` of the buffer) is partitioned
/// around a [`pivot`], and each side that holds a wanted rank is treated the same way;
/// sides under `PARTITION_FROM` elements, and any side `depth` levels down (pivots that
/// split badly), are sorted. Both sides are smaller than `v`: the pivot is one of its
/// elements and never below itself, so the front side misses at least the pivot, and when
/// the front side is empty (the pivot is `v`'s smallest value) the elements equal to the
/// pivot are split off instead, at least one. With 200 ranks in 4000 f64 (100 percentiles)
/// this took half the time of sorting `v` (a standalone copy, Zen 1).
fn select_dense<T: Element>(
    v: &mut [T],
    first: usize,
    ranks: &[usize],
    spare: &mut Vec<T>,
    depth: usize,
) {
    if ranks.is_empty() || v.len() < 2 {
        return;
    }
    if v.len() < PARTITION_FROM || depth == 0 {
        v.sort_unstable_by(order::<T>);
        return;
    }
    let p = pivot(v);
    let mut m = partition_at(v, spare, p, false);
    if m == 0 {
        // Every element is >= p: those equal to it to the front, where every rank is placed.
        m = partition_at(v, spare, p, true);
        let k = ranks.partition_point(|&r| r < first + m);
        select_dense(&mut v[m..], first + m, &ranks[k..], spare, depth - 1);
        return;
    }
    let k = ranks.partition_point(|&r| r < first + m);
    let (left, right) = v.split_at_mut(m);
    select_dense(left, first, &ranks[..k], spare, depth - 1);
    select_dense(right, first + m, &ranks[k..], spare, depth - 1);
}

/// [`select_ranks`] on `v`, the positions `first..` of the whole buffer.
fn select_in<T: Element>(v: &mut [T], first: usize, ranks: &[usize], spare: &mut Vec<T>) {
    if ranks.is_empty() || v.len() < 2 {
        return;
    }
    let m = ranks.len() / 2;
    let r = ranks[m] - first;
    select_nth(v, r, spare);
    let (left, rest) = v.split_at_mut(r);
    let right = &mut rest[1..];
    // A rank next to the one just placed is the extreme of its side: one scan, not a
    // selection (the two middle elements of an even count, a quantile's two neighbours).
    match ranks[..m].split_last() {
        Some((&last, rest)) if last - first + 1 == r => {
            let i = extreme(left, Ordering::Greater);
            let end = left.len() - 1;
            left.swap(i, end);
            select_in(&mut left[..end], first, rest, spare);
        }
        _ => select_in(left, first, &ranks[..m], spare),
    }
    match ranks[m + 1..].split_first() {
        Some((&next, rest)) if next == first + r + 1 => {
            let i = extreme(right, Ordering::Less);
            right.swap(0, i);
            select_in(&mut right[1..], first + r + 2, rest, spare);
        }
        _ => select_in(right, first + r + 1, &ranks[m + 1..], spare),
    }
}

/// Windows shorter than this are left to the standard library's selection (in a copy of
/// this function timed on f32 outputs of 330 to 40000 elements, 16 and 32 were as fast,
/// 64 and more slower; with the vector partition, 16 made medians of rows of 100 and 40
/// f64 0.90-0.95x the time and of rows of 1000 1.1x, also when used only for selections
/// among at most 256 elements: one Zen 4 thread, AVX-512, ab.py in both orders).
const PARTITION_FROM: usize = 32;

/// Rearrange `v` so that `v[r]` is its `r`-th smallest element (`r < v.len()`), with
/// `v[..r]` no greater and `v[r + 1..]` no smaller (by [`order`]; no NaN). `spare` is
/// scratch.
///
/// Quickselect: a window `lo..hi` that holds rank `r`, every element left of it no greater
/// than any in it and every element right of it no smaller. Each step takes a pivot among
/// the window's elements ([`pivot`]) and moves the elements below it to the window's front
/// ([`partition`]); the window becomes the side that holds `r`. When the window moves right,
/// its elements are no smaller than that pivot, which is among them (`floor`): a later
/// pivot equal to `floor` is the window's smallest value, and the elements equal to it are
/// moved to the front instead, where rank `r` is `floor` itself or the window moves past
/// them. A step removes at least one element (the pivot's side never holds the whole
/// window), except one whose pivot is the window's smallest value and nothing lies below
/// it: that step sets `floor` to it, and the next removes at least the elements equal to
/// `floor` or below its pivot. So many equal values take two steps, not one per element.
/// After `2 log2(n) + 4` steps (pivots that split badly) the rest is the standard library's
/// (introselect, linear in the worst case).
pub(crate) fn select_nth<T: Element>(v: &mut [T], r: usize, spare: &mut Vec<T>) {
    let (mut lo, mut hi) = (0, v.len());
    let mut floor: Option<T> = None;
    let mut steps = steps_for(v.len());
    while hi - lo >= PARTITION_FROM && steps > 0 {
        steps -= 1;
        let w = &mut v[lo..hi];
        let p = pivot(w);
        let k = r - lo;
        if floor.is_some_and(|f| order(&f, &p) == Ordering::Equal) {
            // Every element is >= p: those equal to it to the front.
            let m = partition_at(w, spare, p, true);
            if k < m {
                return;
            }
            lo += m;
        } else {
            let m = partition_at(w, spare, p, false);
            if k < m {
                hi = lo + m;
            } else {
                lo += m;
                floor = Some(p);
            }
        }
    }
    v[lo..hi].select_nth_unstable_by(r - lo, order::<T>);
}

/// A pivot for [`select_nth`]: the median of three elements (a quarter, half and three
/// quarters into `w`), of three such medians from 128 elements (Tukey's ninther).
fn pivot<T: Element>(w: &[T]) -> T {
    let n = w.len();
    let at = |i: usize| {
        if n >= 128 {
            let d = n / 16;
            median3(w[i - d], w[i], w[i + d])
        } else {
            w[i]
        }
    };
    median3(at(n / 4), at(n / 2), at(3 * n / 4))
}

/// The middle one of three numbers by [`order`].
#[inline(always)]
fn median3<T: Element>(a: T, b: T, c: T) -> T {
    let less = |x: &T, y: &T| order(x, y) == Ordering::Less;
    let (lo, hi) = if less(&b, &a) { (b, a) } else { (a, b) };
    if less(&c, &lo) {
        lo
    } else if less(&hi, &c) {
        hi
    } else {
        c
    }
}

/// [`partition`] around the pivot `p`: the elements below it (`le`: at most it) to the
/// front. f64 and f32 at AVX-512 and AVX2 go through [`VectorPartition`], which moves them
/// in the same order (so to the same places); the rest through [`partition`].
#[inline(always)]
fn partition_at<T: Element>(w: &mut [T], spare: &mut Vec<T>, p: T, le: bool) -> usize {
    #[cfg(target_arch = "x86_64")]
    if matches!(T::ELEM, ElemType::F64 | ElemType::F32) {
        use crate::simd::{simd_level, SimdLevel};
        // Room for a whole vector written at the last count (its lanes past the count are
        // never read).
        if spare.len() < w.len() + 16 {
            spare.resize(w.len() + 16, p);
        }
        match simd_level() {
            SimdLevel::Avx512 => {
                if let Some(v4) = pulp::x86::V4::try_new() {
                    return pulp::Simd::vectorize(v4, VectorPartition { w, spare, p, le });
                }
            }
            SimdLevel::Avx2 => {
                if let Some(v3) = pulp::x86::V3::try_new() {
                    return pulp::Simd::vectorize(v3, VectorPartition { w, spare, p, le });
                }
            }
            _ => {}
        }
    }
    partition(w, spare, |x| goes_front(x, p, le))
}

/// [`partition`] of f64 (8 a vector) or f32 (16) at AVX-512: each vector's elements below
/// the pivot (or at most it) packed to its front by `vcompresspd`/`vcompressps` and stored
/// whole at the front's count in `w`, the others packed and stored at the back's count in
/// `spare`; the counts move by the mask's population. (The register form and a plain
/// store: the compressing store to memory is microcoded on Zen 4.) The last elements
/// after the whole vectors one by one, as [`partition`] does. At AVX2 (4 f64 or 8 f32 a
/// vector) the same, packed by a table ([`PACK_F64`], [`PACK_F32`]).
#[cfg(target_arch = "x86_64")]
struct VectorPartition<'a, T> {
    w: &'a mut [T],
    /// At least `w.len() + 16` elements.
    spare: &'a mut [T],
    p: T,
    le: bool,
}

#[cfg(target_arch = "x86_64")]
impl<T: Element> pulp::WithSimd for VectorPartition<'_, T> {
    type Output = usize;

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, simd: S) -> usize {
        if let Some(v4) = super::same::<S, pulp::x86::V4>(simd) {
            return self.v4(v4);
        }
        self.v3(super::same(simd).expect("called at AVX2 or AVX-512 only"))
    }
}

#[cfg(target_arch = "x86_64")]
impl<T: Element> VectorPartition<'_, T> {
    /// At AVX-512 (see the type).
    #[inline(always)]
    fn v4(self, v4: pulp::x86::V4) -> usize {
        use std::arch::x86_64::{__m512, _CMP_LE_OQ, _CMP_LT_OQ};
        let f = v4.avx512f;
        let Self { w, spare, p, le } = self;
        let n = w.len();
        assert!(spare.len() >= n + 16);
        let (wp, sp) = (w.as_mut_ptr(), spare.as_mut_ptr());
        let (mut l, mut g) = (0, 0);
        let lanes = if T::ELEM == ElemType::F64 { 8 } else { 16 };
        let whole = n - n % lanes;
        for i in (0..whole).step_by(lanes) {
            // SAFETY: `i + lanes <= whole <= n`: the vector read lies in `w`. The stores
            // write `lanes` elements at `l` in `w` and at `g` in `spare`, where `l + g ==
            // i` (every element before `i` went to one side): `l + lanes <= i + lanes <= n`,
            // inside `w`, over positions read already (this vector is loaded before it is
            // stored); `g + lanes <= n + 16 <= spare.len()`. `T` is f64 (8 lanes) or f32
            // (16), checked above, so the casts read and write its own elements.
            let c = unsafe {
                let x = wp.add(i).cast::<__m512>().read_unaligned();
                let (front, back, c) = if T::ELEM == ElemType::F64 {
                    let (x, pv) = (f._mm512_castps_pd(x), f._mm512_set1_pd(p.to_f64()));
                    let m = if le {
                        f._mm512_cmp_pd_mask::<_CMP_LE_OQ>(x, pv)
                    } else {
                        f._mm512_cmp_pd_mask::<_CMP_LT_OQ>(x, pv)
                    };
                    let pack = |m| f._mm512_castpd_ps(f._mm512_maskz_compress_pd(m, x));
                    (pack(m), pack(!m), m.count_ones())
                } else {
                    let pv = f._mm512_set1_ps(p.to_f64() as f32);
                    let m = if le {
                        f._mm512_cmp_ps_mask::<_CMP_LE_OQ>(x, pv)
                    } else {
                        f._mm512_cmp_ps_mask::<_CMP_LT_OQ>(x, pv)
                    };
                    let pack = |m| f._mm512_maskz_compress_ps(m, x);
                    (pack(m), pack(!m), m.count_ones())
                };
                wp.add(l).cast::<__m512>().write_unaligned(front);
                sp.add(g).cast::<__m512>().write_unaligned(back);
                c as usize
            };
            l += c;
            g += lanes - c;
        }
        partition_from(w, spare, whole, l, g, |x| goes_front(x, p, le))
    }
}

/// Row `m` of a packing table: the 32-bit lanes of the elements whose bit is set in `m`
/// (`wide`: elements of two lanes, f64), in order, first; zeros after.
#[cfg(target_arch = "x86_64")]
const fn packing<const ROWS: usize>(wide: bool) -> [[u32; 8]; ROWS] {
    let mut t = [[0u32; 8]; ROWS];
    let mut m = 0;
    while m < ROWS {
        let (mut k, mut i) = (0, 0);
        let lanes = if wide { 4 } else { 8 };
        while i < lanes {
            if m & (1 << i) != 0 {
                if wide {
                    t[m][k] = 2 * i as u32;
                    t[m][k + 1] = 2 * i as u32 + 1;
                    k += 2;
                } else {
                    t[m][k] = i as u32;
                    k += 1;
                }
            }
            i += 1;
        }
        m += 1;
    }
    t
}

/// The packing tables of [`VectorPartition`] at AVX2, which has no compress: the packing
/// is a `vpermps` by a table row picked by the comparison's mask (f64: 16 rows, each lane
/// two 32-bit halves; f32: 256 rows of 8 indices, 8 KiB).
#[cfg(target_arch = "x86_64")]
static PACK_F64: [[u32; 8]; 16] = packing::<16>(true);
#[cfg(target_arch = "x86_64")]
static PACK_F32: [[u32; 8]; 256] = packing::<256>(false);

#[cfg(target_arch = "x86_64")]
impl<T: Element> VectorPartition<'_, T> {
    /// At AVX2 (see [`PACK_F64`]).
    #[inline(always)]
    fn v3(self, v3: pulp::x86::V3) -> usize {
        use std::arch::x86_64::{__m256, __m256i, _CMP_LE_OQ, _CMP_LT_OQ};
        let (a, a2) = (v3.avx, v3.avx2);
        let Self { w, spare, p, le } = self;
        let n = w.len();
        assert!(spare.len() >= n + 16);
        let (wp, sp) = (w.as_mut_ptr(), spare.as_mut_ptr());
        let (mut l, mut g) = (0, 0);
        let f64s = T::ELEM == ElemType::F64;
        let lanes = if f64s { 4 } else { 8 };
        let whole = n - n % lanes;
        let row = |m: usize| -> __m256i {
            let t = if f64s { &PACK_F64[m] } else { &PACK_F32[m] };
            // SAFETY: a table row is 8 u32, the size of `__m256i`, read unaligned.
            unsafe { t.as_ptr().cast::<__m256i>().read_unaligned() }
        };
        for i in (0..whole).step_by(lanes) {
            // SAFETY: as at AVX-512 (a vector of 32 bytes read at `i + lanes <= n`;
            // stores of 32 bytes at `l` in `w`, over positions read already, and at `g` in
            // `spare`, `g + lanes <= n + 16 <= spare.len()`); `T` is f64 or f32 (checked
            // above), viewed as 8 f32 lanes for the permutation.
            let m = unsafe {
                let x = wp.add(i).cast::<__m256>().read_unaligned();
                let m = if f64s {
                    let xd = a._mm256_castps_pd(x);
                    let pv = a._mm256_set1_pd(p.to_f64());
                    let c = if le {
                        a._mm256_cmp_pd::<_CMP_LE_OQ>(xd, pv)
                    } else {
                        a._mm256_cmp_pd::<_CMP_LT_OQ>(xd, pv)
                    };
                    a._mm256_movemask_pd(c) as usize
                } else {
                    let pv = a._mm256_set1_ps(p.to_f64() as f32);
                    let c = if le {
                        a._mm256_cmp_ps::<_CMP_LE_OQ>(x, pv)
                    } else {
                        a._mm256_cmp_ps::<_CMP_LT_OQ>(x, pv)
                    };
                    a._mm256_movemask_ps(c) as usize
                };
                let all = (1 << lanes) - 1;
                let front = a2._mm256_permutevar8x32_ps(x, row(m));
                let back = a2._mm256_permutevar8x32_ps(x, row(all & !m));
                wp.add(l).cast::<__m256>().write_unaligned(front);
                sp.add(g).cast::<__m256>().write_unaligned(back);
                m
            };
            let c = m.count_ones() as usize;
            l += c;
            g += lanes - c;
        }
        partition_from(w, spare, whole, l, g, |x| goes_front(x, p, le))
    }
}

/// Moves the elements of `w` for which `left` holds to its front, in their order, and the
/// others after them; returns how many went to the front. Each element is written to both
/// sides (the front of `w`, which is never ahead of the reading, and `spare`), and only the
/// side's count moves: no branch on the data. `spare` is scratch.
#[inline(always)]
fn partition<T: Element>(w: &mut [T], spare: &mut Vec<T>, left: impl Fn(T) -> bool) -> usize {
    if w.is_empty() {
        return 0;
    }
    if spare.len() < w.len() {
        spare.resize(w.len(), w[0]);
    }
    partition_from(w, spare, 0, 0, 0, left)
}

/// [`partition`] from element `from` on, after `l` elements went to the front of `w` and
/// `g` to `spare` (`l + g == from`; the vector partitions' whole vectors); then the back
/// side after the front. `spare` holds at least `w.len()` elements.
#[inline(always)]
fn partition_from<T: Element>(
    w: &mut [T],
    spare: &mut [T],
    from: usize,
    mut l: usize,
    mut g: usize,
    left: impl Fn(T) -> bool,
) -> usize {
    let n = w.len();
    assert!(spare.len() >= n && l + g == from && from <= n);
    let (wp, sp) = (w.as_mut_ptr(), spare.as_mut_ptr());
    for i in from..n {
        // SAFETY: `i < n == w.len()`.
        let x = unsafe { *wp.add(i) };
        let go = left(x);
        // SAFETY: `l + g == i` here (each element before `i` counted on one side), so `l`
        // and `g` are below `n`, inside `w` and `spare` (`spare.len() >= n`); position `l`
        // of `w` was read already (at step `l`), and `spare` is not `w`. (Indexed, the two
        // bounds checks were a third of the loop's time.)
        unsafe {
            *wp.add(l) = x;
            *sp.add(g) = x;
        }
        l += usize::from(go);
        g += usize::from(!go);
    }
    w[l..].copy_from_slice(&spare[..g]);
    l
}

/// Whether `x` goes to the front of a partition around `p`: below it, or (`le`) at most it.
#[inline(always)]
fn goes_front<T: Element>(x: T, p: T, le: bool) -> bool {
    if le {
        order(&x, &p) != Ordering::Greater
    } else {
        order(&x, &p) == Ordering::Less
    }
}

/// The position of the largest (`Greater`) or smallest (`Less`) element of `v` (not empty).
fn extreme<T: Element>(v: &[T], want: Ordering) -> usize {
    let mut best = 0;
    for (i, x) in v.iter().enumerate().skip(1) {
        if order(x, &v[best]) == want {
            best = i;
        }
    }
    best
}

/// Copy the numbers of `src` to `dst[count..]`, leaving NaNs out; returns the new count.
/// `dst` has room for all of `src` after `count`. The slice is copied whole as its NaNs are
/// counted (one loop, which vectorises; `copy_from_slice` called `memmove`, a third of a
/// 100x4 median's copy); only a slice with a NaN is copied again, number by number.
#[inline(always)]
pub(crate) fn push_numbers<T: Element>(dst: &mut [T], count: usize, src: &[T]) -> usize {
    let dst = &mut dst[count..count + src.len()];
    let mut nans = 0usize;
    for (d, &x) in dst.iter_mut().zip(src) {
        *d = x;
        nans += usize::from(x.is_nan());
    }
    if nans == 0 {
        return count + src.len();
    }
    let mut kept = 0;
    for &x in src {
        // Written always, kept when a number: no branch on the data.
        dst[kept] = x;
        kept += usize::from(!x.is_nan());
    }
    count + kept
}

/// The values of `ranks` (any order, repeats allowed, each `< len`) of an output whose
/// `count` numbers are `buf[..count]` (rearranged), written to `out` in the order of `ranks`:
/// NaN for a rank at or past `count`. `sorted` is scratch for the distinct ranks, `spare` for
/// the selection.
pub(crate) fn answer<T: Element>(
    buf: &mut [T],
    count: usize,
    ranks: &[usize],
    sorted: &mut Vec<usize>,
    spare: &mut Vec<T>,
    out: &mut [T],
) {
    if count <= SORT_UP_TO {
        // A few numbers: sorted by insertion, no rank bookkeeping.
        let v = &mut buf[..count];
        insertion_sort(v);
        for (o, &r) in out.iter_mut().zip(ranks) {
            *o = if r < count { v[r] } else { T::NAN };
        }
        return;
    }
    sorted.clear();
    sorted.extend(ranks.iter().copied().filter(|&r| r < count));
    sorted.sort_unstable();
    sorted.dedup();
    // Where a bracket holds the wanted ranks, `buf[..m]` holds the elements of ranks
    // `first .. first + m` (in any order) and is selected in alone.
    let first = match bracket(&mut buf[..count], sorted, spare) {
        Some((first, m)) => {
            select_in(&mut buf[..m], first, sorted, spare);
            first
        }
        None => {
            select_ranks(&mut buf[..count], sorted, spare);
            0
        }
    };
    for (o, &r) in out.iter_mut().zip(ranks) {
        *o = if r < count { buf[r - first] } else { T::NAN };
    }
}

/// Sort `v` (no NaN) by [`order`], by insertion: for a few elements.
fn insertion_sort<T: Element>(v: &mut [T]) {
    for i in 1..v.len() {
        let x = v[i];
        let mut j = i;
        while j > 0 && order(&x, &v[j - 1]) == Ordering::Less {
            v[j] = v[j - 1];
            j -= 1;
        }
        v[j] = x;
    }
}

/// Outputs of at most this many numbers are sorted whole (by insertion), without the rank
/// bookkeeping: medians of (100, 12) and (100, 16) f64 rows took 0.92-0.95x the time of
/// the selection (one Zen 4 thread, `python-bench/ab.py` in both orders; the whole call,
/// with the Python layer's).
const SORT_UP_TO: usize = 16;

/// Outputs of `BRACKET_FROM ..= BRACKET_UP_TO` numbers whose wanted ranks lie within
/// `n / BRACKET_SPAN` of each other (a median, a quantile and its neighbour) are first
/// cut down by [`bracket`].
/// (Below 2048 they were slower than quickselect alone: one Zen 4 thread, medians of rows
/// of 100 f64 took 1.10x the time, of 1000 0.98x; of 10000 0.70x.)
const BRACKET_FROM: usize = 2048;
const BRACKET_UP_TO: usize = 1 << 14;
const BRACKET_SPAN: usize = 16;

/// The sample [`bracket`] takes from `n` elements, and how many of its sorted elements
/// it keeps on each side of the ranks' expected places: `(s, d)`. The chance that a rank
/// falls outside (the bracket fails, one pass lost) is about that of a normal deviate past
/// `d / (sqrt(s) / 2)`: `2 P(Z > 2.0)`, 5%, at `(63, 8)`, 4% at `(127, 11)`; the middle
/// part kept is about `(2d + 1) / (s + 1)` of the elements, 27% and 18%.
fn sample_for(n: usize) -> (usize, usize) {
    if n < 8192 {
        (63, 8)
    } else {
        (127, 11)
    }
}

/// Floyd and Rivest's first step, once: two pivots `p1 <= p2` from a sorted sample of
/// `v`, chosen so that the wanted ranks (sorted, distinct, `< v.len()`) very likely lie
/// among the elements in `[p1, p2]`; one pass counts the elements below `p1` (`below`) and
/// copies the `m` elements in `[p1, p2]` into `spare`. Every element below `p1` is smaller
/// than every element kept, and every element above `p2` larger, so the kept elements are
/// exactly those of ranks `below .. below + m` of `v` (ties included: equal elements are
/// all kept or all not). When that range holds every wanted rank, they are copied to
/// `v[..m]` and `Some((below, m))` is returned; else `None` and `v` is as it was (the pass
/// only read it). `None` too where `v` is not of the sizes and ranks above.
fn bracket<T: Element>(v: &mut [T], ranks: &[usize], spare: &mut Vec<T>) -> Option<(usize, usize)> {
    let n = v.len();
    let (&lo, &hi) = (ranks.first()?, ranks.last()?);
    if !(BRACKET_FROM..=BRACKET_UP_TO).contains(&n)
        || ranks.len() >= DENSE_FROM
        || (hi - lo) * BRACKET_SPAN > n
    {
        return None;
    }
    let (s, d) = sample_for(n);
    // An evenly spaced sample (positions do not depend on the values), sorted by insertion.
    let mut sample = [v[0]; 127];
    let sample = &mut sample[..s];
    for (i, x) in sample.iter_mut().enumerate() {
        *x = v[(2 * i + 1) * n / (2 * s)];
    }
    insertion_sort(sample);
    // Sample element `j` sits near rank `(j + 1) n / (s + 1) - 1`.
    let at = |r: usize| (r + 1) * (s + 1) / n;
    let (j1, j2) = (at(lo).checked_sub(d + 1), at(hi) + d);
    let (p1, p2) = (j1.map(|j| sample[j]), sample.get(j2).copied());
    if spare.len() < n {
        spare.resize(n, v[0]);
    }
    let (mut below, mut m) = (0, 0);
    let sp = spare.as_mut_ptr();
    for &x in v.iter() {
        let under = p1.is_some_and(|p| order(&x, &p) == Ordering::Less);
        let over = p2.is_some_and(|p| order(&x, &p) == Ordering::Greater);
        // SAFETY: `m` counts the elements kept before this one, so `m < n <=
        // spare.len()`. (Written always, kept when inside: no branch on the data.)
        unsafe { *sp.add(m) = x };
        below += usize::from(under);
        m += usize::from(!under && !over);
    }
    if below > lo || below + m <= hi {
        return None;
    }
    v[..m].copy_from_slice(&spare[..m]);
    Some((below, m))
}

/// numpy's quantile methods (`np.quantile(a, q, method=...)`): Hyndman and Fan's nine
/// (1996) and numpy's four others.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum QuantileMethod {
    /// H&F 1: the smallest element whose empirical CDF reaches `q`.
    InvertedCdf,
    /// H&F 2: as `InvertedCdf`, averaging at the steps.
    AveragedInvertedCdf,
    /// H&F 3: the nearest element, the even one at a tie.
    ClosestObservation,
    /// H&F 4: linear interpolation of the empirical CDF.
    InterpolatedInvertedCdf,
    /// H&F 5: piecewise linear through the midpoints of the steps.
    Hazen,
    /// H&F 6: `p_k = k / (n + 1)`.
    Weibull,
    /// H&F 7, numpy's default: `(n - 1) * q`.
    Linear,
    /// H&F 8: approximately median-unbiased.
    MedianUnbiased,
    /// H&F 9: approximately unbiased for normal data.
    NormalUnbiased,
    /// The element at `floor((n - 1) * q)`.
    Lower,
    /// The element at `ceil((n - 1) * q)`.
    Higher,
    /// The mean of `Lower` and `Higher`.
    Midpoint,
    /// The element at `(n - 1) * q` rounded half to even.
    Nearest,
}

/// Where a quantile lies among an output's sorted numbers: the element at `prev`, or
/// interpolated between `prev` and `next` by `gamma`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Position {
    pub prev: usize,
    pub next: usize,
    /// `None`: the element at `prev` itself (numpy's discrete methods).
    pub gamma: Option<f64>,
}

impl QuantileMethod {
    /// Every method, in numpy's order.
    pub const ALL: [QuantileMethod; 13] = [
        Self::InvertedCdf,
        Self::AveragedInvertedCdf,
        Self::ClosestObservation,
        Self::InterpolatedInvertedCdf,
        Self::Hazen,
        Self::Weibull,
        Self::Linear,
        Self::MedianUnbiased,
        Self::NormalUnbiased,
        Self::Lower,
        Self::Higher,
        Self::Midpoint,
        Self::Nearest,
    ];

    /// numpy's name of the method (`"linear"`, `"median_unbiased"`...).
    pub fn name(self) -> &'static str {
        match self {
            Self::InvertedCdf => "inverted_cdf",
            Self::AveragedInvertedCdf => "averaged_inverted_cdf",
            Self::ClosestObservation => "closest_observation",
            Self::InterpolatedInvertedCdf => "interpolated_inverted_cdf",
            Self::Hazen => "hazen",
            Self::Weibull => "weibull",
            Self::Linear => "linear",
            Self::MedianUnbiased => "median_unbiased",
            Self::NormalUnbiased => "normal_unbiased",
            Self::Lower => "lower",
            Self::Higher => "higher",
            Self::Midpoint => "midpoint",
            Self::Nearest => "nearest",
        }
    }

    /// The method numpy calls `name`.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.name() == name)
    }

    /// The position of quantile `q` (in `[0, 1]`) among `n >= 1` sorted numbers.
    pub(crate) fn position(self, n: usize, q: f64) -> Position {
        let nf = n as f64;
        // numpy's `_compute_virtual_index`: `n * q + (alpha + q * (1 - alpha - beta)) - 1`.
        let h_f = |alpha: f64, beta: f64| nf * q + (alpha + q * (1.0 - alpha - beta)) - 1.0;
        let take = |i: f64| {
            let i = i.max(0.0) as usize;
            Position {
                prev: i,
                next: i,
                gamma: None,
            }
        };
        // numpy's `_discrete_interpolation_to_boundaries`: the previous index where `keep`
        // holds of (gamma, index), else the next; clipped at 0.
        let boundary = |index: f64, keep: &dyn Fn(f64, f64) -> bool| {
            let prev = index.floor();
            take(if keep(index - prev, index) {
                prev
            } else {
                prev + 1.0
            })
        };
        let index = match self {
            Self::InvertedCdf => return boundary(nf * q - 1.0, &|g, _| g == 0.0),
            Self::ClosestObservation => {
                return boundary(nf * q - 1.0 - 0.5, &|g, i| {
                    g == 0.0 && i.floor().rem_euclid(2.0) == 1.0
                })
            }
            Self::Lower => return take(((nf - 1.0) * q).floor()),
            Self::Higher => return take(((nf - 1.0) * q).ceil()),
            Self::Nearest => return take(((nf - 1.0) * q).round_ties_even()),
            Self::AveragedInvertedCdf => nf * q - 1.0,
            Self::InterpolatedInvertedCdf => h_f(0.0, 1.0),
            Self::Hazen => h_f(0.5, 0.5),
            Self::Weibull => h_f(0.0, 0.0),
            Self::Linear => (nf - 1.0) * q,
            Self::MedianUnbiased => h_f(1.0 / 3.0, 1.0 / 3.0),
            Self::NormalUnbiased => h_f(3.0 / 8.0, 3.0 / 8.0),
            Self::Midpoint => {
                let v = (nf - 1.0) * q;
                0.5 * (v.floor() + v.ceil())
            }
        };
        // numpy's `_get_indexes`: past the last index, the last element; before the first,
        // the first.
        let (prev, next) = if index >= nf - 1.0 {
            (-1.0, -1.0)
        } else if index < 0.0 {
            (0.0, 0.0)
        } else {
            (index.floor(), index.floor() + 1.0)
        };
        let rank = |i: f64| if i < 0.0 { n - 1 } else { i as usize };
        // numpy's `_get_gamma` with the method's `fix_gamma`.
        let gamma = index - prev;
        let gamma = match self {
            Self::AveragedInvertedCdf => {
                if gamma == 0.0 {
                    0.5
                } else {
                    1.0
                }
            }
            Self::Midpoint => {
                if index % 1.0 == 0.0 {
                    0.0
                } else {
                    0.5
                }
            }
            _ => gamma,
        };
        Position {
            prev: rank(prev),
            next: rank(next),
            gamma: Some(gamma),
        }
    }
}

/// numpy's `_lerp(a, b, t)`: `a + (b - a) * t`, or from `t >= 0.5` `b - (b - a) * (1 - t)`.
pub(crate) fn lerp(a: f64, b: f64, t: f64) -> f64 {
    let d = b - a;
    if t >= 0.5 {
        b - d * (1.0 - t)
    } else {
        a + d * t
    }
}

/// The quantile at `p` of an output whose elements at `p.prev` and `p.next` are `a` and `b`.
pub(crate) fn quantile_value(p: Position, a: f64, b: f64) -> f64 {
    match p.gamma {
        None => a,
        Some(g) => lerp(a, b, g),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small deterministic generator (xorshift).
    fn data(n: usize, seed: u64, modulo: u64) -> Vec<f64> {
        let mut s = seed.max(1);
        (0..n)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                (s % modulo) as f64 - (modulo / 2) as f64
            })
            .collect()
    }

    /// `answer` on a copy of `v` gives `want` (sorted `v`) at `ranks`.
    fn check_answer(v: &[f64], want: &[f64], ranks: &[usize]) {
        let (mut buf, mut out) = (v.to_vec(), vec![0.0; ranks.len()]);
        answer(
            &mut buf,
            v.len(),
            ranks,
            &mut Vec::new(),
            &mut Vec::new(),
            &mut out,
        );
        for (&r, &o) in ranks.iter().zip(&out) {
            assert_eq!(o, want[r], "n {} rank {r}", v.len());
        }
    }

    #[test]
    fn selected_ranks_match_a_sort() {
        for (n, modulo) in [
            (1, 10),
            (2, 10),
            (7, 3),
            (100, 1000),
            (1000, 5),
            (5000, 1 << 40),
        ] {
            let v = data(n, n as u64 * 31 + 7, modulo);
            let mut want = v.clone();
            want.sort_by(|a, b| a.partial_cmp(b).unwrap());
            for ranks in [
                vec![0],
                vec![n - 1],
                vec![n / 2, n / 3, n / 2],
                (0..n).step_by(n.div_ceil(40)).collect(),
                // Neighbours of the middle rank (placed by a scan of its side).
                vec![n.saturating_sub(2) / 2, n / 2],
                vec![n / 2, (n / 2 + 1).min(n - 1)],
                (n.saturating_sub(3)..n).collect(),
                vec![0, 1.min(n - 1), n / 2, n - 1],
            ] {
                check_answer(&v, &want, &ranks);
            }
        }
    }

    /// `partition_at` at every level moves the same elements to the same places as the
    /// scalar `partition`: f64 and f32, below or at most the pivot, on lengths around the
    /// vectors' (the tail after the last whole vector) with ties, signed zeros and
    /// infinities, the pivot an element or not. Prints the levels it ran.
    #[test]
    fn vector_partitions_are_the_scalar_ones() {
        fn check<T: Element + std::fmt::Debug>(v: &[T], p: T, le: bool, what: &str) {
            let mut want = v.to_vec();
            let m = if le {
                partition(&mut want, &mut Vec::new(), |x| {
                    order(&x, &p) != Ordering::Greater
                })
            } else {
                partition(&mut want, &mut Vec::new(), |x| {
                    order(&x, &p) == Ordering::Less
                })
            };
            let mut got = v.to_vec();
            assert_eq!(partition_at(&mut got, &mut Vec::new(), p, le), m, "{what}");
            assert!(
                got.iter()
                    .zip(&want)
                    .all(|(a, b)| a.to_f64().to_bits() == b.to_f64().to_bits()),
                "{what}: {got:?} against {want:?}"
            );
        }
        let levels = crate::simd::available_simd_levels();
        println!("partition_at at levels {levels:?}");
        for level in levels {
            crate::simd::with_simd_level(level, || {
                for n in (PARTITION_FROM..PARTITION_FROM + 40).chain([100, 1000]) {
                    for (k, v) in hard_data(n).into_iter().enumerate() {
                        let mut v = v;
                        v[n / 3] = f64::INFINITY;
                        v[n / 5] = f64::NEG_INFINITY;
                        for p in [v[n / 2], v[0], 0.0, -0.0, 0.5, f64::INFINITY] {
                            for le in [false, true] {
                                let what = format!("{level:?} n {n} data {k} p {p} le {le}");
                                check(&v, p, le, &what);
                                let v32: Vec<f32> = v.iter().map(|&x| x as f32).collect();
                                check(&v32, p as f32, le, &what);
                            }
                        }
                    }
                }
            });
        }
    }

    /// A bracket, where it holds, gives the sorted order's values at the wanted ranks, and
    /// where it fails leaves the buffer as it was; on hard data, at its sizes' edges, for a
    /// median's one or two ranks, a quantile's neighbours and ranks at the ends. Both
    /// outcomes are seen: a sample placed on the largest elements fails it.
    #[test]
    fn brackets_keep_the_wanted_ranks() {
        let (mut held, mut failed) = (0, 0);
        for n in [BRACKET_FROM - 1, BRACKET_UP_TO + 1] {
            let mut v = data(n, 3, 1000);
            assert_eq!(bracket(&mut v, &[n / 2], &mut Vec::new()), None, "n {n}");
        }
        for n in [
            BRACKET_FROM,
            BRACKET_FROM + 1,
            5000,
            8191,
            8192,
            BRACKET_UP_TO,
        ] {
            let mut cases = hard_data(n);
            // The sample's positions hold the largest elements: its pivots lie above the
            // middle, so a median is below the bracket.
            let (s, _) = sample_for(n);
            let mut skew = data(n, 11, 1000);
            for i in 0..s {
                skew[(2 * i + 1) * n / (2 * s)] = 1e9 + i as f64;
            }
            cases.push(skew);
            for v in cases {
                let mut want = v.clone();
                want.sort_by(order::<f64>);
                for ranks in [
                    vec![n / 2],
                    vec![n / 2 - 1, n / 2],
                    vec![n / 3, n / 3 + 1, n / 3 + 2],
                    vec![0],
                    vec![n - 2, n - 1],
                ] {
                    let mut buf = v.clone();
                    match bracket(&mut buf, &ranks, &mut Vec::new()) {
                        Some((first, m)) => {
                            held += 1;
                            let mut kept = buf[..m].to_vec();
                            kept.sort_by(order::<f64>);
                            assert!(
                                kept.iter()
                                    .zip(&want[first..first + m])
                                    .all(|(a, b)| a.to_bits() == b.to_bits()
                                        || (*a == 0.0 && *b == 0.0)),
                                "n {n} ranks {ranks:?}: the kept elements are not ranks \
                                 {first}.."
                            );
                            assert!(ranks.iter().all(|&r| (first..first + m).contains(&r)));
                        }
                        None => {
                            failed += 1;
                            assert!(
                                buf.iter().zip(&v).all(|(a, b)| a.to_bits() == b.to_bits()),
                                "n {n}: a failed bracket changed the buffer"
                            );
                        }
                    }
                    check_answer(&v, &want, &ranks);
                }
            }
        }
        // Of 6 sizes x 9 inputs x 5 rank sets, the skewed sample's medians (and more) fail.
        assert!(held > 200 && failed >= 12, "held {held}, failed {failed}");
    }

    /// `select_nth` places every rank, keeps the multiset (signed zeros included: bits
    /// compared), and leaves no greater element left of the rank and no smaller right of
    /// it, on data that defeats naive pivots: sorted, reversed, organ pipe, all equal, few
    /// distinct values, zeros of both signs; lengths around `PARTITION_FROM` and larger.
    /// Inputs that trouble quickselects: random, sorted, reversed, organ pipe, all equal,
    /// three values, signed zeros, five values in a cycle.
    fn hard_data(n: usize) -> Vec<Vec<f64>> {
        vec![
            data(n, n as u64 + 3, 1 << 40),
            (0..n).map(|i| i as f64).collect(),
            (0..n).rev().map(|i| i as f64).collect(),
            (0..n).map(|i| i.min(n - i) as f64).collect(),
            vec![2.5; n],
            data(n, n as u64 + 5, 3),
            (0..n)
                .map(|i| if i % 3 == 0 { -0.0 } else { 0.0 })
                .collect(),
            (0..n).map(|i| ((i * 7919) % 5) as f64 - 2.0).collect(),
        ]
    }

    /// Every rank of `ranks` in `w` is the sorted order's, with nothing greater before it
    /// or smaller after it, and `w` holds the elements of `v`.
    fn check_ranks<T: Element + std::fmt::Debug>(w: &[T], v: &[T], ranks: &[usize], what: &str) {
        let mut sorted = v.to_vec();
        sorted.sort_by(order::<T>);
        for &r in ranks {
            assert!(order(&w[r], &sorted[r]).is_eq(), "{what}: rank {r}");
            assert!(
                w[..r].iter().all(|x| order(x, &w[r]).is_le()),
                "{what}: rank {r}"
            );
            assert!(
                w[r + 1..].iter().all(|x| order(x, &w[r]).is_ge()),
                "{what}: rank {r}"
            );
        }
        let mut a = w.to_vec();
        a.sort_by(order::<T>);
        assert!(
            a.iter().zip(&sorted).all(|(x, y)| order(x, y).is_eq()),
            "{what}: the elements changed"
        );
    }

    #[test]
    fn select_buckets_places_every_rank() {
        let mut spare = Vec::new();
        for n in [511, 512, 600, 1000, 4000, 4099, 1 << 16, (1 << 16) + 1] {
            let mut cases = hard_data(n);
            // Skewed: one huge outlier, two at both ends, a heavy tail, the largest floats
            // (a range beyond the largest float), mostly one value.
            let base = data(n, n as u64 + 11, 1 << 20);
            let mut outlier = base.clone();
            outlier[7] = 1e300;
            cases.push(outlier);
            let mut two = base.clone();
            two[3] = -1e15;
            two[n / 2] = 1e15;
            two[n - 1] = 1e15;
            cases.push(two);
            cases.push(base.iter().map(|x| (x / 2e5).exp()).collect());
            cases.push(base.iter().map(|x| x.signum() * f64::MAX).collect());
            cases.push(
                (0..n)
                    .map(|i| if i % 97 == 0 { i as f64 } else { 1.0 })
                    .collect(),
            );
            for v in cases {
                for ranks in [
                    (0..n).step_by(20).collect::<Vec<_>>(),
                    (0..n).step_by(n.div_ceil(100)).chain([n - 1]).collect(),
                    (0..n.min(40)).collect(),
                ] {
                    for levels in [1, BUCKET_LEVELS] {
                        let mut w = v.clone();
                        select_buckets(&mut w, 0, &ranks, &mut spare, levels);
                        check_ranks(&w, &v, &ranks, &format!("n {n} levels {levels}"));
                    }
                }
            }
        }
        // 64-bit integers, whose conversion to f64 rounds neighbours together, near the ends.
        let n = 3000;
        let v: Vec<i64> = data(n, 5, 1 << 20)
            .iter()
            .enumerate()
            .map(|(i, x)| {
                if i % 2 == 0 {
                    i64::MAX - x.abs() as i64
                } else {
                    i64::MIN + x.abs() as i64
                }
            })
            .collect();
        let ranks: Vec<usize> = (0..n).step_by(7).collect();
        let mut w = v.clone();
        let mut spare = Vec::new();
        select_buckets(&mut w, 0, &ranks, &mut spare, BUCKET_LEVELS);
        check_ranks(&w, &v, &ranks, "i64 near the ends");
        let v: Vec<u8> = (0..n).map(|i| (i * 7919 % 251) as u8).collect();
        let mut w = v.clone();
        let mut spare = Vec::new();
        select_buckets(&mut w, 0, &ranks, &mut spare, BUCKET_LEVELS);
        check_ranks(&w, &v, &ranks, "u8");
    }

    #[test]
    fn select_dense_places_every_rank_on_hard_data() {
        let mut spare = Vec::new();
        for n in [1, 2, 31, 32, 33, 100, 365, 1000, 4099] {
            for v in hard_data(n) {
                let mut want: Vec<u64> = v.iter().map(|x| x.to_bits()).collect();
                want.sort_unstable();
                let mut sorted = v.clone();
                sorted.sort_by(|a, b| a.partial_cmp(b).unwrap());
                let rank_sets: Vec<Vec<usize>> = vec![
                    (0..n).collect(),
                    (0..n).step_by(20).collect(),
                    (0..n.min(30)).collect(),
                    (n.saturating_sub(30)..n).collect(),
                    (0..n).step_by(n.div_ceil(100)).chain([n - 1]).collect(),
                ];
                // depth 0 and 1: the sort that ends pivots splitting badly.
                for depth in [0, 1, steps_for(n)] {
                    for mut ranks in rank_sets.clone() {
                        ranks.dedup();
                        let mut w = v.clone();
                        select_dense(&mut w, 0, &ranks, &mut spare, depth);
                        for &r in &ranks {
                            assert_eq!(w[r], sorted[r], "n {n} rank {r} depth {depth}");
                            assert!(w[..r].iter().all(|x| *x <= w[r]), "n {n} rank {r}");
                            assert!(w[r + 1..].iter().all(|x| *x >= w[r]), "n {n} rank {r}");
                        }
                        let mut bits: Vec<u64> = w.iter().map(|x| x.to_bits()).collect();
                        bits.sort_unstable();
                        assert_eq!(bits, want, "n {n} depth {depth}: the elements changed");
                    }
                }
            }
        }
    }

    #[test]
    fn select_nth_places_any_rank_on_hard_data() {
        let mut spare = Vec::new();
        for n in [1, 2, 31, 32, 33, 100, 127, 128, 129, 365, 1000, 4099] {
            for v in hard_data(n) {
                let mut want: Vec<u64> = v.iter().map(|x| x.to_bits()).collect();
                want.sort_unstable();
                let mut sorted = v.clone();
                sorted.sort_by(|a, b| a.partial_cmp(b).unwrap());
                for r in (0..n).step_by((n / 17).max(1)).chain([n - 1]) {
                    let mut w = v.clone();
                    select_nth(&mut w, r, &mut spare);
                    assert_eq!(w[r], sorted[r], "n {n} rank {r}");
                    assert!(w[..r].iter().all(|x| *x <= w[r]), "n {n} rank {r}: left");
                    assert!(
                        w[r + 1..].iter().all(|x| *x >= w[r]),
                        "n {n} rank {r}: right"
                    );
                    let mut bits: Vec<u64> = w.iter().map(|x| x.to_bits()).collect();
                    bits.sort_unstable();
                    assert_eq!(bits, want, "n {n} rank {r}: the elements changed");
                }
            }
        }
    }

    #[test]
    fn nans_are_left_out_and_sort_last() {
        let src = [3.0, f64::NAN, 1.0, f64::NAN, 2.0];
        let mut buf = [0.0; 5];
        let count = push_numbers(&mut buf, 0, &src);
        assert_eq!(count, 3);
        let mut out = [0.0; 4];
        answer(
            &mut buf,
            count,
            &[0, 2, 3, 1],
            &mut Vec::new(),
            &mut Vec::new(),
            &mut out,
        );
        assert_eq!(out[0], 1.0);
        assert_eq!(out[1], 3.0);
        assert!(out[2].is_nan());
        assert_eq!(out[3], 2.0);
    }

    #[test]
    fn integers_keep_every_element() {
        let src = [5i64, i64::MIN, i64::MAX, 0, -1];
        let mut buf = [0i64; 5];
        let count = push_numbers(&mut buf, 0, &src);
        assert_eq!(count, 5);
        let mut out = [0i64; 5];
        answer(
            &mut buf,
            count,
            &[4, 3, 2, 1, 0],
            &mut Vec::new(),
            &mut Vec::new(),
            &mut out,
        );
        assert_eq!(out, [i64::MAX, 5, 0, -1, i64::MIN]);
    }
    /// The quantile of the numbers `0, 1, ..., n - 1` at `p`.
    fn at_ranks(p: Position) -> f64 {
        quantile_value(p, p.prev as f64, p.next as f64)
    }

    #[test]
    fn quantile_positions_are_numpys() {
        // np.quantile(np.arange(n), q, method=m) for these (n, q): the value is the
        // position itself. Expected values from numpy 2.4.
        use QuantileMethod::*;
        let cases: [(QuantileMethod, usize, f64, f64); 16] = [
            (Linear, 5, 0.3, 1.2),
            (Lower, 5, 0.3, 1.0),
            (Higher, 5, 0.3, 2.0),
            (Nearest, 5, 0.375, 2.0),
            (Nearest, 5, 0.125, 0.0),
            (Midpoint, 5, 0.3, 1.5),
            (Midpoint, 5, 0.25, 1.0),
            (InvertedCdf, 4, 0.5, 1.0),
            (InvertedCdf, 4, 0.51, 2.0),
            (AveragedInvertedCdf, 4, 0.5, 1.5),
            (AveragedInvertedCdf, 4, 0.6, 2.0),
            (ClosestObservation, 4, 0.5, 1.0),
            (ClosestObservation, 4, 0.875, 3.0),
            (Hazen, 4, 0.5, 1.5),
            (Weibull, 4, 0.1, 0.0),
            (MedianUnbiased, 4, 0.9, 3.0),
        ];
        for (m, n, q, want) in cases {
            let got = at_ranks(m.position(n, q));
            assert_eq!(got, want, "{} n {n} q {q}", m.name());
        }
        for m in QuantileMethod::ALL {
            assert_eq!(QuantileMethod::from_name(m.name()), Some(m));
            for n in [1, 2, 3, 10] {
                for q in [0.0, 0.01, 0.5, 0.99, 1.0] {
                    let p = m.position(n, q);
                    assert!(p.prev < n && p.next < n, "{} n {n} q {q}: {p:?}", m.name());
                }
                assert_eq!(at_ranks(m.position(n, 0.0)), 0.0);
                assert_eq!(at_ranks(m.position(n, 1.0)), (n - 1) as f64);
            }
        }
        assert_eq!(QuantileMethod::from_name("cubic"), None);
    }

    #[test]
    fn lerp_is_numpys() {
        assert_eq!(lerp(1.0, 3.0, 0.25), 1.5);
        assert_eq!(lerp(1.0, 3.0, 0.75), 2.5);
        // numpy: the same element at both ends; an infinity interpolates to NaN.
        assert_eq!(lerp(2.0, 2.0, 0.3), 2.0);
        assert!(lerp(f64::INFINITY, f64::INFINITY, 0.3).is_nan());
    }
}
