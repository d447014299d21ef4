"""What the harness measures: the cases, the libraries each one runs, and the inputs.

A case is one call: a function (``mean``, ``sum``, ...), a dtype, a layout of the input, its
size or shape and an axis (an int, a tuple of ints or None). Every case runs numpy's function
and stridewise's, stridewise's again on one thread (``stridewise-1t``), plus bottleneck's and
numexpr's where they have that function and that form of axis, as tests of one pytest-benchmark
group, so every ratio comes from one run. The scaling cases (``SCALING_CASES``) also run
stridewise on 2, 4, 8, ... threads up to the machine's CPU count (``stridewise-Nt``).

A loop case (layout ``loop``) is many small 1-d arrays, each reduced by its own call in a Python
loop, ``[f(x) for x in arrays]``: the per-call overhead. Its times are reported per call.

Inputs are made once per session and kept (up to ``CACHE_BYTES``). Inputs of at most
``HOT_MAX`` elements are measured hot in cache, on purpose: that is the in-cache case. Larger
inputs come in ``k`` copies that the benchmark rotates through, so that at least
``ROTATE_BYTES`` are read between two uses of one buffer and nothing is measured hot by
accident. The broadcast layout is the exception: it reads one row over and over, which is in
cache by nature; its figures are labelled so.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import itertools
import math
import os
import re
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

import stridewise as sw

FUNCS = ("mean", "sum", "var", "std", "min", "max", "nanmean", "nansum")
DTYPES = ("f64", "f32", "i32", "i64")
# The narrow integers images and sensor data come in: 1-d contiguous cases, and the image shapes.
SMALL_INTS = ("u8", "i16")
# bottleneck's reductions among the benchmarked functions (it has no nanprod).
BOTTLENECK = frozenset(
    (
        "nansum",
        "nanmean",
        "nanvar",
        "nanstd",
        "nanmin",
        "nanmax",
        "nanargmin",
        "nanargmax",
        "median",
        "nanmedian",
    )
)
NP_DTYPE = {
    "f64": np.float64,
    "f32": np.float32,
    "i32": np.int32,
    "i64": np.int64,
    "u8": np.uint8,
    "i16": np.int16,
}
SIZES = (10**3, 10**4, 10**5, 10**6, 10**7, 10**8)
# Sides of the square 2-d inputs the layouts are cut from: about 1e3 .. 1e8 elements, and
# 4000 x 4000, the size the targets name.
SIDES = (32, 100, 316, 1000, 4000, 10000)
LAYOUTS = (
    "contiguous",
    "fortran",
    "padded",
    "step2-inner",
    "step2-both",
    "reversed",
    "broadcast",
    "aligned",
)

HOT_MAX = 100_000  # elements; up to this size the input is measured in cache (L2 is 1 MiB here)
# Read between two uses of one buffer: 16 times the 32 MiB L3. Three times was not enough: this
# L3 does not evict in LRU order and kept about a quarter of a 128 MB array read over and over
# (the first runs measured 126% of the probe).
ROTATE_BYTES = 512 << 20
CACHE_BYTES = 8 << 30  # inputs kept for the session; the oldest are dropped past this
PROBE_WORDS = 10**8  # uint64 words the read-bandwidth probe reads (800 MB)


Axis = int | tuple[int, ...] | None


def axis_text(axis: Axis) -> str:
    """``axis=0``, ``axis=(0,1)``, or nothing for None, as case names show it."""
    if axis is None:
        return ""
    if isinstance(axis, tuple):
        return f" axis=({','.join(str(a) for a in axis)})"
    return f" axis={axis}"


@dataclass(frozen=True)
class Case:
    func: str
    dtype: str
    layout: str
    size: int  # 1-d and loop: elements (of one array); square 2-d: the side; shape: its elements
    ndim: int
    axis: Axis
    # An explicit C-contiguous shape (the image, frame, tall-skinny, short-row and cube cases);
    # empty for the 1-d and square cases, whose shape is (size,) or (size, size).
    shape: tuple[int, ...] = ()
    loop: int = 0  # layout "loop": this many separate 1-d arrays of ``size``, one call each
    # quantile/percentile: the q argument (a tuple, passed as an array)
    q: tuple[float, ...] = ()

    @property
    def name(self) -> str:
        """The case as the report shows it, e.g. ``mean f64 4000x4000 fortran axis=0``,
        ``mean u8 1080x1920x3 contiguous axis=(0,1)``, ``mean f64 64 loop x1000``."""
        if self.loop:
            return f"{self.func} {self.dtype} {self.size} {self.layout} x{self.loop}"
        if self.shape:
            shape = "x".join(str(d) for d in self.shape)
        elif self.ndim == 1:
            shape = f"{self.size:.0e}".replace("e+0", "e")
        else:
            shape = f"{self.size}x{self.size}"
        name = f"{self.func} {self.dtype} {shape} {self.layout}{axis_text(self.axis)}"
        if len(self.q) > 4:
            return f"{name} {len(self.q)}q"
        if self.q:
            return f"{name} q=({','.join(f'{x:g}' for x in self.q)})"
        return name

    @property
    def base_shape(self) -> tuple[int, ...]:
        """Shape of the base array the case's view is cut from (a loop case's arrays, stacked)."""
        if self.loop:
            return (self.loop, self.size)
        if self.shape:
            return self.shape
        return (self.size,) if self.ndim == 1 else (self.size, self.size)

    @property
    def base_len(self) -> int:
        """Elements of the base array (a loop case: of all its arrays, read by one round)."""
        return math.prod(self.base_shape)

    @property
    def calls(self) -> int:
        """Reductions one benchmark call makes: a loop case's arrays, else 1."""
        return self.loop or 1

    @property
    def nan_input(self) -> bool:
        """The nan-functions read float data with 1% NaN, as they would in use."""
        return self.func.startswith("nan") and self.dtype.startswith("f")


