//! The weighted average's walk (`average` with weights): two arrays of one shape, the data
//! and its weights (weights along some axes arrive broadcast: stride 0 elsewhere), any byte
//! strides, each of any element type, reduced over some axes into one [`WeightedPartial`]
//! (`Σ a·w`, `Σ w`) per output, in one pass over both.
//!
//! - **Joint axes.** Every axis of length > 1 carries both byte strides. The reduced axes are
//!   ordered by the data's stride, largest first, and merged where both arrays step through
//!   them as one (a C array with weights of its own shape reduces as one run).
//! - **Lane path** when a reduced axis is the data's fastest: each output's reduced positions
//!   are read run by run, `CHUNK` elements at a time, into the kernel's lanes. f64 runs of
//!   stride 8 are read in place; everything else is converted to f64 in a stack buffer first
//!   (`walk::run_f64`), so the SIMD kernel exists once per level, for f64 slices only.
//! - **Vertical path** when a kept axis is the fastest: tiles of `DOT_TILE` outputs along it
//!   take whole rows, four reduced positions at a time (`DotTile::push_rows`).
//! - **Units** depend only on the shape: long reductions are cut into pieces of `UNIT`
//!   positions, short ones grouped; the vertical path cuts the reduced positions into up to 16
//!   blocks when there are few tiles. Pieces and blocks combine in a fixed tree, so results
//!   are the same at every thread count.

use crate::driver::{map_units, tree_combine_in, UNIT};
use crate::element::{Bool8, ElemType};
use crate::kernels::exact::ExactSum;
use crate::kernels::weighted::{DotLanes, DotTile, WeightedPartial, DOT_TILE};
use crate::partials::FloatPartial;
use crate::simd::{dispatch, simd_level, SimdLevel};
use crate::walk::{
    for_each_joint_row, for_each_joint_segment, gather_f64, run_f64, JointAxis, ReadF64, SharedPtr,
};
use crate::ReduceError;
use pulp::{Simd, WithSimd};

/// Elements converted (or read in place) per kernel call.
const CHUNK: usize = 512;
// A vertical tile's row is one run into a CHUNK buffer.
const _: () = assert!(CHUNK >= DOT_TILE);

/// Reduced positions the vertical path adds at once, each output's state in registers
/// across them (`DotTile::push_rows`).
const BATCH: usize = 4;

/// Most blocks the vertical path cuts the reduced positions into.
const MAX_BLOCKS: usize = 16;

/// Outputs one vertical task keeps (8 tiles, 128 KiB of states, in L2): each reduced
/// position's row is read along this span in one go, so memory is read in long runs (a task
/// per 512-output tile read 4 KiB pieces 32 KiB apart, and waited on memory: 55% of its
/// time on one load, perf).
const SPAN: usize = 8 * DOT_TILE;

/// One of the two arrays: its first element's address, element type and byte strides (one
/// per axis of the common shape).
#[derive(Clone, Copy)]
pub(crate) struct Operand<'a> {
    pub ptr: *const u8,
    pub elem: ElemType,
    pub strides: &'a [isize],
}

/// How one operand is read: its base, whether it is f64 (read in place when contiguous), and
/// its converter.
#[derive(Clone, Copy)]
struct Reader {
    base: SharedPtr<u8>,
    f64_data: bool,
    read: ReadF64,
}

impl Reader {
    fn of(op: &Operand<'_>) -> Self {
        let read: ReadF64 = match op.elem {
            ElemType::Bool => gather_f64::<Bool8>,
            ElemType::I8 => gather_f64::<i8>,
            ElemType::I16 => gather_f64::<i16>,
            ElemType::I32 => gather_f64::<i32>,
            ElemType::I64 => gather_f64::<i64>,
            ElemType::U8 => gather_f64::<u8>,
            ElemType::U16 => gather_f64::<u16>,
            ElemType::U32 => gather_f64::<u32>,
            ElemType::U64 => gather_f64::<u64>,
            ElemType::F32 => gather_f64::<f32>,
            ElemType::F64 => gather_f64::<f64>,
        };
        Self {
            base: SharedPtr(op.ptr),
            f64_data: op.elem == ElemType::F64,
            read,
        }
    }

