"""The reductions, with numpy's signatures.

Each function passes its arguments to the native ``reduce`` by position, in the order of its
keywords in the kernels' table of reductions (``_native.REDUCTIONS``), which is numpy's order;
the native side binds them to those keywords. (It also takes them by name, but a keyword call
builds a dict, which costs more than reducing a thousand elements.)
numpy's own ``_NoValue`` marks an argument as not given, exactly as in numpy, so an explicit
``None`` or ``keepdims=np._NoValue`` means what it means to numpy. The native side decides the
path (``crates/pybind/src/rules.rs``).
"""

from collections.abc import Callable
from typing import Any

import numpy as np

from . import _native

_NoValue: Any = np._NoValue
_reduce = _native.reduce


def sum(
    a: Any,
    axis: Any = None,
    dtype: Any = None,
    out: Any = None,
    keepdims: Any = _NoValue,
    initial: Any = _NoValue,
    where: Any = _NoValue,
) -> Any:
    """Sum of array elements over a given axis, as ``numpy.sum``."""
    return _reduce("sum", a, axis, dtype, out, keepdims, initial, where)


def nansum(
    a: Any,
    axis: Any = None,
    dtype: Any = None,
    out: Any = None,
    keepdims: Any = _NoValue,
    initial: Any = _NoValue,
    where: Any = _NoValue,
) -> Any:
    """Sum treating NaN as zero, as ``numpy.nansum``."""
    return _reduce("nansum", a, axis, dtype, out, keepdims, initial, where)


def prod(
    a: Any,
    axis: Any = None,
    dtype: Any = None,
    out: Any = None,
    keepdims: Any = _NoValue,
    initial: Any = _NoValue,
    where: Any = _NoValue,
) -> Any:
    """Product of array elements over a given axis, as ``numpy.prod``.

    Float products keep their exponent apart until the end and are rounded once, so where
    numpy's running product overflows or underflows (``[1e300, 1e300, 1e-300]``) this one is
    the correctly rounded product (about ``1e300``) rather than inf, 0 or NaN.
    """
    return _reduce("prod", a, axis, dtype, out, keepdims, initial, where)


def nanprod(
    a: Any,
    axis: Any = None,
    dtype: Any = None,
    out: Any = None,
    keepdims: Any = _NoValue,
    initial: Any = _NoValue,
    where: Any = _NoValue,
) -> Any:
    """Product treating NaN as one, as ``numpy.nanprod``."""
    return _reduce("nanprod", a, axis, dtype, out, keepdims, initial, where)


def mean(
    a: Any,
    axis: Any = None,
    dtype: Any = None,
    out: Any = None,
    keepdims: Any = _NoValue,
    *,
    where: Any = _NoValue,
) -> Any:
    """Arithmetic mean over a given axis, as ``numpy.mean``."""
    return _reduce("mean", a, axis, dtype, out, keepdims, where)


def nanmean(
    a: Any,
    axis: Any = None,
    dtype: Any = None,
    out: Any = None,
    keepdims: Any = _NoValue,
    *,
    where: Any = _NoValue,
) -> Any:
    """Arithmetic mean ignoring NaN, as ``numpy.nanmean``."""
    return _reduce("nanmean", a, axis, dtype, out, keepdims, where)


def var(
    a: Any,
    axis: Any = None,
    dtype: Any = None,
    out: Any = None,
    ddof: Any = 0,
    keepdims: Any = _NoValue,
    *,
    where: Any = _NoValue,
    mean: Any = _NoValue,
    correction: Any = _NoValue,
) -> Any:
    """Variance over a given axis, as ``numpy.var``."""
    return _reduce("var", a, axis, dtype, out, ddof, keepdims, where, mean, correction)


def std(
    a: Any,
    axis: Any = None,
    dtype: Any = None,
    out: Any = None,
    ddof: Any = 0,
    keepdims: Any = _NoValue,
    *,
    where: Any = _NoValue,
    mean: Any = _NoValue,
    correction: Any = _NoValue,
) -> Any:
    """Standard deviation over a given axis, as ``numpy.std``."""
    return _reduce("std", a, axis, dtype, out, ddof, keepdims, where, mean, correction)


def nanvar(
    a: Any,
    axis: Any = None,
    dtype: Any = None,
    out: Any = None,
    ddof: Any = 0,
    keepdims: Any = _NoValue,
    *,
    where: Any = _NoValue,
    mean: Any = _NoValue,
    correction: Any = _NoValue,
) -> Any:
    """Variance ignoring NaN, as ``numpy.nanvar``."""
    return _reduce("nanvar", a, axis, dtype, out, ddof, keepdims, where, mean, correction)


def nanstd(
    a: Any,
    axis: Any = None,
    dtype: Any = None,
    out: Any = None,
    ddof: Any = 0,
    keepdims: Any = _NoValue,
    *,
    where: Any = _NoValue,
    mean: Any = _NoValue,
    correction: Any = _NoValue,
) -> Any:
    """Standard deviation ignoring NaN, as ``numpy.nanstd``."""
    return _reduce("nanstd", a, axis, dtype, out, ddof, keepdims, where, mean, correction)


def min(
    a: Any,
    axis: Any = None,
    out: Any = None,
    keepdims: Any = _NoValue,
    initial: Any = _NoValue,
    where: Any = _NoValue,
) -> Any:
    """Minimum over a given axis, as ``numpy.min``."""
    return _reduce("min", a, axis, out, keepdims, initial, where)