def shaped(func: str, dtype: str, shape: tuple[int, ...], axis: Axis) -> Case:
    """A case on a C-contiguous input of an explicit shape."""
    return Case(func, dtype, "contiguous", math.prod(shape), len(shape), axis, shape=shape)


def looped(func: str, dtype: str, size: int, count: int = 1000) -> Case:
    """``count`` separate 1-d arrays of ``size`` elements, reduced one call each."""
    return Case(func, dtype, "loop", size, 1, None, loop=count)


def thread_counts(cpus: int | None = None) -> tuple[int, ...]:
    """The thread counts of the scaling table: 1, 2, 4, 8, ... below the CPU count, and it."""
    cpus = cpus or os.cpu_count() or 1
    counts = {cpus}
    n = 1
    while n < cpus:
        counts.add(n)
        n *= 2
    return tuple(sorted(counts))


def lib_threads(lib: str) -> int | None:
    """The thread count a pseudo-library ``stridewise-Nt`` pins; None for the others."""
    m = re.fullmatch(r"stridewise-(\d+)t", lib)
    return int(m.group(1)) if m else None


def thread_setting(lib: str) -> contextlib.AbstractContextManager[None]:
    """What the benchmark runs inside: ``sw.threads(N)`` for ``stridewise-Nt``, else nothing.
    It is set once around the whole benchmark (calibration and every round), not per call."""
    n = lib_threads(lib)
    return sw.threads(n) if n is not None else contextlib.nullcontext()


# The cases the thread-scaling table shows: stridewise also runs them on 2, 4, ... threads.
SCALING_CASES = (
    "mean f64 1e5 contiguous",
    "mean f64 1e7 contiguous",
    "mean f64 4000x4000 contiguous axis=0",
    "mean f64 4000x4000 contiguous axis=1",
    "var f64 1e7 contiguous",
    "min f64 1e7 contiguous",
    "mean u8 1080x1920x3 contiguous axis=(0,1)",
)


def libs_for(case: Case) -> tuple[str, ...]:
    """Libraries that have the case's function, numpy first.

    Every case runs stridewise at the default thread count and on one thread
    (``stridewise-1t``); the scaling cases also on each count of ``thread_counts()`` above 1.
    bottleneck has only the nan-functions (``BOTTLENECK``; not nanprod). numexpr has
    ``sum()`` (its mean is ``sum(a) / n``, which is how its users write one); it is run on
    floats only, because it sums int32 in int32 and wraps where numpy and stridewise do not.
    Neither takes a tuple of axes, so they sit out those cases (and the loops of small
    arrays, which compare numpy and stridewise).
    """
    libs = ["numpy", "stridewise", "stridewise-1t"]
    other_forms = not isinstance(case.axis, tuple) and not case.loop
    if case.func in BOTTLENECK and other_forms:
        libs.append("bottleneck")
    if case.func in ("sum", "mean") and case.dtype.startswith("f") and other_forms:
        libs.append("numexpr")
    if case.name in SCALING_CASES:
        libs += [f"stridewise-{n}t" for n in thread_counts() if n > 1]
    return tuple(libs)


