//! The exact sum of floats, and its correct rounding: the slow path of the correctly rounded
//! float sums (see `sum.rs` for the fast one and for when this one runs).
//!
//! [`ExactSum`] is a fixed-point number wide enough for any sum of f64 values: every finite
//! f64 is an integer multiple of 2^-1074 below 2^1024, so a sum of up to 2^31 of them is an
//! integer multiple of 2^-1074 below 2^1055. It is kept as `CHUNKS` signed 64-bit digits of
//! radix 2^32 (Neal's "small superaccumulator"): adding an element adds its 53-bit
//! significand, shifted into place, to three digits without carrying; a digit has 31 bits
//! of room, so carries are propagated only every `CARRY_EVERY` additions. Infinities and NaN
//! are flags, so that the result is IEEE's: NaN if any element is NaN or both infinities
//! occur, else the infinity that occurs, else the exact sum rounded once.
//!
//! Rounding ([`ExactSum::round`]) reads the leading bits of the magnitude, the next bit and
//! whether any bit below is set (the sticky bit): round to nearest, ties to even, to any
//! precision and lowest exponent (f64: 53 bits down to 2^-1074; f32: 24 bits down to
//! 2^-149), or to odd (the last kept bit set when anything was dropped), which keeps every
//! coarser rounding of the exact value (see [`ExactSum::partial`]).
//!
//! Element by element, `add` is a chain of dependent loads and stores of the digits (about
//! 7 ns an element). [`ExactSum::add_all`] adds a block at a time instead, in vector code:
//! each element is cut, exactly, into pieces on levels of 42 bits below a bound on the
//! block's magnitudes, `(r + σ) - σ` with `σ = 1.5 · 2^52 ·` the level's quantum (Rump, Ogita
//! and Oishi's ExtractScalar), and the pieces of a level add up exactly as integers in their
//! quanta, in u64 lanes. Two levels (84 bits under the bound: most data) are tried first, then
//! four (f32 values try one level of 51 bits before: it holds f32 blocks within 2^27 of the
//! bound); a block whose elements reach lower still, or with an infinity, a NaN or a magnitude
//! of 2^1013 or more, is added element by element. The levels' sums are added with `add_int`:
//! the same exact sum either way.

use super::has_fma;
use crate::simd::{dispatch, simd_level};
use crate::walk::Floats;
use pulp::{Simd, WithSimd};
use std::mem::MaybeUninit;

/// Radix-2^32 digits: 66 cover 2^-1074 .. 2^1038, two more the carries of 2^31 additions.
const CHUNKS: usize = 68;

/// Additions between two carry propagations: each adds less than 2^32 in magnitude to a
/// digit already below 2^32 after a propagation, so 2^30 of them stay below 2^63.
const CARRY_EVERY: u32 = 1 << 30;

/// Elements [`ExactSum::add_all`] cuts at a time: 2^11 pieces of at most 2^`WIDTH`
/// quanta stay below 2^53 quanta, in any lane and any order.
pub(crate) const BLOCK: usize = 2048;

/// Bits per level when there are two or more, and in [`ExactColumns`], whose totals of 2^9
/// blocks must stay below 2^62 quanta: `WIDTH + log2(BLOCK) <= 53`.
const WIDTH: i32 = 42;

/// Bits of the one level f32 blocks try first: a level's pieces are at most 2^51 quanta
/// (see [`levels`]), so `BLOCK` of them add up below 2^62 quanta, an i64. One such level
/// takes every f32 block whose magnitudes lie within 2^27 of the bound (9 bits more than a
/// level of `WIDTH`: a bound guessed `HEADROOM` bits high had left a sixth of the blocks of
/// 1e7 normals to three passes).
const NARROW_WIDTH: i32 = 51;

/// Levels of the second try (the first has two).
const LEVELS: usize = 4;

/// f32 elements [`levels`] widens at a time: whole vectors at every level (8 lanes at most).
const FEED: usize = 256;

/// Blocks whose largest biased exponent is above this take the element path: the top
/// level's σ, `1.5 · 2^(e + 53 - WIDTH)` for unbiased `e`, must stay finite.
const MAX_BIASED: u64 = 1012 + 1023;

/// The levels' exact sums of a block (see the module docs), or `None` when the block must be
/// added element by element; with the guess for the next block. `narrow`: the elements are
/// f32 values (24-bit significands, or f32 elements themselves), so one level of
/// [`NARROW_WIDTH`] bits takes every block whose magnitudes lie within 2^27 of the bound,
/// and is tried first.
///
/// `guess`: a bound `e` from the blocks before ([`next_guess`]). The block is then cut in one
/// pass with the σ of that bound, and the levels kept if every element's first piece fell in
/// the top σ's binade (which is all that the proof of [`levels`] needs of the bound) and no
/// residual is left; the guess then stays for the next block. Else, and without a guess, the
/// block is read twice: its largest magnitude first, then the levels of that bound, and the
/// guess is [`HEADROOM`] bits above that magnitude (one pass reads memory while it cuts: two
/// left the memory idle during the cut, 11.6 against 7 ms for 215 MB).
struct Levels<'a> {
    xs: Floats<'a>,
    narrow: bool,
    guess: Option<i32>,
    /// Try all `LEVELS` levels with the guess (the blocks before needed them), not two.
    wide: bool,
}

/// How the levels took a block, for the next block's first try ([`ExactSum::add_floats`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Took {
    /// One or two levels, or the element path.
    Few,
    /// All the levels, with the bound measured: the blocks after try them first.
    WideMeasured,
    /// All the levels, with the guess.
    WideGuessed,
}

/// Blocks that try all the levels first after a block that needed them ([`Took`]), before
/// one measures again (which goes back to two levels where the data allow). A block of
/// cancelling data (1e16-scale pairs around N(0, 1) values) measured its bound, failed two
/// levels and then took four: three passes, where one pass of four levels with the guess
/// does (the exact sum of 1e5 such f64: 67 us against 25 for N(0, 1) data, one Zen 4
/// thread).
const WIDE_BLOCKS: u8 = 16;

/// The levels' exact sums of a block: level `k`'s is `int[k] · 2^quantum[k]`, for the first
/// `used` levels.
#[derive(Clone, Copy, Debug)]
struct Pieces {
    int: [i64; LEVELS],
    quantum: [i32; LEVELS],
    used: usize,
}

impl Pieces {
    fn new<const L: usize>(int: [i64; L], quantum: [i32; L]) -> Self {
        let mut p = Pieces {
            int: [0; LEVELS],
            quantum: [0; LEVELS],
            used: L,
        };
        p.int[..L].copy_from_slice(&int);
        p.quantum[..L].copy_from_slice(&quantum);
        p
    }
}

/// What [`Levels`] gives: the levels' sums (`None`: add the block element by element) and
/// the guess for the next block.
type LevelsOut = (Option<Pieces>, Option<i32>, Took);

/// The guess for the block after one whose largest biased exponent is `biased`: [`HEADROOM`]
/// bits above, where its σ stays finite (`MAX_BIASED`); `None` past that (or for an
/// infinity or NaN).
fn next_guess(biased: u64) -> Option<i32> {
    (biased <= MAX_BIASED)
        .then(|| (biased.max(1) as i32 - 1023 + HEADROOM).min(MAX_BIASED as i32 - 1023))
}

impl WithSimd for Levels<'_> {
    type Output = LevelsOut;

    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) -> Self::Output {
        let xs = self.xs;
        debug_assert!(xs.len() <= BLOCK && (self.narrow || matches!(xs, Floats::F64(_))));
        // (A guess above 2^1013 would make σ infinite: `next_guess` gives none, and none is
        // taken from elsewhere.)
        if let Some(e) = self.guess.filter(|&e| e <= MAX_BIASED as i32 - 1023) {
            // (An infinity or NaN element makes its first piece an infinity or NaN, outside
            // the binade: refused.)
            let (tried, took) = if self.wide {
                (
                    levels::<S, LEVELS, true, WIDTH>(simd, xs, e),
                    Took::WideGuessed,
                )
            } else if self.narrow {
                (levels::<S, 1, true, NARROW_WIDTH>(simd, xs, e), Took::Few)
            } else {
                (levels::<S, 2, true, WIDTH>(simd, xs, e), Took::Few)
            };
            if let Some(sums) = tried {
                return (Some(sums), Some(e), took);
            }
        }
        // f32 elements widened first here (blocks that fall back are few).
        let wide: Vec<f64>;
        let xs = match xs {
            Floats::F64(xs) => xs,
            Floats::F32(xs) => {
                wide = xs.iter().map(|&x| f64::from(x)).collect();
                &wide
            }
        };
        // The largest magnitude, in vectors (as plain loops over u64 bits the compiler
        // vectorised across the lanes with gathers). A NaN may be dropped by `max` here: it
        // makes the levels' residual NaN, which is not zero, so the block takes the element
        // path all the same.
        let (vectors, tail) = S::as_simd_f64s(xs);
        let zero = simd.splat_f64s(0.0);
        let mut most = [zero; 4];
        let (quads, rest) = vectors.split_at(vectors.len() - vectors.len() % 4);
        for q in quads.chunks_exact(4) {
            for i in 0..4 {
                most[i] = simd.max_f64s(most[i], simd.abs_f64s(q[i]));
            }
        }
        for &x in rest {
            most[0] = simd.max_f64s(most[0], simd.abs_f64s(x));
        }
        most[1] = simd.max_f64s(most[1], simd.abs_f64s(simd.partial_load_f64s(tail)));
        let m = simd.max_f64s(
            simd.max_f64s(most[0], most[1]),
            simd.max_f64s(most[2], most[3]),
        );
        let biased = simd.reduce_max_f64s(m).to_bits() >> 52;
        // (Infinities and NaN have the largest biased exponent, 2047.)
        if biased > MAX_BIASED {
            return (None, None, Took::Few);
        }
        // Every |x| < 2^(e + 1), e the largest unbiased exponent (subnormals: -1022).
        let e = biased.max(1) as i32 - 1023;
        // The next block is guessed after a block that the levels took.
        let next = next_guess(biased);
        if self.narrow {
            if let Some(p) = levels::<S, 1, false, NARROW_WIDTH>(simd, Floats::F64(xs), e) {
                return (Some(p), next, Took::Few);
            }
        }
        if let Some(p) = levels::<S, 2, false, WIDTH>(simd, Floats::F64(xs), e) {
            return (Some(p), next, Took::Few);
        }
        match levels::<S, LEVELS, false, WIDTH>(simd, Floats::F64(xs), e) {
            Some(p) => (Some(p), next, Took::WideMeasured),
            None => (None, None, Took::Few),
        }
    }
}