def max(
    a: Any,
    axis: Any = None,
    out: Any = None,
    keepdims: Any = _NoValue,
    initial: Any = _NoValue,
    where: Any = _NoValue,
) -> Any:
    """Maximum over a given axis, as ``numpy.max``."""
    return _reduce("max", a, axis, out, keepdims, initial, where)


def nanmin(
    a: Any,
    axis: Any = None,
    out: Any = None,
    keepdims: Any = _NoValue,
    initial: Any = _NoValue,
    where: Any = _NoValue,
) -> Any:
    """Minimum ignoring NaN, as ``numpy.nanmin``."""
    return _reduce("nanmin", a, axis, out, keepdims, initial, where)


def nanmax(
    a: Any,
    axis: Any = None,
    out: Any = None,
    keepdims: Any = _NoValue,
    initial: Any = _NoValue,
    where: Any = _NoValue,
) -> Any:
    """Maximum ignoring NaN, as ``numpy.nanmax``."""
    return _reduce("nanmax", a, axis, out, keepdims, initial, where)


def count_nonzero(a: Any, axis: Any = None, *, keepdims: Any = False) -> Any:
    """Number of elements that are not zero, as ``numpy.count_nonzero``."""
    return _reduce("count_nonzero", a, axis, keepdims)


def any(
    a: Any,
    axis: Any = None,
    out: Any = None,
    keepdims: Any = _NoValue,
    *,
    where: Any = _NoValue,
) -> Any:
    """Whether any element along an axis is true, as ``numpy.any``."""
    return _reduce("any", a, axis, out, keepdims, where)


def all(
    a: Any,
    axis: Any = None,
    out: Any = None,
    keepdims: Any = _NoValue,
    *,
    where: Any = _NoValue,
) -> Any:
    """Whether every element along an axis is true, as ``numpy.all``."""
    return _reduce("all", a, axis, out, keepdims, where)


def ptp(a: Any, axis: Any = None, out: Any = None, keepdims: Any = _NoValue) -> Any:
    """Range of values (maximum - minimum) along an axis, as ``numpy.ptp``."""
    return _reduce("ptp", a, axis, out, keepdims)


def argmin(a: Any, axis: Any = None, out: Any = None, *, keepdims: Any = _NoValue) -> Any:
    """Index of the first minimum along an axis (flat C-order index for ``axis=None``), as
    ``numpy.argmin``; the first NaN if there is one."""
    return _reduce("argmin", a, axis, out, keepdims)


def argmax(a: Any, axis: Any = None, out: Any = None, *, keepdims: Any = _NoValue) -> Any:
    """Index of the first maximum along an axis (flat C-order index for ``axis=None``), as
    ``numpy.argmax``; the first NaN if there is one."""
    return _reduce("argmax", a, axis, out, keepdims)


def nanargmin(a: Any, axis: Any = None, out: Any = None, *, keepdims: Any = _NoValue) -> Any:
    """Index of the first minimum ignoring NaN, as ``numpy.nanargmin`` (ValueError for an
    all-NaN slice)."""
    return _reduce("nanargmin", a, axis, out, keepdims)


def nanargmax(a: Any, axis: Any = None, out: Any = None, *, keepdims: Any = _NoValue) -> Any:
    """Index of the first maximum ignoring NaN, as ``numpy.nanargmax`` (ValueError for an
    all-NaN slice)."""
    return _reduce("nanargmax", a, axis, out, keepdims)


_FUNCS: dict[str, Callable[..., Any]] = {name: globals()[name] for name in _native.REDUCTIONS}


def explain(func: Callable[..., Any] | str, a: Any, **kwargs: Any) -> dict[str, Any]:
    """Which path ``func(a, **kwargs)`` takes and why, without running it.

    Returns a dict: ``path`` ("kernel", "kernel+copy" or "numpy"), ``reason``, ``simd`` (the
    SIMD level) and ``threads``; on the kernel paths also ``kernel_dtype``, ``copy_to``,
    ``axes``, ``walk``, ``broadcast`` (axes read once), ``parallel`` (on the thread pool) and
    ``handoff`` (shared with the spinning helpers below the pool's threshold). ``func`` is a
    stridewise reduction or its name; for ``average`` with weights the kernel paths report
    ``kernel_dtype`` (data and weights), ``result_dtype`` and ``axes``.
    """
    import inspect

    from . import _quantile
    from ._average import average, explain_average

    name = func if isinstance(func, str) else getattr(func, "__name__", "")
    f = average if name == "average" else _FUNCS.get(name)
    if name in _quantile.__all__:
        f = getattr(_quantile, name)
    if f is None:
        raise ValueError(f"explain: {func!r} is not a stridewise reduction")
    params = inspect.signature(f).parameters
    unknown = [k for k in kwargs if k not in params or k == "a"]
    if unknown:
        raise TypeError(f"{name}() got an unexpected keyword argument '{unknown[0]}'")
    if f is average:
        return explain_average(a, **kwargs)
    if name in _quantile.__all__:
        return {
            **_quantile.explain_selection(a, **kwargs),
            "simd": _native.simd_level(),
            "threads": _native.get_num_threads(),
        }
    # As the call would pass them: the function's own defaults for what is not given.
    given = {k: kwargs.get(k, p.default) for k, p in params.items() if k != "a"}
    return _native.explain(name, a, **given)