def full_cases() -> list[Case]:
    """The whole matrix ``make bench`` runs (about 480 cases)."""
    cases = [Case(f, d, "contiguous", n, 1, None) for f in FUNCS for d in DTYPES for n in SIZES]
    # mean f64 over every layout, size and axis: the main table and the plot.
    cases += [
        Case("mean", "f64", lay, side, 2, axis)
        for side in SIDES
        for lay in LAYOUTS
        for axis in (None, 0, 1)
    ]
    # mean of the other dtypes, and the other functions, over every layout at 4000x4000.
    cases += [Case("mean", d, lay, 4000, 2, None) for d in DTYPES[1:] for lay in LAYOUTS]
    cases += [Case(f, "f64", lay, 4000, 2, None) for f in FUNCS[1:] for lay in LAYOUTS]
    cases += [
        Case(f, "f64", lay, 4000, 2, axis)
        for f in FUNCS[1:]
        for lay in ("contiguous", "fortran")
        for axis in (0, 1)
    ]
    return cases + shape_cases() + exact_cases()


def exact_cases() -> list[Case]:
    """Sums whose elements cancel exactly (issue 15): the second half is the first negated,
    so the exact sum is 0 and no error bound can decide its rounding; every call takes the
    exact path. Beside ``sum f64 1e7 contiguous`` (the fast path), they show its cost."""
    return [
        Case("sum", d, "cancelling", n, 1, None, shape=(n,))
        for d, n in (("f64", 10**5), ("f64", 10**7), ("f32", 10**7))
    ]


def shape_cases() -> list[Case]:
    """The shapes people reduce (issue 12): images, frames, tall-skinny, short rows, cubes,
    narrow integers, and loops over many small arrays."""
    image, rgba, frames = (1080, 1920, 3), (1080, 1920, 4), (32, 480, 640)
    tall, rows, cube = (200_000, 40), (4096, 768), (365, 180, 360)
    # A few arrays stacked and averaged element-wise, `np.mean([a, b, c, d], axis=0)`.
    stacked = (4, 250_000)
    out = [shaped(f, "u8", image, (0, 1)) for f in ("mean", "std", "max")]
    out += [shaped("mean", "f32", rgba, (0, 1))]
    out += [shaped(f, "u8", frames, (1, 2)) for f in ("max", "mean")]
    out += [shaped(f, d, tall, 0) for f in ("mean", "sum") for d in ("f64", "f32")]
    out += [shaped(f, d, stacked, 0) for f in ("mean", "sum") for d in ("f64", "f32")]
    out += [shaped(f, "f32", rows, -1) for f in ("mean", "sum", "max")]
    out += [shaped(f, "f32", cube, ax) for f in ("mean", "nanmean") for ax in (0, (1, 2))]
    out += [
        Case(f, d, "contiguous", n, 1, None)
        for f in ("mean", "sum", "min", "max")
        for d in SMALL_INTS
        for n in (10**5, 10**7)
    ]
    out += [looped(f, "f64", n) for f in ("mean", "sum") for n in (64, 512, 4096)]
    return out + family_cases()