/// The exact sums of `L` levels of `W` bits (`W <= 51`) of `xs`, whose magnitudes are below
/// 2^(e + 1), or `None` if some element reaches below the lowest level.
///
/// Exactness. Level `k` has quantum `q = 2^(e + 1 - W (k + 1))` (at least 2^-1074, which
/// divides every f64) and `σ = 1.5 · 2^52 q`, whose ulp is `q`. Its input `r` satisfies
/// `|r| < 2^W q` (the element itself at the top level; below, at most half the quantum
/// of the level above), inside `|r| < 2^51 q`, so `t = fl(σ + r)` lies in `[2^52 q, 2^53 q]`,
/// a multiple of `q` (the floats of that binade are `q` apart, and `2^53 q` is the next one
/// after its last), and `s = t - σ` is `r` rounded to a multiple of `q`, `|s| <= 2^W q`,
/// computed exactly (Sterbenz: `t / 2 <= σ <= t`), and `r - s` is exact too, at most `q / 2`
/// (the error of a rounded addition; Rump, Ogita and Oishi's ExtractScalar). The element is
/// the sum of its pieces when the last residual is zero. `σ` is normal (`q >= 2^-1074`) and
/// finite (`e <= 1012`, [`MAX_BIASED`]).
///
/// The pieces are added as integers: `t` and `σ` are floats of `[2^52 q, 2^53 q]`, which are
/// consecutive integers in their bits, `q` apart, so `bits(t) - bits(σ) = s / q`.
/// A level adds `bits(t)` in u64 lanes (wrapping) and takes `bits(σ)` off once per element
/// at the end: modulo 2^64 that is `Σ s / q`, and since `|s| <= 2^W q` for at most
/// `BLOCK` = 2^11 elements, `|Σ s / q| <= 2^62`, so the wrapped total read as i64 is the
/// exact integer: the level's sum is that integer times `q`. (The integer adds run on the vector
/// integer units, beside the floating-point ones: 2 additions, 4 FMAs and 3 integer
/// operations a vector for two levels, against 9 additions when the pieces were added as
/// floats.)
///
/// `CHECK`: the bound is a guess, not known to hold: the levels are refused unless every
/// first piece `t` of level 0 fell in the binade `[2^52 q, 2^53 q)` of its σ. That is all
/// the proof above needs of the bound (then `s = t - σ` is exact by Sterbenz, `r - s` is the
/// exact error of the rounded `σ + r`, at most `q / 2`, the bits of `t` and `σ` are `q`
/// apart and `|s| < 2^51 q`): one xor-or of bits a vector, where measuring the largest
/// magnitude took an and and a max. f32 elements are widened [`FEED`] at a time as they are
/// cut.
#[inline(always)]
fn levels<S: Simd, const L: usize, const CHECK: bool, const W: i32>(
    simd: S,
    xs: Floats<'_>,
    e: i32,
) -> Option<Pieces> {
    const { assert!(W <= 51 && L <= LEVELS) };
    let sigmas: [f64; L] = std::array::from_fn(|k| sigma_for(e, k, W));
    let sigma: [S::f64s; L] = std::array::from_fn(|k| simd.splat_f64s(sigmas[k]));
    // An opaque 1.0: the compiler would fold `fma(a, 1, b)` back into an addition.
    let one = simd.splat_f64s(std::hint::black_box(1.0));
    let zero = simd.splat_u64s(0);
    let mut acc = [zero; L];
    // The last residuals' bits, or-ed: zero but for the sign bit exactly when every
    // residual is a zero.
    let mut left = zero;
    // The first pieces' bits xor σ's, or-ed: zero in the exponent bits exactly when every
    // one fell in σ's binade (under `CHECK`).
    let mut over = zero;
    macro_rules! step {
        ($x:expr) => {
            cut::<S, L, CHECK>(simd, one, &sigma, &mut acc, &mut left, &mut over, $x)
        };
    }
    let mut added = 0;
    match xs {
        Floats::F64(xs) => {
            let (vectors, tail) = S::as_simd_f64s(xs);
            for &x in vectors {
                step!(x);
            }
            added += vectors.len();
            if !tail.is_empty() {
                // Zeros past the end, whose pieces are zeros.
                step!(simd.partial_load_f64s(tail));
                added += 1;
            }
        }
        Floats::F32(xs) => {
            // Widened into `feed` and cut from there, a few vectors at a time: the loads
            // from memory of one piece overlap the cut of the one before.
            // (Not zeroed first: that was 3% of the exact sum of 1e5 f32 in cache.)
            let mut feed = [MaybeUninit::<f64>::uninit(); FEED];
            for piece in xs.chunks(FEED) {
                for (w, &x) in feed.iter_mut().zip(piece) {
                    w.write(f64::from(x));
                }
                // Zeros past the end, whose pieces are zeros.
                for w in &mut feed[piece.len()..] {
                    w.write(0.0);
                }
                // SAFETY: every element of `feed` was written just above (the piece's
                // elements, then zeros), and `MaybeUninit<f64>` has f64's layout.
                let feed = unsafe { &*feed.as_ptr().cast::<[f64; FEED]>() };
                let (vectors, tail) = S::as_simd_f64s(feed);
                debug_assert!(tail.is_empty());
                for &x in vectors {
                    step!(x);
                }
                added += vectors.len();
            }
        }
    }
    if lanes_u64::<S>(&left).iter().fold(0, |a, &b| a | b) << 1 != 0 {
        return None;
    }
    if CHECK && lanes_u64::<S>(&over).iter().fold(0, |a, &b| a | b) >> 52 != 0 {
        return None;
    }
    let lanes = (added * S::F64_LANES) as u64;
    let int = std::array::from_fn(|k| {
        let acc = lanes_u64::<S>(&acc[k])
            .iter()
            .fold(0u64, |a, &b| a.wrapping_add(b));
        level_int(acc, lanes, sigmas[k])
    });
    Some(Pieces::new(int, sigmas.map(quantum_of)))
}

/// The σ of level `k` of `w` bits under the bound 2^(e + 1): `1.5 · 2^52 q` for the level's
/// quantum `q = 2^(e + 1 - w (k + 1))`, at least 2^-1074 (see [`levels`]): biased exponent
/// `q + 52 + 1023`, and the leading fraction bit.
fn sigma_for(e: i32, k: usize, w: i32) -> f64 {
    let q = (e + 1 - w * (k as i32 + 1)).max(-1074);
    f64::from_bits((((q + 1075) as u64) << 52) | (1 << 51))
}

/// The lanes of a vector of u64.
#[inline(always)]
fn lanes_u64<S: Simd>(v: &S::u64s) -> &[u64] {
    pulp::bytemuck::cast_slice(std::slice::from_ref(v))
}

/// A level's exact sum in its quanta, from `acc`, the wrapping sum of `bits(t)` over `count`
/// elements cut with `sigma` (see [`levels`]: exact when it is below 2^63 in magnitude).
fn level_int(acc: u64, count: u64, sigma: f64) -> i64 {
    acc.wrapping_sub(count.wrapping_mul(sigma.to_bits())) as i64
}

/// The exponent of the quantum of a level cut with `sigma`: σ = 1.5 · 2^(q + 52), whose
/// biased exponent is q + 1075.
fn quantum_of(sigma: f64) -> i32 {
    (sigma.to_bits() >> 52) as i32 - 1075
}

/// One vector of [`levels`]: each level's `t = r + σ` added to `acc` as integer bits, the
/// last residual's bits or-ed into `left`, and under `CHECK` level 0's `bits(t) ^ bits(σ)`
/// or-ed into `over`. `s = t - σ` and `r - s` are FMAs with an opaque
/// `one` (the same single rounding as a subtraction) where the level has hardware FMA, so
/// that they run on the FMA units beside the additions.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn cut<S: Simd, const L: usize, const CHECK: bool>(
    simd: S,
    one: S::f64s,
    sigma: &[S::f64s; L],
    acc: &mut [S::u64s; L],
    left: &mut S::u64s,
    over: &mut S::u64s,
    x: S::f64s,
) {
    let mut r = x;
    for k in 0..L {
        let t = simd.add_f64s(r, sigma[k]);
        acc[k] = simd.add_u64s(acc[k], simd.transmute_u64s_f64s(t));
        if CHECK && k == 0 {
            let apart = simd.xor_u64s(
                simd.transmute_u64s_f64s(t),
                simd.transmute_u64s_f64s(sigma[0]),
            );
            *over = simd.or_u64s(*over, apart);
        }
        r = if const { has_fma::<S>() } {
            let s = simd.negate_mul_add_f64s(sigma[k], one, t);
            simd.negate_mul_add_f64s(s, one, r)
        } else {
            simd.sub_f64s(r, simd.sub_f64s(t, sigma[k]))
        };
    }
    *left = simd.or_u64s(*left, simd.transmute_u64s_f64s(r));
}

/// The exact sums of many outputs (columns) whose elements arrive as rows: element `j` of
/// every row belongs to output `j` (a column reduction of a C-order matrix). The levels of
/// [`ExactSum::add_all`] with a σ per column, in vectors across the columns, one pass over
/// each block of at most [`BLOCK`] rows; the pass measures the block's largest magnitude
/// too. A column's σ come from the first block's largest magnitude in the column,
/// [`HEADROOM`] bits higher (that block is read once more first, for its own), and stay
/// while they hold. A column's levels of a block are kept when they held (every magnitude
/// below the σ's bound `2^(e + 1)`, so the proof of [`levels`] applies) and no residual is
/// left: added, as integers in the levels' quanta, to the column's totals (no `ExactSum`
/// per column: 560 bytes each, in fresh pages, took a third of a chunk's time). Otherwise
/// (the magnitudes grew past the headroom, or reach below two levels, or an infinity, a NaN
/// or a magnitude of 2^1013 or more) the column's block is gathered and added with
/// [`ExactSum::add_all`] to the column's own `ExactSum` (NaN skipped when `ignore`), and
/// the next block's σ come from this block (the totals so far moved into that sum first).
/// The same exact sums as adding each column with [`ExactSum::add_all`].
pub(crate) struct ExactColumns {
    /// The elements each sum took (NaN skipped when `ignore` are not counted).
    pub n: Vec<u64>,
    ignore: bool,
    /// Whether the σ were set (from the first block).
    started: bool,
    /// Per column, the σ of its two levels.
    sigma: [Vec<f64>; 2],
    /// Per column, the bound's exponent `e` of its σ (see `next_guess`), `None` where the
    /// levels take nothing (a guess beyond 2^1013, an infinity, NaN).
    bound: Vec<Option<i32>>,
    /// Per column, the blocks' levels kept so far, in quanta of its σ: at most 2^53 a block
    /// (`BLOCK` pieces of at most 2^42 quanta), so at most 2^62 for 2^9 blocks.
    total: [Vec<i64>; 2],
    /// Per column, what the levels did not take (blocks added element by element, totals
    /// of earlier σ), where there is any.
    extra: Vec<Option<Box<ExactSum>>>,
    /// The blocks added, at most 2^9 (see `total`).
    blocks: usize,
    /// The levels' `bits(t)` added (see [`levels`]), per column.
    acc: [Vec<u64>; 2],
    /// The last residuals' bits, or-ed, per column.
    left: Vec<u64>,
    seen: Vec<f64>,
}