    /// Elements `i0 .. i0 + len` of the run at byte offset `off`, byte stride `stride`.
    ///
    /// # Safety
    /// The run's elements are elements of this operand (its memory holds them).
    #[inline(always)]
    unsafe fn run<'b>(
        &self,
        off: isize,
        i0: usize,
        len: usize,
        stride: isize,
        buf: &'b mut [f64; CHUNK],
    ) -> &'b [f64] {
        // SAFETY: forwarded from our contract; `f64_data` says the elements are f64.
        unsafe {
            run_f64(
                self.base.0,
                off,
                i0,
                len,
                stride,
                self.f64_data,
                self.read,
                buf,
            )
        }
    }
}

/// The byte strides that broadcast weights of shape `w_shape` (byte strides `w_strides`) to
/// `shape`: their own when the shapes agree, else (numpy's `average` rule) each weights axis
/// `i` along axis `axes[i]` of the data, in the order `axes` names them, stride 0 elsewhere.
pub(crate) fn weight_strides(
    shape: &[usize],
    axes: Option<&[isize]>,
    w_shape: &[usize],
    w_strides: &[isize],
) -> Result<Vec<isize>, ReduceError> {
    if w_shape == shape {
        return Ok(w_strides.to_vec());
    }
    let axes = axes.ok_or(ReduceError::WeightsShape)?;
    crate::layout::resolve_axes(axes, shape.len())?;
    let ndim = shape.len() as isize;
    let given: Vec<usize> = axes
        .iter()
        .map(|&k| (if k < 0 { k + ndim } else { k }) as usize)
        .collect();
    if w_shape.len() != given.len() || given.iter().zip(w_shape).any(|(&k, &n)| shape[k] != n) {
        return Err(ReduceError::WeightsShape);
    }
    let mut s = vec![0isize; shape.len()];
    for (i, &k) in given.iter().enumerate() {
        s[k] = w_strides[i];
    }
    Ok(s)
}

/// The weighted sums of `a` and `w` (same `shape`, their own strides and types) over the
/// reduced `axes` (sorted, distinct, in range), one per output in C order of the kept axes.
///
/// # Safety
/// Every element reachable through each operand's (ptr, shape, strides) must be a valid,
/// aligned, initialised element of its type, unchanged until this returns.
pub(crate) unsafe fn weighted_partials(
    a: Operand<'_>,
    w: Operand<'_>,
    shape: &[usize],
    axes: &[usize],
) -> Vec<WeightedPartial> {
    let reduced = |k: usize| axes.contains(&k);
    let kept_lens: Vec<usize> = (0..shape.len())
        .filter(|&k| !reduced(k))
        .map(|k| shape[k])
        .collect();
    let m: usize = kept_lens.iter().product();
    let nr: usize = axes.iter().map(|&k| shape[k]).product();
    if m == 0 || nr == 0 {
        return vec![WeightedPartial::EMPTY; m];
    }
    let out_strides = crate::layout::c_strides(&kept_lens);
    let mut kept: Vec<JointAxis<3>> = Vec::new();
    let mut red: Vec<JointAxis<2>> = Vec::new();
    let mut j = 0;
    for (k, &len) in shape.iter().enumerate() {
        let (sa, sw) = (a.strides[k], w.strides[k]);
        if reduced(k) {
            if len > 1 {
                red.push(JointAxis {
                    len,
                    strides: [sa, sw],
                });
            }
        } else {
            if len > 1 {
                kept.push(JointAxis {
                    len,
                    strides: [sa, sw, out_strides[j]],
                });
            }
            j += 1;
        }
    }
    red.sort_by_key(|x| std::cmp::Reverse(x.strides[0].unsigned_abs()));
    let red = merge(red);
    let walk = Walk {
        a: Reader::of(&a),
        w: Reader::of(&w),
        level: simd_level(),
    };
    let fastest_kept = kept
        .iter()
        .enumerate()
        .min_by_key(|(i, x)| (x.strides[0].unsigned_abs(), std::cmp::Reverse(*i)))
        .map(|(i, x)| (i, x.strides[0].unsigned_abs()));
    let inner = red.last().map(|x| x.strides[0].unsigned_abs());
    let mut parts = match fastest_kept {
        // A kept axis is faster than every reduced one (or nothing is reduced).
        Some((k, s)) if inner.is_none_or(|r| s < r) => walk.vertical(&kept, k, &red, m, nr),
        // A reduced axis is the fastest, or no axis is longer than 1.
        _ => walk.lanes(&kept, &red, m, nr),
    };
    // A sum that is not finite: an infinite or NaN element or product (numpy's too), or a
    // lane's running sum past the largest float, then `inf - inf` (NaN where numpy's order
    // may stay finite: weights 9e307, -9e307, 3 broadcast over two rows). Those outputs are
    // summed again exactly, which overflows only where the exact sum does.
    for (o, p) in parts.iter_mut().enumerate() {
        if !(p.num.hi.is_finite() && p.den.hi.is_finite()) {
            *p = walk.exact(&kept, &red, o, nr);
        }
    }
    parts
}