def family_cases() -> list[Case]:
    """The reductions beyond the first eight (issue 13): count_nonzero, any, all, ptp,
    argmin/argmax and nanargmax (bottleneck beside it), prod and nanprod. The float values
    have no zero, so ``any`` is decided by its first element and ``all`` reads everything."""
    funcs = ("count_nonzero", "any", "all", "ptp")
    out = [Case(f, d, "contiguous", 10**7, 1, None) for f in funcs for d in ("f64", "u8")]
    out += [Case("ptp", "f64", "contiguous", 10**5, 1, None)]
    out += [Case(f, "f64", "contiguous", 4000, 2, axis) for f in funcs for axis in (0, 1)]
    args = ("argmax", "argmin")
    out += [Case(f, d, "contiguous", 10**7, 1, None) for f in args for d in ("f64", "u8")]
    out += [
        Case(f, d, "contiguous", n, 1, None)
        for f, d, n in (
            ("argmax", "f32", 10**7),
            ("argmax", "f64", 10**5),
            ("nanargmax", "f64", 10**7),
            ("nanargmax", "f64", 10**5),
        )
    ]
    out += [Case(f, "f64", "contiguous", 4000, 2, axis) for f in args for axis in (0, 1)]
    out += [Case("nanargmax", "f64", "contiguous", 4000, 2, 0)]
    out += [Case("argmax", "f64", lay, 4000, 2, None) for lay in ("fortran", "reversed")]
    out += [Case("argmax", "f64", "contiguous", 1000, 2, ax) for ax in (0, 1)]
    # Short lines (each a line's first chunk, in one pass) and in-cache integers.
    out += [Case("argmax", d, "contiguous", 316, 2, 1) for d in ("f64", "f32", "i64")]
    out += [Case("argmax", "i32", "contiguous", 10**5, 1, None)]
    # prod (bottleneck has no nanprod): standard normal floats, whose running product
    # underflows to 0 in numpy (and stays in range in stridewise).
    out += [Case("prod", d, "contiguous", 10**7, 1, None) for d in ("f64", "f32", "i64", "u8")]
    out += [Case("nanprod", "f64", "contiguous", 10**7, 1, None)]
    out += [Case("prod", "f64", "contiguous", 10**5, 1, None)]
    out += [Case("prod", "f64", "contiguous", n, 2, ax) for n in (1000, 4000) for ax in (0, 1)]
    # average with weights (``weights_for``): of the data's shape for axis=None, along the
    # reduced axis otherwise.
    out += [Case("average", d, "contiguous", 10**7, 1, None) for d in ("f64", "f32")]
    out += [Case("average", "f64", "contiguous", 10**5, 1, None)]
    out += [
        Case("average", "f64", lay, 4000, 2, ax)
        for lay in ("contiguous", "fortran")
        for ax in (0, 1)
    ]
    return out + selection_cases()


def selection_cases() -> list[Case]:
    """Median, quantile and percentile (issue 14): the cases its targets name (bottleneck's
    median and nanmedian beside), and a few more layouts and sizes."""
    cube = (365, 180, 360)
    out = [Case("median", "f64", "contiguous", n, 1, None) for n in (10**3, 10**5, 10**7)]
    out += [Case("nanmedian", "f64", "contiguous", 10**3, 1, None)]
    out += [Case("quantile", "f64", "contiguous", 10**3, 1, None, q=(0.3,))]
    out += [Case("median", "f64", "contiguous", 100, 2, 1)]
    out += [Case("median", "f64", "contiguous", 4000, 2, ax) for ax in (0, 1)]
    out += [Case("median", "f64", "fortran", 1000, 2, 1)]
    out += [shaped("nanmedian", "f32", cube, 0)]
    out += [dataclasses.replace(shaped("nanquantile", "f32", cube, 0), q=(0.1, 0.5, 0.9))]
    hundred = tuple(float(x) for x in np.linspace(0, 100, 100))
    out += [Case("percentile", "f64", "contiguous", 4000, 2, 1, q=hundred)]
    out += [Case("quantile", "f64", "contiguous", 10**7, 1, None, q=(0.25, 0.75))]
    out += [Case("nanpercentile", "f64", "contiguous", 1000, 2, 0, q=(5.0, 95.0))]
    return out


def target_cases() -> list[Case]:
    """The cases the speed targets name (``make bench-quick``)."""
    m = "mean"
    return [
        Case(m, "f64", "contiguous", 10**3, 1, None),
        Case(m, "f64", "contiguous", 10**5, 1, None),
        Case(m, "f64", "contiguous", 10**7, 1, None),
        Case(m, "f32", "contiguous", 10**7, 1, None),
        Case(m, "i32", "contiguous", 10**7, 1, None),
        Case(m, "f64", "contiguous", 4000, 2, None),
        Case(m, "f64", "fortran", 4000, 2, None),
        Case(m, "f64", "padded", 4000, 2, None),
        Case(m, "f64", "reversed", 4000, 2, None),
        Case(m, "f64", "step2-both", 4000, 2, None),
        Case(m, "f64", "step2-inner", 4000, 2, None),
        Case(m, "f64", "contiguous", 4000, 2, 0),
        Case(m, "f64", "contiguous", 4000, 2, 1),
        Case("var", "f64", "contiguous", 10**7, 1, None),
        Case("nanmean", "f64", "contiguous", 10**7, 1, None),
        Case("min", "f64", "contiguous", 10**7, 1, None),
        Case("argmax", "f64", "contiguous", 10**7, 1, None),
        Case("argmax", "f64", "contiguous", 4000, 2, 0),
        *[c for c in selection_cases() if c.name in TARGETS],
    ]