/// The rows of a block for [`ExactColumns::add_block`]: a function that calls its argument
/// with the block's rows in order, in groups of at most [`GROUP`] rows of equal length.
pub(crate) type Rows<'a> = dyn FnMut(&mut dyn FnMut(&[&[f64]])) + 'a;

/// Rows per group of [`Rows`]: [`CutColumns`] keeps a vector of columns' state in registers
/// across a group (four loads and four stores of state a vector per group: a (1342, 10000)
/// f64 chunk took 9.0 ms in groups of 4 rows, 7.3 in groups of 8, 8.9 in groups of 16, on
/// a Zen 4).
pub(crate) const GROUP: usize = 8;

/// Bits above a measured largest magnitude that a guessed bound allows for (`next_guess`:
/// the next block's in `add_all`, a column's from its first block in [`ExactColumns`]): the
/// largest of 512 normals rises past 2^(e + 1) of the last block's `e` in about 3% of
/// blocks, past 2^(e + 5) practically never; two levels reach 84 bits under the bound,
/// 2^-79 of the guess's leading bit.
const HEADROOM: i32 = 4;

impl ExactColumns {
    /// Zero sums of `width` columns.
    pub fn new(width: usize, ignore: bool) -> Self {
        let zeros = || vec![0.0; width];
        Self {
            n: vec![0; width],
            ignore,
            started: false,
            sigma: [zeros(), zeros()],
            bound: vec![None; width],
            total: [vec![0; width], vec![0; width]],
            extra: (0..width).map(|_| None).collect(),
            blocks: 0,
            acc: [vec![0; width], vec![0; width]],
            left: vec![0; width],
            seen: zeros(),
        }
    }

    /// Set column `j`'s σ for the bound of a largest magnitude `m` (HEADROOM bits above;
    /// the σ of 1.0 where the levels take nothing: the check of `add_block` throws their
    /// pieces away).
    fn set_bound(&mut self, j: usize, m: f64) {
        let bound = next_guess(m.to_bits() >> 52);
        self.bound[j] = bound;
        for k in 0..2 {
            self.sigma[k][j] = sigma_for(bound.unwrap_or(0), k, WIDTH);
        }
    }

    /// Column `j`'s totals moved into its own sum (before its σ change).
    fn flush(&mut self, j: usize) {
        let extra = self.extra[j].get_or_insert_with(|| Box::new(ExactSum::new()));
        for k in 0..2 {
            extra.add_int(self.total[k][j], quantum_of(self.sigma[k][j]));
            self.total[k][j] = 0;
        }
    }

    /// Add a block of at most [`BLOCK`] rows, each of `self.n.len()` elements: `rows(g)`
    /// calls `g` with the block's rows in order (the same rows each time it is called: once,
    /// or more for the first block and for columns the levels did not take). At most 2^9
    /// blocks (`exact_columns` gives a unit's 2048 rows in 5).
    pub fn add_block(&mut self, rows: &mut Rows<'_>) {
        let level = simd_level();
        let width = self.n.len();
        assert!(self.blocks < 1 << 9, "ExactColumns: at most 2^9 blocks");
        self.blocks += 1;
        if !self.started {
            let mut m = vec![0.0; width];
            rows(&mut |group| {
                for row in group {
                    dispatch(level, MaxAbs(row, &mut m));
                }
            });
            for (j, &m) in m.iter().enumerate() {
                self.set_bound(j, m);
            }
            self.started = true;
        }
        let [a0, a1] = &mut self.acc;
        for v in [a0, a1, &mut self.left] {
            v.fill(0);
        }
        self.seen.fill(0.0);
        let mut count = 0u64;
        rows(&mut |group| {
            debug_assert!(group.len() <= GROUP);
            count += group.len() as u64;
            dispatch(
                level,
                CutColumns {
                    group,
                    sigma: [&self.sigma[0], &self.sigma[1]],
                    acc: &mut self.acc,
                    left: &mut self.left,
                    seen: &mut self.seen,
                },
            )
        });
        debug_assert!(count <= BLOCK as u64);
        let mut redo = Vec::new();
        for j in 0..width {
            // The levels held: the block's magnitudes are below the bound (and finite, not
            // NaN: `<=` is false for NaN's exponent past MAX_BIASED), no residual is left.
            let bits = self.seen[j].to_bits() >> 52;
            let held = self.bound[j].is_some_and(|e| {
                bits <= MAX_BIASED && (bits.max(1) as i32 - 1023) <= e && self.left[j] << 1 == 0
            });
            if held {
                for k in 0..2 {
                    self.total[k][j] += level_int(self.acc[k][j], count, self.sigma[k][j]);
                }
                self.n[j] += count;
            } else {
                redo.push(j);
            }
        }
        if !redo.is_empty() {
            let mut cols: Vec<Vec<f64>> = vec![Vec::with_capacity(count as usize); redo.len()];
            let ignore = self.ignore;
            rows(&mut |group| {
                for row in group {
                    for (c, &j) in cols.iter_mut().zip(&redo) {
                        let x = row[j];
                        if !(ignore && x.is_nan()) {
                            c.push(x);
                        }
                    }
                }
            });
            for (c, &j) in cols.iter().zip(&redo) {
                // The next blocks' σ from this one (the totals so far kept first).
                self.flush(j);
                let seen = self.seen[j];
                self.set_bound(j, seen);
                let extra = self.extra[j].as_mut().expect("flush made it");
                extra.add_all(c);
                self.n[j] += c.len() as u64;
            }
        }
    }

    /// Column `j`'s sum as its levels' totals `(integer, quantum's exponent)`, when they
    /// hold all of it (no block of the column was added element by element): the sum is
    /// `Σ integer · 2^exponent`, as [`Self::sum`] adds them.
    pub fn levels(&self, j: usize) -> Option<[(i64, i32); 2]> {
        if self.extra[j].is_some() {
            return None;
        }
        Some(std::array::from_fn(|k| {
            (self.total[k][j], quantum_of(self.sigma[k][j]))
        }))
    }

    /// Push the record of column `j`'s sum over all of `units` (a tile's units of rows, each
    /// with the same columns) onto `out`, and return the elements they took. Where the
    /// levels hold every unit's column, the record comes straight from their totals
    /// ([`Small::of_terms`]: the same words), without an `ExactSum` per column.
    pub fn push_record(units: &[ExactColumns], j: usize, out: &mut Vec<i64>) -> u64 {
        let took = units.iter().map(|u| u.n[j]).sum();
        let mut terms = [(0i64, 0i32); 64];
        let held = units.len() <= terms.len() / 2
            && units
                .iter()
                .zip(terms.chunks_exact_mut(2))
                .all(|(u, pair)| u.levels(j).map(|l| pair.copy_from_slice(&l)).is_some());
        if held && Small::of_terms(&terms[..2 * units.len()]).is_some_and(|s| s.push(out)) {
            return took;
        }
        let mut sum = units[0].sum(j);
        for unit in &units[1..] {
            sum.merge(&unit.sum(j));
        }
        sum.push_record(out);
        took
    }

    /// The exact sum of column `j` so far.
    pub fn sum(&self, j: usize) -> ExactSum {
        let mut s = self.extra[j]
            .as_deref()
            .cloned()
            .unwrap_or_else(ExactSum::new);
        for k in 0..2 {
            s.add_int(self.total[k][j], quantum_of(self.sigma[k][j]));
        }
        s
    }
}

/// Each column's largest magnitude so far, with one more row (a NaN may be dropped, as in
/// [`Levels`]: its column's residual is then NaN, so the column is redone all the same).
struct MaxAbs<'a>(&'a [f64], &'a mut [f64]);

impl WithSimd for MaxAbs<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) {
        let (xs, xt) = S::as_simd_f64s(self.0);
        let (ms, mt) = S::as_mut_simd_f64s(self.1);
        for (m, &x) in ms.iter_mut().zip(xs) {
            *m = simd.max_f64s(*m, simd.abs_f64s(x));
        }
        for (m, &x) in mt.iter_mut().zip(xt) {
            *m = m.max(x.abs());
        }
    }
}

/// A group of rows of [`ExactColumns`]: each element cut into its column's two levels (as
/// [`cut`]: the levels' bits added to the columns' accumulators, the last residual's bits
/// or-ed into `left`), and the largest magnitude kept in `seen` (a NaN may be dropped there:
/// its residual is NaN); a vector of columns' state stays in registers across the group.
struct CutColumns<'a> {
    group: &'a [&'a [f64]],
    sigma: [&'a [f64]; 2],
    acc: &'a mut [Vec<u64>; 2],
    left: &'a mut [u64],
    seen: &'a mut [f64],
}

impl WithSimd for CutColumns<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) {
        let one = simd.splat_f64s(std::hint::black_box(1.0));
        let [a0, a1] = self.acc;
        let (s0, s0t) = S::as_simd_f64s(self.sigma[0]);
        let (s1, s1t) = S::as_simd_f64s(self.sigma[1]);
        let (a0, a0t) = S::as_mut_simd_u64s(a0);
        let (a1, a1t) = S::as_mut_simd_u64s(a1);
        let (l, lt) = S::as_mut_simd_u64s(self.left);
        let (m, mt) = S::as_mut_simd_f64s(self.seen);
        let n = s0.len();
        let (s0, s1, a0, a1) = (&s0[..n], &s1[..n], &mut a0[..n], &mut a1[..n]);
        let (l, m) = (&mut l[..n], &mut m[..n]);
        // The group's rows as vectors (a row's vector part has the columns' length).
        let heads: [&[S::f64s]; GROUP] = std::array::from_fn(|r| match self.group.get(r) {
            Some(row) => &S::as_simd_f64s(row).0[..n],
            None => &[][..],
        });
        let rows = &heads[..self.group.len()];
        // (`cut`'s binade check is off here: the columns measure their magnitudes.)
        let mut unused = simd.splat_u64s(0);
        for j in 0..n {
            let sigma = [s0[j], s1[j]];
            let (mut c, mut lj, mut mj) = ([a0[j], a1[j]], l[j], m[j]);
            for row in rows {
                let x = row[j];
                cut::<S, 2, false>(simd, one, &sigma, &mut c, &mut lj, &mut unused, x);
                mj = simd.max_f64s(mj, simd.abs_f64s(x));
            }
            (a0[j], a1[j], l[j], m[j]) = (c[0], c[1], lj, mj);
        }
        // The same arithmetic, one column at a time (the same bits: an FMA with 1 rounds as
        // the subtraction does).
        let t = s0t.len();
        let (s0t, s1t, a0t, a1t) = (&s0t[..t], &s1t[..t], &mut a0t[..t], &mut a1t[..t]);
        let (lt, mt) = (&mut lt[..t], &mut mt[..t]);
        for row in self.group {
            let xt = &S::as_simd_f64s(row).1[..t];
            for j in 0..t {
                let x = xt[j];
                let t0 = x + s0t[j];
                a0t[j] = a0t[j].wrapping_add(t0.to_bits());
                let r = x - (t0 - s0t[j]);
                let t1 = r + s1t[j];
                a1t[j] = a1t[j].wrapping_add(t1.to_bits());
                lt[j] |= (r - (t1 - s1t[j])).to_bits();
                mt[j] = mt[j].max(x.abs());
            }
        }
    }
}

