"""var/std accuracy, output by output, against the exact variance: stridewise and numpy.

The issue's experiment (issue 15): random 64x257 float64 matrices of 3 N(0, 1) + 1, reduced
over axis 0 in C order, axis 1 in F order (the same memory walk), axis 1 and whole; plus
float32, an offset mean, integers, ddof=1 and the nan-functions (a tenth of the values NaN).
The exact variance comes from integer arithmetic (the tests' ``exact_var``); errors are in ulp
of the result dtype. Run by hand:

    PYTHONPATH=crates/pybind/python .venv/bin/python python-bench/var_accuracy.py [matrices]
"""

from __future__ import annotations

import importlib.util
import pathlib
import sys
from collections.abc import Callable
from fractions import Fraction
from typing import Any

import numpy as np

import stridewise as sw

# The tests' exact arithmetic (crates/pybind/tests/conftest.py), loaded by path: this
# directory has a conftest.py of its own.
_PATH = pathlib.Path(__file__).resolve().parents[1] / "crates/pybind/tests/conftest.py"
_SPEC = importlib.util.spec_from_file_location("stridewise_test_oracle", _PATH)
assert _SPEC is not None and _SPEC.loader is not None
oracle = importlib.util.module_from_spec(_SPEC)
sys.modules[_SPEC.name] = oracle  # (its dataclasses look their module up)
_SPEC.loader.exec_module(oracle)


def ulps(r: float, exact: Fraction, dt: Any) -> float:
    """|r - exact| in units of the spacing of `dt` at the exact value."""
    spacing = Fraction(float(np.spacing(dt(abs(float(exact))))))
    return float(abs(Fraction(float(r)) - exact) / spacing)


def run(
    case: str,
    make: Callable[[np.random.Generator], np.ndarray],
    axis: Any,
    fn: str,
    count: int,
    ddof: int = 0,
) -> None:
    rng = np.random.default_rng(0)
    worst_sw = worst_np = 0.0
    further = total = 0
    for _ in range(count):
        a = make(rng)
        got = np.ravel(getattr(sw, fn)(a, axis=axis, ddof=ddof))
        want = np.ravel(getattr(np, fn)(a, axis=axis, ddof=ddof))
        dt = want.dtype.type
        for i, row in enumerate(oracle.reduced_rows(a, axis)):
            vals = [float(x) for x in row.astype(np.float64)]
            if fn.startswith("nan"):  # the nan-functions' values: the non-NaN ones
                vals = [x for x in vals if x == x]
            ex = oracle.exact_var(vals, ddof)
            if fn.endswith("std"):
                ex = oracle.exact_std(ex)
            e_sw, e_np = ulps(got[i], ex, dt), ulps(want[i], ex, dt)
            worst_sw, worst_np = max(worst_sw, e_sw), max(worst_np, e_np)
            further += e_sw > e_np
            total += 1
    print(
        f"| {case} | {fn} | {total} | {worst_sw:.3f} | {worst_np:.3f} | "
        f"{100 * further / total:.1f}% |"
    )


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 100

    def normal(rng: np.random.Generator) -> np.ndarray:
        return 3 * rng.standard_normal((64, 257)) + 1

    print("| case | function | outputs | max ulp stridewise | max ulp numpy | further |")
    print("|---|---|---:|---:|---:|---:|")
    for fn in ("var", "std"):
        run("f64 C axis=0", normal, 0, fn, count)
        run("f64 F axis=1", lambda r: np.asfortranarray(normal(r).T), 1, fn, count)
        run("f64 C axis=1", normal, 1, fn, count)
        run("f64 whole", normal, None, fn, max(count // 10, 1))
    run("f32 C axis=0", lambda r: normal(r).astype(np.float32), 0, "var", count)
    run("1e6 + N(0,1), axis=1", lambda r: r.standard_normal((16, 33)) + 1e6, 1, "var", count)
    run("int32 axis=1", lambda r: r.integers(-(10**6), 10**6, (64, 257)), 1, "std", count)
    run("f64 C axis=0, ddof=1", normal, 0, "var", count, ddof=1)

    def holes(rng: np.random.Generator) -> np.ndarray:
        a = normal(rng)
        a[rng.random(a.shape) < 0.1] = np.nan  # a tenth of the values NaN
        return a

    for fn in ("nanvar", "nanstd"):
        run("f64 C axis=0, 10% NaN", holes, 0, fn, count)
        run("f64 C axis=1, 10% NaN", holes, 1, fn, count)
    run("f32 C axis=1, 10% NaN", lambda r: holes(r).astype(np.float32), 1, "nanvar", count)


if __name__ == "__main__":
    main()