/// The reduced axes but the last, and the last (the run; one element of stride 0 where
/// nothing is reduced).
fn split_inner(red: &[JointAxis<2>]) -> (&[JointAxis<2>], JointAxis<2>) {
    match red.split_last() {
        Some((inner, outer)) => (outer, *inner),
        None => (
            red,
            JointAxis {
                len: 1,
                strides: [0, 0],
            },
        ),
    }
}

/// Merge consecutive reduced axes that both arrays step through as one.
fn merge(axes: Vec<JointAxis<2>>) -> Vec<JointAxis<2>> {
    let mut out: Vec<JointAxis<2>> = Vec::with_capacity(axes.len());
    for x in axes {
        match out.last_mut() {
            Some(last) if (0..2).all(|i| last.strides[i] == x.strides[i] * x.len as isize) => {
                last.len *= x.len;
                last.strides = x.strides;
            }
            _ => out.push(x),
        }
    }
    out
}

#[derive(Clone, Copy)]
struct Walk {
    a: Reader,
    w: Reader,
    level: SimdLevel,
}

impl Walk {
    /// The reduced positions `span.0 .. span.1` of the output whose elements start at byte
    /// offsets `at` (data, weights; `at[2]`, the output's, unused), the last reduced axis
    /// `inner` and the others `outer`: `f(data, weights)` on runs of at most `CHUNK` f64
    /// each, in order (read in place or converted into `bufs`).
    #[inline(always)]
    fn for_each_chunk(
        self,
        at: [isize; 3],
        outer: &[JointAxis<2>],
        inner: JointAxis<2>,
        span: (usize, usize),
        bufs: &mut ([f64; CHUNK], [f64; CHUNK]),
        mut f: impl FnMut(&[f64], &[f64]),
    ) {
        let (ba, bw) = bufs;
        for_each_joint_segment(
            outer,
            inner.len,
            span.0,
            span.1,
            #[inline(always)]
            |r, i0, len| {
                let (oa, ow) = (at[0] + r[0], at[1] + r[1]);
                let mut i = i0;
                while i < i0 + len {
                    let n = CHUNK.min(i0 + len - i);
                    // SAFETY: elements `i .. i + n` of a reduced run of this output: inside
                    // both arrays (the joint axes are theirs, the indices within lengths).
                    let (ra, rw) = unsafe {
                        (
                            self.a.run(oa, i, n, inner.strides[0], ba),
                            self.w.run(ow, i, n, inner.strides[1], bw),
                        )
                    };
                    f(ra, rw);
                    i += n;
                }
            },
        );
    }