/// An exact sum of f64 values (see the module docs).
#[derive(Clone, Debug)]
pub(crate) struct ExactSum {
    digits: [i64; CHUNKS],
    pending: u32,
    nan: bool,
    pos_inf: bool,
    neg_inf: bool,
    /// The bound [`ExactSum::add_all`] guesses for its next block ([`Levels`]): the last
    /// block's, kept across calls (its callers give a block at a time). Speed only: the sum
    /// does not depend on it.
    guess: Option<i32>,
    /// Blocks left that try all the levels first ([`WIDE_BLOCKS`]). Speed only.
    wide: u8,
}

/// A correctly rounded magnitude: `m * 2^(shift - 1074)`, `m < 2^precision` (or exactly
/// 2^precision after rounding up, which the float constructors accept).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Rounded {
    pub negative: bool,
    pub m: u64,
    pub shift: u32,
}

impl Rounded {
    /// The value as f64: exact when `m` has at most 53 bits and the value is an f64
    /// (true for every rounding to 53 bits with lowest shift 0, or to 24 with 925), infinite
    /// when it is too large.
    pub fn to_f64(self) -> f64 {
        let mut v = self.m as f64; // exact: m <= 2^53
        let mut e = self.shift as i32 - 1074;
        // Scale in steps that keep every intermediate normal or exact: first up (or down
        // while the value stays above 2^-1022), multiplying by powers of two is exact then.
        while e > 0 {
            let k = e.min(1000);
            v *= f64::from_bits(((1023 + k) as u64) << 52);
            e -= k;
            if v.is_infinite() {
                break;
            }
        }
        while e < 0 {
            let k = (-e).min(1000);
            // The last step may land in the subnormal range: the value is an f64 (the
            // rounding's lowest shift), so the product is exact.
            v *= f64::from_bits(((1023 - k) as u64) << 52);
            e += k;
        }
        if self.negative {
            -v
        } else {
            v
        }
    }
}

impl ExactSum {
    /// Zero.
    pub fn new() -> Self {
        Self {
            digits: [0; CHUNKS],
            pending: 0,
            nan: false,
            pos_inf: false,
            neg_inf: false,
            guess: None,
            wide: 0,
        }
    }

    /// Zero, whose first block of [`Self::add_all`] tries the bound `guess` (from
    /// [`Self::guess`] of another sum of the same data; speed only).
    pub fn guessing(guess: Option<i32>) -> Self {
        Self {
            guess,
            ..Self::new()
        }
    }

    /// The bound the next block of [`Self::add_all`] will try (see [`Levels`]).
    pub fn guess(&self) -> Option<i32> {
        self.guess
    }

    /// Add `x` exactly (infinities and NaN as flags).
    #[inline]
    pub fn add(&mut self, x: f64) {
        let bits = x.to_bits();
        let biased = ((bits >> 52) & 0x7ff) as u32;
        if biased == 0x7ff {
            if x.is_nan() {
                self.nan = true;
            } else if x > 0.0 {
                self.pos_inf = true;
            } else {
                self.neg_inf = true;
            }
            return;
        }
        let frac = bits & ((1 << 52) - 1);
        // x = m * 2^(p - 1074) with p = max(biased, 1) - 1.
        let (m, p) = if biased == 0 {
            (frac, 0)
        } else {
            (frac | (1 << 52), biased - 1)
        };
        if m == 0 {
            return;
        }
        // (p <= 2045: the three digits of `add_wide` are inside.)
        self.add_wide(bits >> 63 == 1, m, p);
    }

    /// Add `v · 2^exp` exactly, for `exp >= -1074` and `|v| · 2^exp < 2^1036` (a level's
    /// total of [`ExactColumns`]: at most 2^63 quanta of at most 2^972).
    pub fn add_int(&mut self, v: i64, exp: i32) {
        if v != 0 {
            self.add_wide(v < 0, v.unsigned_abs(), (exp + 1074) as u32);
        }
    }

    /// Add `±m · 2^(p - 1074)` (`p + 64 <= 32 · CHUNKS - 32`: three digits from `p / 32`).
    #[inline(always)]
    fn add_wide(&mut self, negative: bool, m: u64, p: u32) {
        let (k, r) = ((p / 32) as usize, p % 32);
        // Below 2^95: three digits, each below 2^32.
        let wide = (m as u128) << r;
        // Negated without a branch, (x ^ -1) + 1 = -x: the sign of random data is a coin
        // toss for the branch predictor.
        let neg = -i64::from(negative);
        let signed = |v: u128| ((v as i64) ^ neg) - neg;
        let d0 = signed(wide & 0xffff_ffff);
        let d1 = signed((wide >> 32) & 0xffff_ffff);
        let d2 = signed(wide >> 64);
        let d = &mut self.digits[k..k + 3];
        d[0] += d0;
        d[1] += d1;
        d[2] += d2;
        self.pending += 1;
        if self.pending >= CARRY_EVERY {
            self.carry();
        }
    }

    /// Add every element of `xs` exactly, a block at a time in vector code where the block
    /// allows it (see the module docs), else element by element: the same sum either way.
    pub fn add_all(&mut self, xs: &[f64]) {
        self.add_floats(Floats::F64(xs), false);
    }

    /// [`Self::add_all`] for elements that are f32 values: a block first tries one level,
    /// which holds an f32 block of common data (magnitudes within 2^18 of the largest) and
    /// costs half of two. The same sum for any `xs`; only the speed differs.
    #[cfg(test)]
    pub fn add_all_f32(&mut self, xs: &[f64]) {
        self.add_floats(Floats::F64(xs), true);
    }

    /// [`Self::add_all`] of f64 elements, or of f32 values (`narrow`: [`Self::add_all_f32`]);
    /// f32 elements themselves are f32 values.
    pub(crate) fn add_floats(&mut self, xs: Floats<'_>, narrow: bool) {
        let level = simd_level();
        let narrow = narrow || matches!(xs, Floats::F32(_));
        for start in (0..xs.len()).step_by(BLOCK) {
            let end = (start + BLOCK).min(xs.len());
            let block = match xs {
                Floats::F64(xs) => Floats::F64(&xs[start..end]),
                Floats::F32(xs) => Floats::F32(&xs[start..end]),
            };
            let (sums, next, took) = dispatch(
                level,
                Levels {
                    xs: block,
                    narrow,
                    guess: self.guess,
                    wide: self.wide > 0,
                },
            );
            self.guess = next;
            self.wide = match took {
                Took::Few => 0,
                Took::WideMeasured => WIDE_BLOCKS,
                Took::WideGuessed => self.wide - 1,
            };
            match sums {
                Some(p) => {
                    for k in 0..p.used {
                        self.add_int(p.int[k], p.quantum[k]);
                    }
                }
                None => match block {
                    Floats::F64(xs) => xs.iter().for_each(|&x| self.add(x)),
                    Floats::F32(xs) => xs.iter().for_each(|&x| self.add(f64::from(x))),
                },
            }
        }
    }

    /// Add another exact sum, digit by digit, carrying only when the digits could outgrow
    /// their room. A digit of a sum with `p` additions pending (`add`s or merges since its
    /// last carry) is below `(p + 1) · 2^32` in magnitude: true after a carry (the digits in
    /// 0..2^32, the top one a sign and a small magnitude: the sum of fewer than 2^78
    /// elements, [`Self::merge_record`]), kept by `add` (three digits, each by less than 2^32)
    /// and by this sum, which counts the merged sum's additions and its digits as one more.
    /// The count stays at most `CARRY_EVERY` = 2^30 (a carry first where the two would pass
    /// it), so the digits stay below 2^63 by far, and the carries past it too.
    pub fn merge(&mut self, other: &ExactSum) {
        if self.pending + other.pending + 1 >= CARRY_EVERY {
            self.carry();
        }
        for (a, b) in self.digits.iter_mut().zip(&other.digits) {
            *a += b;
        }
        self.pending += other.pending + 1;
        if self.pending >= CARRY_EVERY {
            self.carry();
        }
        self.nan |= other.nan;
        self.pos_inf |= other.pos_inf;
        self.neg_inf |= other.neg_inf;
    }

    /// Propagate carries: every digit but the last in 0..2^32, the last holds the sign.
    fn carry(&mut self) {
        for k in 0..CHUNKS - 1 {
            let c = self.digits[k] >> 32;
            self.digits[k] -= c << 32;
            self.digits[k + 1] += c;
        }
        self.pending = 0;
    }

    /// The sum as a record of words that travel (between processes, in arrays), pushed onto
    /// `out`: a header, then the magnitude's digits from its lowest nonzero one to its
    /// highest, two to a word (the lower digit in the lower half). The header's bits: 0-7
    /// the lowest digit's index, 8-15 the number of digits, 16 the sign, 17-19 the specials'
    /// flags (1: NaN, 2: +inf, 4: -inf). A chunk's sum of normals takes 3 words (all the
    /// digits took 69, most of them zeros: 5.5 MB to pickle for 10^4 column sums).
    pub fn push_record(&self, out: &mut Vec<i64>) {
        if let Some(small) = self.small() {
            if small.push(out) {
                return;
            }
        }
        self.push_record_general(out);
    }

    /// [`Self::push_record`] through the digits, for any sum.
    fn push_record_general(&self, out: &mut Vec<i64>) {
        let (negative, d) = self.magnitude();
        let (lo, len) = match (
            d.iter().position(|&x| x != 0),
            d.iter().rposition(|&x| x != 0),
        ) {
            (Some(lo), Some(hi)) => (lo, hi + 1 - lo),
            _ => (0, 0),
        };
        // (Every digit of the magnitude is below 2^32: the top one too, for any sum of
        // fewer than 2^78 finite elements, see `merge_record`.)
        debug_assert!(d.iter().all(|&x| (0..1 << 32).contains(&x)));
        let flags =
            i64::from(self.nan) | i64::from(self.pos_inf) << 1 | i64::from(self.neg_inf) << 2;
        out.push(
            lo as i64 | (len as i64) << 8 | i64::from(negative && len > 0) << 16 | flags << 17,
        );
        for pair in d[lo..lo + len].chunks(2) {
            let high = pair.get(1).map_or(0, |&x| x as u64);
            out.push((pair[0] as u64 | high << 32) as i64);
        }
    }

    /// The sum whose record ([`Self::push_record`]) starts `w`, and the words it took; `None`
    /// for words no record has, as [`Self::merge_record`].
    pub fn from_record(w: &[i64]) -> Option<(Self, usize)> {
        let mut s = Self::new();
        let took = s.merge_record(w)?;
        Some((s, took))
    }

    /// The words the record starting `w` takes, or `None` for words no record has (as
    /// [`Self::from_record`], without making the sum where the record is a [`Small`]).
    pub fn record_words(w: &[i64]) -> Option<usize> {
        match Small::read(w) {
            Some((_, took)) => Some(took),
            None => Self::from_record(w).map(|(_, took)| took),
        }
    }

