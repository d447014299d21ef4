"""The comparison oracle itself can fail: wrong type, dtype, shape, value, warning or
exception are each caught (so a passing comparison test means something)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import stridewise as sw
from conftest import (
    assert_result_matches,
    check_against_numpy,
    exact_std,
    exact_var,
    make_data,
)


def _perturb(x: Any, ulps: int) -> Any:
    v = np.asarray(x)
    for _ in range(ulps):
        v = np.nextafter(v, np.inf)
    return v[()] if np.ndim(x) == 0 and isinstance(x, np.generic) else v


def test_oracle_rejects_inaccurate_sum() -> None:
    a = np.arange(1, 101, dtype=np.float64) / 8  # numpy's sum is exact here
    r = np.sum(a)
    with pytest.raises(AssertionError, match="error"):
        assert_result_matches("sum", a, r, _perturb(r, 2), {}, "kernel")
    assert_result_matches("sum", a, r, r, {}, "kernel")


def test_oracle_rejects_inaccurate_var() -> None:
    """var/std must be the exact value correctly rounded: one ulp off is an error."""
    a = make_data(np.float64, (50,), seed=1)
    exact = exact_var(a.tolist(), 0)
    r = np.float64(float(exact))  # Fraction -> float rounds correctly
    for func, good in (("var", r), ("std", np.float64(float(exact_std(exact))))):
        want = getattr(np, func)(a)
        assert_result_matches(func, a, want, good, {}, "kernel")
        for bad in (np.nextafter(good, np.inf), np.nextafter(good, 0), good * (1 + 1e-9)):
            with pytest.raises(AssertionError):
                assert_result_matches(func, a, want, bad, {}, "kernel")


def test_oracle_rejects_type_dtype_shape() -> None:
    a = make_data(np.float64, (4, 5), seed=2)
    r = np.sum(a)
    with pytest.raises(AssertionError, match="type"):
        assert_result_matches("sum", a, r, np.asarray(r), {}, "kernel")
    r0 = np.sum(a, axis=0)
    with pytest.raises(AssertionError, match="dtype"):
        assert_result_matches("sum", a, r0, r0.astype(np.float32), {"axis": 0}, "kernel")
    with pytest.raises(AssertionError, match="shape"):
        assert_result_matches("sum", a, r0, r0[None], {"axis": 0}, "kernel")


def test_oracle_rejects_nan_position_and_minmax_difference() -> None:
    a = np.array([[1.0, np.nan], [2.0, 3.0]])
    r = np.max(a, axis=0)
    with pytest.raises(AssertionError):
        assert_result_matches("max", a, r, np.array([2.0, 3.0]), {"axis": 0}, "kernel")
    with pytest.raises(AssertionError):
        assert_result_matches("max", a, r, _perturb(r, 1), {"axis": 0}, "kernel")


def test_oracle_rejects_integer_difference() -> None:
    a = np.arange(10, dtype=np.int32)
    with pytest.raises(AssertionError):
        assert_result_matches("sum", a, np.sum(a), np.int64(46), {}, "kernel")


def test_oracle_catches_missing_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    a = np.full(3, np.nan)

    def fake(a: Any, **kw: Any) -> Any:
        return np.float64(np.nan)

    fake.__name__ = "nanmean"  # explain() finds the reduction by name
    monkeypatch.setattr(sw, "nanmean", fake)
    with pytest.raises(AssertionError, match="warnings differ"):
        check_against_numpy("nanmean", a)


def test_oracle_catches_wrong_exception(monkeypatch: pytest.MonkeyPatch) -> None:
    def fake(a: Any, **kw: Any) -> Any:
        raise TypeError("duplicate value in 'axis'")

    fake.__name__ = "sum"
    monkeypatch.setattr(sw, "sum", fake)
    with pytest.raises(AssertionError):
        check_against_numpy("sum", np.ones((2, 2)), axis=(0, 0))


def test_oracle_catches_mutated_input(monkeypatch: pytest.MonkeyPatch) -> None:
    def fake(a: Any, **kw: Any) -> Any:
        r = np.sum(a, **kw)
        a[0] = 99
        return r

    fake.__name__ = "sum"
    monkeypatch.setattr(sw, "sum", fake)
    with pytest.raises(AssertionError, match="modified"):
        check_against_numpy("sum", np.ones(3))


def test_oracle_rejects_answer_to_a_different_question() -> None:
    """If numpy computed something other than the plain reduction (e.g. masked), a result
    closer to the plain reduction is not 'more accurate': it must equal numpy's."""
    a = np.arange(1.0, 13.0).reshape(3, 4)
    masked = np.sum(a, axis=1, where=a > 3)
    with pytest.raises(AssertionError, match="not the plain reduction"):
        assert_result_matches("sum", a, masked, np.sum(a, axis=1), {"axis": 1}, "kernel")