    /// Output `o`'s partial from exact sums ([`ExactSum`]) of its products, each split by
    /// TwoProduct into `p + e` (`e` exact unless the product is near underflow, as in the
    /// lanes), and of its weights: infinities and NaN (elements or products) as IEEE sums
    /// of them. Scalar: for the rare outputs whose lanes overflowed.
    fn exact(
        self,
        kept: &[JointAxis<3>],
        red: &[JointAxis<2>],
        o: usize,
        nr: usize,
    ) -> WeightedPartial {
        let (outer, inner) = split_inner(red);
        let (mut num, mut den) = (ExactSum::new(), ExactSum::new());
        let mut bufs = ([0.0; CHUNK], [0.0; CHUNK]);
        for_each_joint_row(kept, o, 1, |at| {
            self.for_each_chunk(at, outer, inner, (0, nr), &mut bufs, |ra, rw| {
                for (&x, &y) in ra.iter().zip(rw) {
                    let p = x * y;
                    num.add(p);
                    if p.is_finite() {
                        num.add(x.mul_add(y, -p));
                    }
                    den.add(y);
                }
            });
        });
        let partial = |s: &ExactSum| {
            let (hi, lo) = s.partial();
            FloatPartial {
                hi,
                lo,
                n: 0,
                err: 0.0,
            }
        };
        WeightedPartial {
            num: partial(&num),
            den: partial(&den),
        }
    }

    /// The lane path: outputs (kept axes, C order) each reduced over `red`, whose last axis
    /// is the run.
    fn lanes(
        self,
        kept: &[JointAxis<3>],
        red: &[JointAxis<2>],
        m: usize,
        nr: usize,
    ) -> Vec<WeightedPartial> {
        let (outer, inner) = split_inner(red);
        let task = |first: usize, count: usize, from: usize, to: usize| {
            let op = LaneTask {
                walk: self,
                kept,
                outer,
                inner,
                first,
                count,
                from,
                to,
            };
            dispatch(self.level, op)
        };
        if nr >= UNIT {
            // Long reductions: pieces of UNIT positions, combined per output in a tree.
            let pieces = nr.div_ceil(UNIT);
            let parts = map_units(m * pieces, m * nr, &|t| {
                let (o, q) = (t / pieces, t % pieces);
                task(o, 1, q * UNIT, nr.min((q + 1) * UNIT))[0]
            });
            let mut parts = parts;
            parts
                .chunks_mut(pieces)
                .map(|c| tree_combine_in(c, WeightedPartial::combine).unwrap())
                .collect()
        } else {
            let group = (UNIT / nr).max(1);
            map_units(m.div_ceil(group), m * nr, &|t| {
                let first = t * group;
                task(first, group.min(m - first), 0, nr)
            })
            .concat()
        }
    }

    /// The vertical path: `kept[k]` is the fastest axis; tiles of `DOT_TILE` outputs along it
    /// take one row per reduced position.
    fn vertical(
        self,
        kept: &[JointAxis<3>],
        k: usize,
        red: &[JointAxis<2>],
        m: usize,
        nr: usize,
    ) -> Vec<WeightedPartial> {
        let along = kept[k];
        let others: Vec<JointAxis<3>> = kept
            .iter()
            .enumerate()
            .filter(|&(i, _)| i != k)
            .map(|(_, x)| *x)
            .collect();
        let rows = m / along.len;
        let spans = along.len.div_ceil(SPAN);
        let base = rows * spans;
        // Few tiles of many positions: cut the positions too (by shape only).
        let blocks = if base >= MAX_BLOCKS {
            1
        } else {
            (MAX_BLOCKS / base).min(nr.div_ceil(64)).max(1)
        };
        let parts = map_units(base * blocks, m * nr, &|t| {
            let (bt, b) = (t / blocks, t % blocks);
            let op = TileTask {
                walk: self,
                others: &others,
                along,
                red,
                row: bt / spans,
                j0: (bt % spans) * SPAN,
                from: b * nr / blocks,
                to: (b + 1) * nr / blocks,
            };
            dispatch(self.level, op)
        });
        let mut out = vec![WeightedPartial::EMPTY; m];
        for (bt, group) in parts.chunks(blocks).enumerate() {
            let (row, j0) = (bt / spans, (bt % spans) * SPAN);
            let mut row_out = 0;
            for_each_joint_row(&others, row, 1, |o| row_out = o[2]);
            let mut column = [WeightedPartial::EMPTY; MAX_BLOCKS];
            for j in 0..group[0].len() {
                for (c, g) in column.iter_mut().zip(group) {
                    *c = g[j];
                }
                let p = tree_combine_in(&mut column[..blocks], WeightedPartial::combine);
                out[(row_out + (j0 + j) as isize * along.strides[2]) as usize] = p.unwrap();
            }
        }
        out
    }
}