    /// [`Self::partial`] of the sum whose record starts `w`, and the words it took; `None`
    /// for words no record has.
    pub fn record_partial(w: &[i64]) -> Option<((f64, f64), usize)> {
        if let Some((p, took)) = Small::read(w).and_then(|(s, took)| Some((s.partial()?, took))) {
            return Some((p, took));
        }
        let (sum, took) = Self::from_record(w)?;
        Some((sum.partial(), took))
    }

    /// Merge the records starting each of `at` (at least one: one output's records from
    /// several pieces) and push the record of their sum onto `out`, advancing each of `at`
    /// past its record; `None` for words no record has.
    pub fn merge_records(at: &mut [&[i64]], out: &mut Vec<i64>) -> Option<()> {
        if Small::merge_records(at, out) {
            return Some(());
        }
        let (first, rest) = at.split_first_mut()?;
        let (mut sum, took) = Self::from_record(first)?;
        *first = &first[took..];
        for r in rest {
            let took = sum.merge_record(r)?;
            *r = &r[took..];
        }
        sum.push_record(out);
        Some(())
    }

    /// [`Self::merge`] of the sum whose record ([`Self::push_record`]) starts `w`, read in
    /// place: the words it took, or `None` (and `self` unchanged) for words no record has
    /// (other header bits, digits past the top, a nonzero half past the last digit, a
    /// record cut short). Any record's digits are below 2^32 (halves of a word), so the
    /// merge keeps `merge`'s bound on the digits; the top digit (2^1070) only gathers the
    /// carries, below 2^32 for any sum of fewer than 2^78 finite elements.
    pub fn merge_record(&mut self, w: &[i64]) -> Option<usize> {
        let h = *w.first()?;
        if h >> 20 != 0 {
            return None;
        }
        let (lo, len) = ((h & 0xff) as usize, (h >> 8 & 0xff) as usize);
        let (negative, flags) = (h >> 16 & 1 == 1, h >> 17 & 7);
        let words = len.div_ceil(2);
        let body = w.get(1..1 + words)?;
        if lo + len > CHUNKS || (len % 2 == 1 && body[words - 1] as u64 >> 32 != 0) {
            return None;
        }
        // As `merge` of a sum with these digits and nothing pending.
        if self.pending + 1 >= CARRY_EVERY {
            self.carry();
        }
        for (i, d) in self.digits[lo..lo + len].iter_mut().enumerate() {
            let digit = (body[i / 2] as u64 >> (32 * (i % 2)) & 0xffff_ffff) as i64;
            *d += if negative { -digit } else { digit };
        }
        self.pending += 1;
        self.nan |= flags & 1 != 0;
        self.pos_inf |= flags & 2 != 0;
        self.neg_inf |= flags & 4 != 0;
        Some(1 + words)
    }

    /// The sum as a [`Small`] when it is finite and its nonzero digits span at most
    /// `SMALL_DIGITS` (the common case: most sums of a chunk or a column span two or three),
    /// read without carrying; `None` otherwise (the general paths take it).
    fn small(&self) -> Option<Small> {
        if self.nan || self.pos_inf || self.neg_inf {
            return None;
        }
        let Some(lo) = self.digits.iter().position(|&x| x != 0) else {
            return Some(Small { base: 0, value: 0 });
        };
        let hi = self.digits.iter().rposition(|&x| x != 0)?;
        if hi - lo >= SMALL_DIGITS {
            return None;
        }
        // (Each digit is below 2^63 in magnitude, so three of them at 2^0, 2^32 and 2^64
        // stay below 2^127 but for an overflow the checked operations refuse.)
        let mut value: i128 = 0;
        for (i, &d) in self.digits[lo..=hi].iter().enumerate() {
            value = value.checked_add(i128::from(d).checked_mul(1 << (32 * i))?)?;
        }
        Some(Small { base: lo, value })
    }

    /// The IEEE special result, if any element was infinite or NaN.
    pub fn special(&self) -> Option<f64> {
        if self.nan || (self.pos_inf && self.neg_inf) {
            Some(f64::NAN)
        } else if self.pos_inf {
            Some(f64::INFINITY)
        } else if self.neg_inf {
            Some(f64::NEG_INFINITY)
        } else {
            None
        }
    }

    /// The sign and the magnitude's digits (each in 0..2^32; the top one holds what is
    /// left, below 2^32 for any sum of fewer than 2^78 finite elements). Carries only over
    /// the digits in use, from the lowest nonzero one `lo` to the highest `hi` (a sum's
    /// digits span a few of the 68: carrying all of them, twice for a negative sum, was
    /// most of the time of writing a record): after carrying `lo..hi` into `hi`, the value
    /// is `d[hi] · 2^(32 hi)` plus digits in 0..2^32 below, so its sign is `d[hi]`'s;
    /// negated and carried again, `d[hi] >= 0`, and its own digits go up from there.
    fn magnitude(&self) -> (bool, [i64; CHUNKS]) {
        let mut d = self.digits;
        let (Some(lo), Some(hi)) = (
            d.iter().position(|&x| x != 0),
            d.iter().rposition(|&x| x != 0),
        ) else {
            return (false, d);
        };
        let carry = |d: &mut [i64; CHUNKS]| {
            for k in lo..hi {
                let c = d[k] >> 32;
                d[k] -= c << 32;
                d[k + 1] += c;
            }
        };
        carry(&mut d);
        let negative = d[hi] < 0;
        if negative {
            for x in &mut d[lo..=hi] {
                *x = -*x;
            }
            carry(&mut d);
        }
        let mut k = hi;
        while k + 1 < CHUNKS && d[k] >= 1 << 32 {
            let c = d[k] >> 32;
            d[k] -= c << 32;
            d[k + 1] += c;
            k += 1;
        }
        (negative, d)
    }

    /// The finite sum rounded to `precision` (<= 63) bits, its last bit no lower than
    /// 2^(lowest - 1074): to nearest with ties to even, or to odd. (Ignores the specials.)
    pub fn round(&self, precision: u32, lowest: u32, odd: bool) -> Rounded {
        let (negative, d) = self.magnitude();
        let Some(top) = (0..CHUNKS).rev().find(|&k| d[k] != 0) else {
            return Rounded {
                negative,
                m: 0,
                shift: lowest,
            };
        };
        let len = 32 * top as u32 + (64 - (d[top] as u64).leading_zeros());
        let shift = len.saturating_sub(precision).max(lowest);
        let mut m = bits_at(&d, shift, len.saturating_sub(shift));
        if shift > 0 {
            if odd {
                if any_below(&d, shift) {
                    m |= 1;
                }
            } else if bits_at(&d, shift - 1, 1) == 1 && (m & 1 == 1 || any_below(&d, shift - 1)) {
                m += 1;
            }
        }
        Rounded { negative, m, shift }
    }

    /// The sum rounded to the nearest f64 (ties to even).
    #[cfg(test)]
    pub fn to_f64(&self) -> f64 {
        self.special()
            .unwrap_or_else(|| self.round(53, 0, false).to_f64())
    }

    /// The exact sum as (`hi`, `lo`): `hi` the sum rounded to the nearest f64 and `lo` the
    /// rest rounded to odd. Rounding `hi + lo` to nearest f64 or f32 (see
    /// [`super::sum::FloatPartial`]'s `err == 0`) then gives the rounding of the exact sum:
    /// a rounding boundary is either `hi` itself (the sign of `lo` decides) or at least a
    /// quarter of an ulp of `hi` away, a multiple of `lo`'s last bit, which an inexact `lo`
    /// (odd) is not.
    pub fn partial(&self) -> (f64, f64) {
        match self.small().and_then(Small::partial) {
            Some(p) => p,
            None => self.partial_general(),
        }
    }

    /// [`Self::partial`] through the digits, for any sum.
    fn partial_general(&self) -> (f64, f64) {
        if let Some(s) = self.special() {
            return (s, 0.0);
        }
        let hi = self.round(53, 0, false).to_f64();
        if !hi.is_finite() {
            return (hi, 0.0);
        }
        let mut rest = self.clone();
        rest.add(-hi);
        (hi, rest.round(53, 0, true).to_f64())
    }
}

/// The most digits a [`Small`] record holds, so that the sum of any number of them (below
/// 2^31) at most `SMALL_DIGITS` digits apart stays in an `i128`.
const SMALL_DIGITS: usize = 3;

/// A finite exact sum `value · 2^(32 · base - 1074)` held in an `i128`: the fast path of
/// records ([`ExactSum::push_record`], [`Small::read`]), of their merging
/// ([`Small::merge_records`]) and of [`ExactSum::partial`], which otherwise pass through the
/// 68 digits (544 bytes copied, zeroed and scanned several times an output: most of the time
/// of combining and finalising Dask's partials). Each gives the words and values the
/// general path gives (see the tests).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Small {
    base: usize,
    value: i128,
}

impl Small {
    /// The record starting `w` as a `Small` and the words it took, when it is one: valid (as
    /// [`ExactSum::merge_record`] checks), without specials, of at most `SMALL_DIGITS`
    /// digits. `None` otherwise, for the general path to take (or refuse).
    pub fn read(w: &[i64]) -> Option<(Small, usize)> {
        let h = *w.first()?;
        // (No bit above the sign's: no specials' flags, no bits no record has.)
        if h >> 17 != 0 {
            return None;
        }
        let (lo, len) = ((h & 0xff) as usize, (h >> 8 & 0xff) as usize);
        let words = len.div_ceil(2);
        if len > SMALL_DIGITS || lo + len > CHUNKS {
            return None;
        }
        let body = w.get(1..1 + words)?;
        let mut m: u128 = 0;
        for (i, &x) in body.iter().enumerate() {
            m |= u128::from(x as u64) << (64 * i);
        }
        if m >> (32 * len) != 0 {
            return None; // a nonzero half past the last digit
        }
        let value = if h >> 16 & 1 == 1 {
            -(m as i128)
        } else {
            m as i128
        };
        Some((Small { base: lo, value }, 1 + words))
    }

    /// Push the record of this value ([`ExactSum::push_record`]'s words), or nothing and
    /// `false` when its digits would pass the top (the general path then writes it).
    #[must_use]
    pub fn push(self, out: &mut Vec<i64>) -> bool {
        let m = self.value.unsigned_abs();
        if m == 0 {
            out.push(0);
            return true;
        }
        let skip = (m.trailing_zeros() / 32) as usize;
        let m = m >> (32 * skip);
        let len = (128 - m.leading_zeros()).div_ceil(32) as usize;
        let lo = self.base + skip;
        if lo + len > CHUNKS {
            return false;
        }
        out.push(lo as i64 | (len as i64) << 8 | i64::from(self.value < 0) << 16);
        for i in 0..len.div_ceil(2) {
            out.push((m >> (64 * i)) as u64 as i64);
        }
        true
    }