# The speed each target case must show over numpy (the benchmark issue's table).
TARGETS: dict[str, float] = {
    "mean f64 1e3 contiguous": 4.0,
    "mean f64 1e5 contiguous": 3.0,
    "mean f64 1e7 contiguous": 2.5,
    "mean f32 1e7 contiguous": 2.5,
    "mean i32 1e7 contiguous": 3.0,
    "mean f64 4000x4000 fortran": 2.5,
    "mean f64 4000x4000 padded": 2.5,
    "mean f64 4000x4000 reversed": 2.5,
    "mean f64 4000x4000 step2-both": 2.5,
    "mean f64 4000x4000 step2-inner": 1.2,
    "mean f64 4000x4000 contiguous axis=0": 1.5,
    "mean f64 4000x4000 contiguous axis=1": 2.0,
    "var f64 1e7 contiguous": 4.0,
    "nanmean f64 1e7 contiguous": 6.0,
    "min f64 1e7 contiguous": 1.5,
    # issue 13 (2 cores; also >= 1.5x on one thread, read from the stridewise-1t column)
    "argmax f64 1e7 contiguous": 2.5,
    "argmax f64 4000x4000 contiguous axis=0": 5.0,
    # issue 14 (2 cores)
    "median f64 1e7 contiguous": 2.0,
    "nanmedian f32 365x180x360 contiguous axis=0": 10.0,
    "nanquantile f32 365x180x360 contiguous axis=0 q=(0.1,0.5,0.9)": 30.0,
    "percentile f64 4000x4000 contiguous axis=1 100q": 5.0,
}
# Cases that must also reach this fraction of the read-bandwidth probe.
PROBE_TARGETS: dict[str, float] = {
    "mean f64 1e7 contiguous": 0.85,
    "mean f32 1e7 contiguous": 0.85,
}


def function(lib: str, case: Case) -> Callable[[Any], Any]:
    """The callable one library runs for a case, taking the input (a loop case: the list of
    arrays, reduced one call each). ``stridewise-Nt`` is stridewise's function: the benchmark
    runs it inside ``thread_setting(lib)``."""
    f = _one_call(lib, case)
    if case.loop:
        return lambda xs: [f(x) for x in xs]
    return f


def _one_call(lib: str, case: Case) -> Callable[[Any], Any]:
    if lib == "numexpr":
        import numexpr as ne

        if isinstance(case.axis, tuple):
            raise ValueError("numexpr reduces over one axis")
        # numexpr refuses negative axes: its users write the same axis counted from the front.
        axis = None if case.axis is None else case.axis % case.ndim
        expr = "sum(a)" if axis is None else f"sum(a, axis={axis})"
        if case.func == "mean":

            def ne_mean(a: Any) -> Any:
                n = a.size if axis is None else a.shape[axis]
                return ne.evaluate(expr, local_dict={"a": a}) / n

            return ne_mean
        return lambda a: ne.evaluate(expr, local_dict={"a": a})
    module: Any
    if lib == "numpy":
        module = np
    elif lib == "stridewise" or lib_threads(lib) is not None:
        module = sw
    elif lib == "bottleneck":
        import bottleneck as module
    else:
        raise ValueError(f"unknown library {lib!r}")
    f = getattr(module, case.func)
    if case.q:
        q, axis = np.array(case.q), case.axis
        return lambda a: f(a, q, axis=axis)
    if case.func == "average":
        axis = case.axis
        return lambda a: f(a, axis=axis, weights=weights_for(a.shape, axis))
    return f if case.axis is None else functools.partial(f, axis=case.axis)


@functools.cache
def weights_for(shape: tuple[int, ...], axis: Axis) -> np.ndarray:
    """The weights of an ``average`` case: positive float64, of the data's shape for
    ``axis=None``, along the one reduced axis otherwise (numpy broadcasts those). Made once."""
    if axis is None:
        return np.linspace(0.5, 1.5, math.prod(shape)).reshape(shape)
    if not isinstance(axis, int):
        raise ValueError("average cases reduce one axis or all")
    return np.linspace(0.5, 1.5, shape[axis])