/// Outputs `first .. first + count` (C order), each over reduced positions `from..to`.
struct LaneTask<'a> {
    walk: Walk,
    kept: &'a [JointAxis<3>],
    outer: &'a [JointAxis<2>],
    inner: JointAxis<2>,
    first: usize,
    count: usize,
    from: usize,
    to: usize,
}

impl WithSimd for LaneTask<'_> {
    type Output = Vec<WeightedPartial>;

    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) -> Vec<WeightedPartial> {
        let Self {
            walk,
            inner,
            from,
            to,
            ..
        } = self;
        let mut bufs = ([0.0; CHUNK], [0.0; CHUNK]);
        let mut out = Vec::with_capacity(self.count);
        for_each_joint_row(
            self.kept,
            self.first,
            self.count,
            #[inline(always)]
            |o| {
                let mut lanes = DotLanes::new();
                walk.for_each_chunk(
                    o,
                    self.outer,
                    inner,
                    (from, to),
                    &mut bufs,
                    #[inline(always)]
                    |ra, rw| lanes.feed(simd, ra, rw),
                );
                out.push(lanes.finish());
            },
        );
        out
    }
}

/// Outputs `j0 .. j0 + SPAN` along `along` in row `row` of the other kept axes, over
/// reduced positions `from..to`.
struct TileTask<'a> {
    walk: Walk,
    others: &'a [JointAxis<3>],
    along: JointAxis<3>,
    red: &'a [JointAxis<2>],
    row: usize,
    j0: usize,
    from: usize,
    to: usize,
}

impl WithSimd for TileTask<'_> {
    type Output = Vec<WeightedPartial>;

    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) -> Vec<WeightedPartial> {
        let Self {
            walk, along, j0, ..
        } = self;
        let len = SPAN.min(along.len - j0);
        let mut row = [0isize; 3];
        for_each_joint_row(self.others, self.row, 1, |o| row = o);
        let mut tiles: Vec<Box<DotTile>> = (0..len.div_ceil(DOT_TILE))
            .map(|_| DotTile::new())
            .collect();
        let mut ba = [[0.0; CHUNK]; BATCH];
        let mut bw = [[0.0; CHUNK]; BATCH];
        // Rows of a short last batch: zeros, which add nothing (exactly).
        let zeros = [0.0; CHUNK];
        let mut pos = self.from;
        while pos < self.to {
            let k = BATCH.min(self.to - pos);
            let mut offs = [[0isize; 2]; BATCH];
            let mut i = 0;
            for_each_joint_row(self.red, pos, k, |r| {
                offs[i] = r;
                i += 1;
            });
            for (t, tile) in tiles.iter_mut().enumerate() {
                let j = t * DOT_TILE;
                let n = DOT_TILE.min(len - j);
                let mut ra: [&[f64]; BATCH] = [&zeros[..n]; BATCH];
                let mut rw: [&[f64]; BATCH] = [&zeros[..n]; BATCH];
                for (q, (bufs, off)) in ba
                    .iter_mut()
                    .zip(bw.iter_mut())
                    .zip(offs)
                    .enumerate()
                    .take(k)
                {
                    // SAFETY: elements `j0 + j .. j0 + j + n` along a kept axis at one
                    // reduced position: inside both arrays.
                    unsafe {
                        ra[q] = walk
                            .a
                            .run(row[0] + off[0], j0 + j, n, along.strides[0], bufs.0);
                        rw[q] = walk
                            .w
                            .run(row[1] + off[1], j0 + j, n, along.strides[1], bufs.1);
                    }
                }
                tile.push_rows(simd, &ra, &rw);
            }
            pos += k;
        }
        (0..len)
            .map(|j| tiles[j / DOT_TILE].partial(j % DOT_TILE))
            .collect()
    }
}