    /// The exact sum `Σ int · 2^exp` of `terms` (each `exp >= -1074`, as the levels'
    /// quanta are) as a `Small`, when it is one cheaply: at most 64 terms, each below 2^120
    /// once shifted to the lowest nonzero term's digit (so that they add up below 2^126);
    /// `None` otherwise. The value [`ExactSum::add_int`] of each term makes.
    pub fn of_terms(terms: &[(i64, i32)]) -> Option<Small> {
        if terms.len() > 64 {
            return None;
        }
        let lowest = terms.iter().filter(|t| t.0 != 0).map(|t| t.1).min();
        let Some(lowest) = lowest else {
            return Some(Small { base: 0, value: 0 });
        };
        let base = ((lowest + 1074) / 32) as usize;
        let mut value: i128 = 0;
        for &(int, exp) in terms {
            if int == 0 {
                continue;
            }
            let shift = (exp + 1074) as u32 - 32 * base as u32;
            if 64 - int.unsigned_abs().leading_zeros() + shift > 120 {
                return None;
            }
            value += i128::from(int) << shift;
        }
        Some(Small { base, value })
    }

    /// Merge the records starting each of `at` (one output's records from several pieces)
    /// and push the record of their sum onto `out`, advancing each of `at` past its record;
    /// `false` (nothing pushed or advanced) unless every record is a `Small` and their
    /// nonzero digits lie within `SMALL_DIGITS` of the lowest.
    fn merge_records(at: &mut [&[i64]], out: &mut Vec<i64>) -> bool {
        // The lowest digit and the highest bit (from digit 0) of the nonzero records.
        let (mut base, mut top) = (usize::MAX, 0);
        for w in at.iter() {
            match Small::read(w) {
                Some((s, _)) if s.value != 0 => {
                    base = base.min(s.base);
                    top = top.max(32 * s.base + s.bits());
                }
                Some(_) => {}
                None => return false,
            }
        }
        if base == usize::MAX {
            base = 0;
        }
        // Each below 2^(32 · SMALL_DIGITS) = 2^96 once shifted: fewer than 2^31 of them add
        // up below 2^127.
        if top > 32 * (base + SMALL_DIGITS) {
            return false;
        }
        let mut value: i128 = 0;
        for w in at.iter() {
            let (s, _) = Small::read(w).expect("read above");
            value += s.value << (32 * (s.base.max(base) - base));
        }
        if !(Small { base, value }).push(out) {
            return false;
        }
        for w in at.iter_mut() {
            let (_, took) = Small::read(w).expect("read above");
            *w = &w[took..];
        }
        true
    }

    /// The bits of the magnitude.
    fn bits(self) -> usize {
        128 - self.value.unsigned_abs().leading_zeros() as usize
    }

    /// [`ExactSum::partial`] of this value, when the fast way gives it: a magnitude below
    /// 2^96 whose quantum `2^e`, `e = 32 · base - 1074`, lies in `-1022 ..= 927`. Then `hi`,
    /// the integer rounded to 53 bits (`as f64` rounds to nearest, ties to even) and scaled
    /// by `2^e`, is normal, so scaling kept the rounding; the rest `r` is an integer below
    /// 2^43 (half an ulp of a value below 2^96), so `r · 2^e` is exact and normal too: `lo`
    /// rounded to odd is `lo` itself. A zero rest is +0, as the general path gives it.
    pub fn partial(self) -> Option<(f64, f64)> {
        let e = 32 * self.base as i32 - 1074;
        let m = self.value.unsigned_abs();
        if m >> 96 != 0 || !(-1022..=927).contains(&e) {
            return None;
        }
        if m == 0 {
            return Some((0.0, 0.0));
        }
        let scale = f64::from_bits(((1023 + e) as u64) << 52);
        let hi = m as f64;
        // (hi <= 2^96: an integer the cast back holds exactly.)
        let rest = m as i128 - hi as u128 as i128;
        let (hi, lo) = (hi * scale, rest as f64 * scale);
        Some(if self.value < 0 {
            (-hi, if rest == 0 { 0.0 } else { -lo })
        } else {
            (hi, lo)
        })
    }
}

/// Bits `start .. start + count` (count <= 64) of the magnitude's digits.
fn bits_at(d: &[i64; CHUNKS], start: u32, count: u32) -> u64 {
    let (k, r) = ((start / 32) as usize, start % 32);
    let mut w: u128 = 0;
    for i in 0..4 {
        if let Some(&x) = d.get(k + i) {
            w |= u128::from(x as u64 & 0xffff_ffff) << (32 * i);
        }
    }
    let v = (w >> r) as u64;
    if count >= 64 {
        v
    } else {
        v & ((1 << count) - 1)
    }
}