class Inputs:
    """The session's input arrays: made once, reused by every case and library."""

    def __init__(self, budget: int = CACHE_BYTES) -> None:
        self._bases: OrderedDict[tuple[Any, ...], list[Any]] = OrderedDict()
        self._budget = budget

    def _kept(self, key: tuple[Any, ...], make: Callable[[], list[Any]]) -> list[Any]:
        if key in self._bases:
            self._bases.move_to_end(key)
            return self._bases[key]
        arrays = make()
        self._bases[key] = arrays
        while sum(input_bytes(a) for v in self._bases.values() for a in v) > self._budget:
            if len(self._bases) == 1:
                break
            self._bases.popitem(last=False)
        return arrays

    def _values(self, dtype: str, n: int, nan: bool) -> np.ndarray:
        rng = np.random.default_rng(n)
        if dtype.startswith("i"):
            return rng.integers(-1000, 1000, n, dtype=NP_DTYPE[dtype])
        if dtype.startswith("u"):
            return rng.integers(0, 256, n, dtype=NP_DTYPE[dtype])  # 0..255
        a = rng.standard_normal(n, dtype=NP_DTYPE[dtype])
        a += 1.0
        if nan:
            a[rng.integers(0, n, max(n // 100, 1))] = np.nan
        return a

    def base(self, case: Case, aligned: bool = False, order: str = "C") -> list[np.ndarray]:
        """The copies of the case's base array (``case.base_shape``)."""
        n = case.base_len
        shape = case.base_shape
        key = (case.dtype, shape, case.nan_input, aligned, order)

        def make() -> list[np.ndarray]:
            first = self._values(case.dtype, n, case.nan_input).reshape(shape)
            copies = copies_needed(first.nbytes, n)
            out = []
            for _ in range(copies):
                if aligned:
                    a = sw.empty(shape, dtype=first.dtype)
                    a[...] = first
                else:
                    a = np.array(first, order=order)
                out.append(a)
            return out

        return self._kept(key, make)

    def views(self, case: Case) -> list[Any]:
        """The inputs the case reads: one per rotated copy (a loop case: a list of arrays)."""
        lay = case.layout
        if lay == "loop":
            return self._kept(("loop", case.dtype, case.size, case.loop), lambda: self._loop(case))
        if lay == "broadcast":
            row = self.base(Case(case.func, case.dtype, "contiguous", case.size, 1, None))[0]
            return [np.broadcast_to(row, (case.size, case.size))]
        bases = self.base(case, aligned=lay == "aligned", order="F" if lay == "fortran" else "C")
        cut: Callable[[np.ndarray], np.ndarray] = {
            "contiguous": lambda b: b,
            "fortran": lambda b: b,
            "aligned": lambda b: b,
            "padded": lambda b: b[:, : b.shape[1] - 1],
            "step2-inner": lambda b: b[:, ::2],
            "step2-both": lambda b: b[::2, ::2],
            "reversed": lambda b: b[::-1],
            "cancelling": cancelling,
        }[lay]
        return [cut(b) for b in bases]

    def _loop(self, case: Case) -> list[list[np.ndarray]]:
        """Copies of a loop case's arrays: each array its own allocation, as separately made
        arrays are; the copies rotate as one input of ``base_len`` elements would."""
        first = self._values(case.dtype, case.base_len, case.nan_input)
        copies = copies_needed(first.nbytes, case.base_len)
        return [[np.array(x) for x in np.split(first, case.loop)] for _ in range(copies)]

    def probe(self, words: int) -> np.ndarray:
        key = ("probe", words)
        return self._kept(key, lambda: [np.arange(words, dtype=np.uint64)])[0]


def cancelling(b: np.ndarray) -> np.ndarray:
    """The first half of a 1-d ``b`` (of even length), then the same negated in reverse
    order: a sum that is exactly 0."""
    half = b[: len(b) // 2]
    return np.concatenate([half, -half[::-1]])


def input_bytes(x: Any) -> int:
    """Bytes of an input: an array, or a loop case's list of arrays."""
    return sum(a.nbytes for a in x) if isinstance(x, list) else int(x.nbytes)


def first_array(x: Any) -> np.ndarray:
    """The array one call reads: the input itself, or a loop case's first array."""
    return x[0] if isinstance(x, list) else x


def copies_needed(nbytes: int, n: int) -> int:
    """Copies to rotate through so a buffer is never reused while still in cache."""
    if n <= HOT_MAX:
        return 1
    return max(1, math.ceil(ROTATE_BYTES / nbytes))


def in_cache(case: Case) -> bool:
    """Whether the case is measured on data in cache (on purpose: small, or broadcast)."""
    return case.base_len <= HOT_MAX or case.layout == "broadcast"


def rotating(f: Callable[[Any], Any], arrays: list[np.ndarray]) -> Callable[[], Any]:
    """A no-argument call of ``f`` on the next copy each time."""
    it = itertools.cycle(arrays)
    return lambda: f(next(it))