/// True if any bit below position `end` of the magnitude's digits is set.
fn any_below(d: &[i64; CHUNKS], end: u32) -> bool {
    let (k, r) = ((end / 32) as usize, end % 32);
    d[..k.min(CHUNKS)].iter().any(|&x| x != 0)
        || (k < CHUNKS && r > 0 && (d[k] as u64) & ((1 << r) - 1) != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exact(xs: &[f64]) -> ExactSum {
        let mut s = ExactSum::new();
        for &x in xs {
            s.add(x);
        }
        s
    }

    #[test]
    fn cancellation_and_ties() {
        assert_eq!(exact(&[1e16, 1.0, -1e16]).to_f64(), 1.0);
        assert_eq!(exact(&[1e100, 1.0, -1e100, 1e-100]).to_f64(), 1.0 + 1e-100);
        // 1 + 2^-53 is a tie: to even (1.0); a bit more rounds up.
        let t = 2f64.powi(-53);
        assert_eq!(exact(&[1.0, t]).to_f64(), 1.0);
        assert_eq!(exact(&[1.0, t, 1e-300]).to_f64(), 1.0 + 2.0 * t);
        assert_eq!(exact(&[1.0, t, -1e-300]).to_f64(), 1.0);
        assert_eq!(exact(&[-1.0, -t, -1e-300]).to_f64(), -1.0 - 2.0 * t);
        // Ten million 0.1s: the exact sum, rounded once.
        let mut s = ExactSum::new();
        for _ in 0..10_000_000 {
            s.add(0.1);
        }
        assert_eq!(s.to_f64(), 1_000_000.0); // math.fsum([0.1] * 10**7)
    }

    #[test]
    fn extremes() {
        let m = f64::MAX;
        assert_eq!(exact(&[m, m, -m]).to_f64(), m);
        assert_eq!(exact(&[m, m]).to_f64(), f64::INFINITY);
        assert_eq!(exact(&[-m, -m]).to_f64(), f64::NEG_INFINITY);
        let tiny = f64::from_bits(1);
        assert_eq!(exact(&[tiny, tiny, tiny]).to_f64(), 3.0 * tiny);
        assert_eq!(
            exact(&[f64::MIN_POSITIVE, -tiny]).to_f64(),
            f64::MIN_POSITIVE - tiny
        );
        assert!(exact(&[f64::INFINITY, f64::NEG_INFINITY]).to_f64().is_nan());
        assert_eq!(exact(&[f64::INFINITY, 1.0]).to_f64(), f64::INFINITY);
        assert!(exact(&[f64::NAN, 1.0]).to_f64().is_nan());
        assert_eq!(exact(&[0.0, -0.0]).to_f64(), 0.0);
    }

    #[test]
    fn f32_rounding() {
        // 1 + 2^-24 is an f32 tie (to 1), a little more is not.
        let t = 2f64.powi(-24);
        let r = |xs: &[f64]| exact(xs).round(24, 925, false).to_f64();
        assert_eq!(r(&[1.0, t]), 1.0);
        assert_eq!(r(&[1.0, t, 1e-30]), 1.0 + 2.0 * t);
        assert_eq!(r(&[1.0, 3.0 * t]), 1.0 + 4.0 * t);
        // The smallest f32 subnormal and half of it (a tie, to even: zero).
        let s = f64::from(f32::from_bits(1));
        assert_eq!(r(&[s]), s);
        assert_eq!(r(&[s / 2.0]), 0.0);
        assert_eq!(r(&[s * 1.5]), 2.0 * s);
        assert_eq!(
            r(&[f64::from(f32::MAX), f64::from(f32::MAX)]) as f32,
            f32::INFINITY
        );
    }

    #[test]
    fn the_split_keeps_every_rounding() {
        let t = 2f64.powi(-53);
        // The rest of 1 + 2^-53 + 2^-300 is -2^-53 + 2^-300: rounded to odd, not to the tie.
        let (hi, lo) = exact(&[1.0, t, 1e-300]).partial();
        assert_eq!(hi, 1.0 + 2.0 * t);
        assert!(lo > -t && lo < 0.0);
        assert_eq!(hi + lo, hi);
        let (hi, lo) = exact(&[1.0, t]).partial();
        assert_eq!((hi, lo), (1.0, t));
    }

    /// The same exact sum: the same sign, digits and flags.
    fn same(a: &ExactSum, b: &ExactSum) -> bool {
        a.magnitude() == b.magnitude()
            && a.special().map(f64::to_bits) == b.special().map(f64::to_bits)
    }

    /// A splitmix64 stream of f64 bit patterns shaped by `f`.
    fn stream(seed: u64, n: usize, f: impl Fn(u64) -> f64) -> Vec<f64> {
        let mut z = seed;
        (0..n)
            .map(|_| {
                z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
                let mut x = z;
                x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
                x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
                f(x ^ (x >> 31))
            })
            .collect()
    }

    #[test]
    fn blocks_add_what_elements_add() {
        use crate::simd::{available_simd_levels, with_simd_level};
        // A significand and sign from the bits, the exponent from `e(bits)`.
        let with_exp = |e: fn(u64) -> u64| {
            move |b: u64| f64::from_bits((b & 0x800f_ffff_ffff_ffff) | (e(b) << 52))
        };
        let cases: Vec<(&str, Vec<f64>)> = vec![
            // Exponents within 2^-10 .. 2^10: the vector path.
            (
                "narrow",
                stream(1, 5000, with_exp(|b| 1013 + (b >> 52) % 20)),
            ),
            // Within 2^-60 .. 2^40: sometimes beyond four levels.
            ("wide", stream(2, 5000, with_exp(|b| 963 + (b >> 52) % 100))),
            // Anything finite: the element path for most blocks.
            ("any", stream(3, 5000, with_exp(|b| (b >> 52) % 2047))),
            // Subnormals and the smallest normals: level 0 is exact for every element.
            ("tiny", stream(4, 5000, with_exp(|b| (b >> 52) % 3))),
            // Near the largest finite values: above 2^974, the element path.
            ("huge", stream(5, 3000, with_exp(|b| 2040 + (b >> 52) % 7))),
            // Around 2^1013: above 2^1012, the largest block magnitude the levels take.
            (
                "high",
                stream(6, 3000, with_exp(|b| 1023 + 1013 - (b >> 52) % 3)),
            ),
            // Up to 2^1012: the levels with the largest σ.
            (
                "top",
                stream(7, 3000, with_exp(|b| 1023 + 1012 - (b >> 52) % 30)),
            ),
            // f32 values within 2^16 of each other (one level), and within 2^40 (more).
            (
                "f32",
                stream(8, 5000, with_exp(|b| 1013 + (b >> 52) % 16))
                    .into_iter()
                    .map(|x| x as f32 as f64)
                    .collect(),
            ),
            (
                "f32 wide",
                stream(9, 5000, with_exp(|b| 1003 + (b >> 52) % 40))
                    .into_iter()
                    .map(|x| x as f32 as f64)
                    .collect(),
            ),
            // Cancelling pairs and ties.
            ("ties", {
                let t = 2f64.powi(-53);
                let mut v: Vec<f64> = (0..3000)
                    .map(|i| if i % 2 == 0 { 1.0 } else { t })
                    .collect();
                v.extend((0..3000).map(|i| if i % 2 == 0 { -1.0 } else { -0.0 }));
                v
            }),
        ];
        // Which path each kind of block takes.
        let path = |xs: &[f64]| {
            let levels = Levels {
                xs: Floats::F64(xs),
                narrow: false,
                guess: None,
                wide: false,
            };
            levels.with_simd(pulp::Scalar::new()).0.map(|p| p.used == 2)
        };
        assert_eq!(path(&cases[0].1[..BLOCK]), Some(true)); // two levels
        assert_eq!(path(&cases[3].1[..BLOCK]), Some(true));
        assert!(path(&cases[1].1[..BLOCK]).is_some()); // two or four
        assert_eq!(path(&cases[6].1[..BLOCK]), Some(true));
        for c in [2, 4, 5] {
            // Above 2^1012, or wide.
            assert_eq!(path(&cases[c].1[..BLOCK]), None, "{}", cases[c].0);
        }
        // 2^-100 beside 1: four levels.
        assert_eq!(path(&[1.0, 2f64.powi(-100)]), Some(false));
        assert_eq!(path(&[1.0, 2f64.powi(-200)]), None);
        // f32 elements: one level of 51 bits under the bound 2^(e + 1) takes those whose last
        // bit is at least 2^(e - 50); a guessed bound that some element passes is refused (its
        // first piece leaves σ's binade), the block measured and the guess renewed.
        let narrow = |xs: &[f32], guess: Option<i32>| {
            let (p, next, _) = Levels {
                xs: Floats::F32(xs),
                narrow: true,
                guess,
                wide: false,
            }
            .with_simd(pulp::Scalar::new());
            (p.map(|p| p.used), next)
        };
        let odd = |k: i32| (1.0 + f32::EPSILON) * 2f32.powi(k);
        assert_eq!(narrow(&[1.0, odd(-27)], None), (Some(1), Some(4)));
        assert_eq!(narrow(&[1.0, odd(-28)], None), (Some(2), Some(4)));
        assert_eq!(narrow(&[1.0, -0.5], Some(0)), (Some(1), Some(0)));
        assert_eq!(narrow(&[1.0, 4.0], Some(0)), (Some(1), Some(6)));
        assert_eq!(narrow(&[1.0, f32::INFINITY], Some(0)), (None, None));
        // Blocks that need every level (1e16-scale values beside values near 1): the first
        // measures its bound and takes them; the next ones try them first with the guess, in
        // one pass, and add up to the same sums; a block past the guess is measured again.
        let wide = stream(7, 5 * BLOCK, |b| {
            let x = f64::from_bits(0x3ff0_0000_0000_0000 | b >> 12);
            if b & 1 == 0 {
                x * 1e16
            } else {
                -x
            }
        });
        let run = |xs: &[f64], guess: Option<i32>, wide: bool| {
            let (p, next, took) = Levels {
                xs: Floats::F64(xs),
                narrow: false,
                guess,
                wide,
            }
            .with_simd(pulp::Scalar::new());
            let mut sum = ExactSum::new();
            let p = p.expect("the levels take these blocks");
            for k in 0..p.used {
                sum.add_int(p.int[k], p.quantum[k]);
            }
            (sum, p.used, next, took)
        };
        let (_, used, guess, took) = run(&wide[..BLOCK], None, false);
        assert_eq!((used, took), (LEVELS, Took::WideMeasured));
        let block = &wide[BLOCK..2 * BLOCK];
        let (guessed, used, next, took) = run(block, guess, true);
        assert_eq!((used, next, took), (LEVELS, guess, Took::WideGuessed));
        assert!(same(&guessed, &run(block, None, false).0));
        let mut past: Vec<f64> = block.to_vec();
        past[5] = 1e30;
        assert_eq!(run(&past, guess, true).3, Took::WideMeasured);
        let mut all = ExactSum::new();
        all.add_all(&wide);
        assert!(all.wide > 0);
        let mut each = ExactSum::new();
        wide.iter().for_each(|&x| each.add(x));
        assert!(same(&all, &each));
        let mut levels_ran = Vec::new();
        for level in available_simd_levels() {
            with_simd_level(level, || {
                for (name, xs) in &cases {
                    for len in [0, 1, 7, 8, 9, BLOCK - 1, BLOCK, BLOCK + 3, xs.len()] {
                        let xs = &xs[..len.min(xs.len())];
                        let mut b = ExactSum::new();
                        b.add_all(xs);
                        assert!(same(&b, &exact(xs)), "{name}, {len} elements, {level:?}");
                        // The one-level try first: the same sum, whatever the elements.
                        let mut b = ExactSum::new();
                        b.add_all_f32(xs);
                        assert!(same(&b, &exact(xs)), "{name}, {len}, {level:?}, f32 try");
                    }
                }
                // A block at a time, as `exact_sum` gives them: each block guesses from the
                // one before (the guess kept in the sum); and sums that start from a guess.
                for (name, xs) in &cases {
                    for guess in [
                        None,
                        Some(-1080),
                        Some(0),
                        Some(1012),
                        Some(1013),
                        Some(5000),
                    ] {
                        let mut b = ExactSum::guessing(guess);
                        for block in xs.chunks(BLOCK) {
                            b.add_all(block);
                        }
                        assert!(
                            same(&b, &exact(xs)),
                            "{name} by blocks, {guess:?}, {level:?}"
                        );
                    }
                }
                // f32 elements read in place, whole and a block at a time from any guess.
                for (name, xs) in &cases {
                    let fs: Vec<f32> = xs.iter().map(|&x| x as f32).collect();
                    let wide: Vec<f64> = fs.iter().map(|&x| f64::from(x)).collect();
                    let want = exact(&wide);
                    for guess in [
                        None,
                        Some(-1080),
                        Some(-150),
                        Some(0),
                        Some(127),
                        Some(5000),
                    ] {
                        let mut b = ExactSum::guessing(guess);
                        b.add_floats(Floats::F32(&fs), true);
                        assert!(same(&b, &want), "{name} as f32, {guess:?}, {level:?}");
                        let mut b = ExactSum::guessing(guess);
                        for block in fs.chunks(BLOCK / 2 + 1) {
                            b.add_floats(Floats::F32(block), true);
                        }
                        assert!(same(&b, &want), "{name} as f32 by blocks, {guess:?}");
                    }
                }
                // Blocks whose magnitudes grow past the guess (2^20 a block), shrink below
                // its levels (2^-40 a block), or jump between the two.
                let scaled = |f: fn(usize) -> i32| -> Vec<f64> {
                    let base = &cases[0].1;
                    (0..6 * BLOCK)
                        .map(|i| base[i % base.len()] * 2f64.powi(f(i / BLOCK)))
                        .collect()
                };
                let runs = [
                    ("growing", scaled(|b| 20 * b as i32)),
                    ("shrinking", scaled(|b| -40 * b as i32)),
                    ("jumping", scaled(|b| if b % 2 == 0 { 0 } else { 300 })),
                ];
                for (name, xs) in &runs {
                    let mut b = ExactSum::new();
                    b.add_all(xs);
                    assert!(same(&b, &exact(xs)), "{name}, {level:?}");
                    // The same as f32 (2^±20 steps stay inside f32's range for a while).
                    let fs: Vec<f32> = xs.iter().map(|&x| x as f32).collect();
                    let wide: Vec<f64> = fs.iter().map(|&x| f64::from(x)).collect();
                    let mut b = ExactSum::new();
                    b.add_floats(Floats::F32(&fs), true);
                    assert!(same(&b, &exact(&wide)), "{name} as f32, {level:?}");
                }
                // Specials in a block: the element path keeps the flags.
                for special in [f64::INFINITY, f64::NEG_INFINITY, f64::NAN] {
                    let mut xs = cases[0].1.clone();
                    xs[BLOCK + 5] = special;
                    let mut b = ExactSum::new();
                    b.add_all(&xs);
                    assert!(same(&b, &exact(&xs)), "{special}, {level:?}");
                }
            });
            levels_ran.push(level.name());
        }
        println!("blocks_add_what_elements_add: SIMD levels {levels_ran:?}");
    }

    /// Columns added a block of rows at a time give each column's exact sum, with its
    /// count (NaN skipped and not counted when ignored), whatever the columns hold: columns of
    /// narrow, wide, tiny, huge values, specials in some rows, across widths that leave
    /// vector tails, at every SIMD level.
    #[test]
    fn columns_add_what_elements_add() {
        use crate::simd::{available_simd_levels, with_simd_level};
        let with_exp = |e: fn(u64) -> u64| {
            move |b: u64| f64::from_bits((b & 0x800f_ffff_ffff_ffff) | (e(b) << 52))
        };
        let kinds: [fn(u64) -> u64; 5] = [
            |b| 1013 + (b >> 52) % 20,        // two levels
            |b| 963 + (b >> 52) % 100,        // sometimes beyond two: the element path
            |b| (b >> 52) % 3,                // subnormals
            |b| 2040 + (b >> 52) % 7,         // beyond 2^1012: the element path
            |b| 1023 + 1012 - (b >> 52) % 30, // the largest σ
        ];
        let mut levels_ran = Vec::new();
        let mut smalls = 0;
        for level in available_simd_levels() {
            with_simd_level(level, || {
                for width in [1usize, 7, 8, 9, 21] {
                    for rows in [1usize, 5, 300] {
                        // Column j holds values of kind j % 5.
                        let cols: Vec<Vec<f64>> = (0..width)
                            .map(|j| stream(j as u64 + 11, rows, with_exp(kinds[j % 5])))
                            .collect();
                        // Columns whose magnitudes grow, then shrink, by 2^49 down the
                        // rows: later blocks break the previous block's guess.
                        let mut cols = cols;
                        if width > 7 {
                            let grow = |r: usize| ((r + 1) as f64).powi(6) * 1.1;
                            cols[5] = (0..rows).map(grow).collect();
                            cols[6] = (0..rows).map(|r| 1e15 / grow(r)).collect();
                        }
                        // A column that jumps by 2^300 after its first block, and one of
                        // zeros in its first block: their σ move once, then hold again
                        // (totals of two σ in one sum).
                        if width > 8 {
                            let base = stream(99, rows, with_exp(kinds[0]));
                            let at = |r: usize, x: f64, f: f64| if r < 128 { x } else { x * f };
                            cols[7] = (0..rows).map(|r| at(r, base[r], 2f64.powi(300))).collect();
                            cols[8] = (0..rows)
                                .map(|r| if r < 128 { 0.0 } else { base[r] })
                                .collect();
                        }
                        let mut special = cols.clone();
                        if width > 3 && rows > 4 {
                            special[1][2] = f64::NAN;
                            special[2][4] = f64::INFINITY;
                            special[3][0] = f64::NEG_INFINITY;
                            special[3][3] = f64::INFINITY;
                        }
                        for ignore in [false, true] {
                            for data in [&cols, &special] {
                                let mut c = ExactColumns::new(width, ignore);
                                for start in (0..rows).step_by(BLOCK.min(128)) {
                                    let end = (start + 128).min(rows);
                                    // Groups of up to three rows, the last shorter.
                                    c.add_block(&mut |g| {
                                        for r0 in (start..end).step_by(3) {
                                            let rows: Vec<Vec<f64>> = (r0..(r0 + 3).min(end))
                                                .map(|r| (0..width).map(|j| data[j][r]).collect())
                                                .collect();
                                            let group: Vec<&[f64]> =
                                                rows.iter().map(|r| &r[..]).collect();
                                            g(&group);
                                        }
                                    });
                                }
                                for j in 0..width {
                                    let kept: Vec<f64> = data[j]
                                        .iter()
                                        .copied()
                                        .filter(|x| !(ignore && x.is_nan()))
                                        .collect();
                                    assert!(
                                        same(&c.sum(j), &exact(&kept)),
                                        "column {j} of {width}, {rows} rows, {level:?}"
                                    );
                                    assert_eq!(c.n[j], kept.len() as u64);
                                    // The column's record (from the levels' totals
                                    // where they hold): the sum's, the same count.
                                    let (mut fast, mut general) = (Vec::new(), Vec::new());
                                    let units = std::slice::from_ref(&c);
                                    let took = ExactColumns::push_record(units, j, &mut fast);
                                    c.sum(j).push_record_general(&mut general);
                                    assert_eq!(fast, general, "column {j}");
                                    assert_eq!(took, c.n[j]);
                                    let small = c.levels(j).and_then(|l| Small::of_terms(&l));
                                    smalls += usize::from(small.is_some());
                                }
                            }
                        }
                    }
                }
            });
            levels_ran.push(level.name());
        }
        assert!(smalls > 0);
        println!("columns_add_what_elements_add: SIMD levels {levels_ran:?}");
    }

    #[test]
    fn many_additions_carry() {
        // More than CARRY_EVERY additions would take too long; merging checks the carries.
        let mut a = exact(&[f64::MAX / 4.0; 3]);
        let b = exact(&[-f64::MAX / 4.0; 2]);
        a.merge(&b);
        assert_eq!(a.to_f64(), f64::MAX / 4.0);
        let (big, small) = (2f64.powi(1000), 2f64.powi(960));
        let mut seq = ExactSum::new();
        for i in 0..100_000 {
            seq.add(if i % 2 == 0 { big } else { small - big });
        }
        assert_eq!(seq.to_f64(), 50_000.0 * small);
        // Merges at the carry count: the digits carried first, the same sums.
        let parts = [1.5, -2.0, 1e300, -3.25];
        let mut near = exact(&parts[..3]);
        near.pending = CARRY_EVERY - 1;
        near.merge(&exact(&parts[3..]));
        assert!(near.pending < CARRY_EVERY);
        assert!(same(&near, &exact(&parts)));
        let mut near = exact(&parts[..3]);
        near.pending = CARRY_EVERY - 1;
        let mut w = Vec::new();
        exact(&parts[3..]).push_record(&mut w);
        assert_eq!(near.merge_record(&w), Some(w.len()));
        assert!(near.pending < CARRY_EVERY);
        assert!(same(&near, &exact(&parts)));
    }

    /// The fast paths of small sums ([`Small`]) give what the general ones give: the same
    /// records, the same merged records and the same partials, on sums near the bottom and
    /// the top of the digits, of both signs, cancelling to zero, carrying into a fourth
    /// digit, with specials, and of every span around `SMALL_DIGITS`.
    #[test]
    fn small_sums_take_the_general_way() {
        // Values at 2^(p - 1074) for p drawn around a few centres, so that sums span one to
        // five digits anywhere from the subnormals to the top.
        let mut sums = vec![ExactSum::new(), exact(&[-0.0]), exact(&[f64::NAN, 1.0])];
        let mut seed = 0;
        for centre in [0u64, 40, 70, 100, 1074, 1100, 1800, 2000, 2040, 2045] {
            for spread in [0u64, 10, 30, 60, 90, 140] {
                for count in [1usize, 2, 3, 7] {
                    seed += 1;
                    let xs = stream(seed, count, |b| {
                        // (Biased exponent p, 0 for the subnormals.)
                        let p = (centre + b % (spread + 1)).min(2045);
                        let x = f64::from_bits(p << 52 | b >> 12);
                        if b >> 63 == 1 {
                            -x
                        } else {
                            x
                        }
                    });
                    sums.push(exact(&xs));
                    // Cancelling: the same values and their negations but one.
                    let mut c = xs.clone();
                    c.extend(xs[1..].iter().map(|x| -x));
                    sums.push(exact(&c));
                }
            }
        }
        // Three digits of ones at 2^-18 (2^96 - 1 quanta: (2^53 - 1) · 2^25 + (2^43 - 1) ·
        // 2^-18), plus one quantum (a carry to a fourth digit) or 2^96 quanta (four digits).
        let ones = exact(&[
            ((1u64 << 53) - 1) as f64 * 2f64.powi(25),
            ((1u64 << 43) - 1) as f64 * 2f64.powi(-18),
        ]);
        for extra in [0.0, 2f64.powi(-18), 2f64.powi(78), -2f64.powi(78)] {
            let mut s = ones.clone();
            s.merge(&exact(&[extra]));
            sums.push(s.clone());
            for x in &mut s.digits {
                *x = -*x;
            }
            sums.push(s);
        }
        let mut smalls = 0;
        for s in &sums {
            let (mut fast, mut general) = (Vec::new(), Vec::new());
            s.push_record(&mut fast);
            s.push_record_general(&mut general);
            assert_eq!(fast, general, "{s:?}");
            let (p, q) = (s.partial(), s.partial_general());
            assert_eq!(
                (p.0.to_bits(), p.1.to_bits()),
                (q.0.to_bits(), q.1.to_bits()),
                "{s:?}"
            );
            if let Some((small, took)) = Small::read(&general) {
                smalls += 1;
                assert_eq!(took, general.len());
                let mut again = Vec::new();
                assert!(small.push(&mut again));
                assert_eq!(again, general);
                if let Some(p) = small.partial() {
                    assert_eq!(
                        (p.0.to_bits(), p.1.to_bits()),
                        (q.0.to_bits(), q.1.to_bits())
                    );
                }
            }
        }
        assert!(
            smalls > sums.len() / 3 && smalls < sums.len(),
            "{smalls} of {}",
            sums.len()
        );
        // Merged: groups of 1 to 9 records, the fast way where it goes, else refused
        // without moving; the general way always.
        let (mut fast_merges, mut groups) = (0, 0);
        for start in 0..sums.len() {
            let k = 1 + start % 9;
            let group: Vec<&ExactSum> = (0..k)
                .map(|i| &sums[(start * 7 + i * 13) % sums.len()])
                .collect();
            let recs: Vec<Vec<i64>> = group
                .iter()
                .map(|s| {
                    let mut w = Vec::new();
                    s.push_record(&mut w);
                    w.push(12345); // the next record's first word
                    w
                })
                .collect();
            let mut at: Vec<&[i64]> = recs.iter().map(|w| &w[..]).collect();
            let mut fast = Vec::new();
            let mut all = ExactSum::new();
            for s in &group {
                all.merge(s);
            }
            let mut general = Vec::new();
            all.push_record_general(&mut general);
            groups += 1;
            if Small::merge_records(&mut at, &mut fast) {
                fast_merges += 1;
                assert_eq!(fast, general);
                assert!(at.iter().all(|w| w == &[12345]));
            } else {
                assert!(fast.is_empty());
                assert!(at.iter().zip(&recs).all(|(a, r)| a.len() == r.len()));
            }
        }
        assert!(
            fast_merges > 0 && fast_merges < groups,
            "{fast_merges} of {groups}"
        );
    }

    /// Records give back their sums, one after another in a stream of words, and merge as
    /// the sums do; words that no record has are refused.
    #[test]
    fn records_round_trip_and_refuse_what_none_has() {
        let normals = stream(12, 1000, |b| {
            f64::from_bits((b & 0x800f_ffff_ffff_ffff) | ((1020 + (b >> 52) % 4) << 52))
        });
        let sums = [
            ExactSum::new(),
            exact(&[-0.0]),
            exact(&[1.5, -2.0]),
            exact(&[1e300, -1e-300, 5e-324]),
            exact(&[f64::MAX, f64::MAX, f64::MAX]),
            exact(&[-f64::MAX, -f64::MAX]),
            exact(&[5e-324]),
            exact(&[f64::NAN, 1.0]),
            exact(&[f64::INFINITY, -2.0]),
            exact(&[f64::NEG_INFINITY, f64::INFINITY]),
            exact(&normals),
            exact(&normals.iter().map(|x| -x).collect::<Vec<_>>()),
        ];
        let mut words = Vec::new();
        for s in &sums {
            s.push_record(&mut words);
        }
        let mut rest = &words[..];
        for s in &sums {
            let (r, took) = ExactSum::from_record(rest).unwrap();
            assert!(same(&r, s), "{s:?}");
            // Merged from its record, as merged from the sum.
            let (mut a, mut b) = (exact(&[3.0, -1e-10]), exact(&[3.0, -1e-10]));
            a.merge(s);
            assert_eq!(b.merge_record(rest), Some(took));
            assert!(same(&a, &b), "{s:?}");
            rest = &rest[took..];
        }
        assert!(rest.is_empty());
        // Zero is its header alone; a sum of 1000 values near 1 a header and two words.
        let len = |s: &ExactSum| {
            let mut w = Vec::new();
            s.push_record(&mut w);
            w.len()
        };
        assert_eq!(len(&sums[0]), 1);
        assert_eq!(len(&sums[10]), 3);
        let refused = |w: &[i64]| ExactSum::from_record(w).is_none();
        // Nothing; other header bits; a digit missing; a half past the last digit set;
        // digits past the top.
        for w in [
            &[][..],
            &[1 << 20],
            &[-1],
            &[1 << 8],
            &[1 << 8 | 3, 1 << 32],
            &[67 | 2 << 8, 1],
        ] {
            assert!(refused(w), "{w:?}");
        }
        // The top digit itself is a digit.
        assert_eq!(
            ExactSum::from_record(&[67 | 1 << 8, 1]).map(|r| r.1),
            Some(2)
        );
    }
}
