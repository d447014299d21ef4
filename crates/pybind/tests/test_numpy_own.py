"""numpy's own tests of the functions stridewise replaces, with stridewise's functions put in
numpy's namespace (``np.any = sw.any`` ...) for the duration of each test.

The classes are imported from the numpy installed in this environment (its wheels ship their
tests) and subclassed here, so pytest collects them with their own fixtures and parameters.
stridewise's numpy path reaches numpy's original functions (taken when ``_native`` was
imported), never the swapped ones. Issue 13 lists the classes; those of functions that
stridewise does not have yet join as the functions land. numpy's ``TestProd``
calls the ndarray method (``a.prod(axis=0)``), which is numpy's own: it is kept for
completeness but does not reach stridewise; ``TestNanFunctions_SumProd`` and the tests in
test_against_numpy.py do.

Some of numpy's tests take the function as a parameter (``method=np.argmax``) or a class
attribute (``nanfuncs``), bound when numpy's test module was imported: the parameters are
mapped to stridewise's functions by ``pytest_pyfunc_call`` in conftest.py, the attribute is
overridden below.
"""

from __future__ import annotations

import numpy as np
import pytest
import stridewise as sw

function_base = pytest.importorskip("numpy.lib.tests.test_function_base")
numeric = pytest.importorskip("numpy._core.tests.test_numeric")
multiarray = pytest.importorskip("numpy._core.tests.test_multiarray")
nanfunctions = pytest.importorskip("numpy.lib.tests.test_nanfunctions")

SWAPPED = (
    "any",
    "all",
    "count_nonzero",
    "ptp",
    "argmin",
    "argmax",
    "nanargmin",
    "nanargmax",
    "prod",
    "nanprod",
    "sum",
    "nansum",
    "average",
    "median",
    "nanmedian",
    "quantile",
    "nanquantile",
    "percentile",
    "nanpercentile",
)

# Names numpy's test modules imported from numpy (``from numpy import average``), bound
# before the swap: replaced in those modules too.
IMPORTED = ((function_base, "average"),)


CALLS: dict[str, int] = dict.fromkeys(SWAPPED, 0)


@pytest.fixture(autouse=True)
def _stridewise_in_numpy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in SWAPPED:
        ours = getattr(sw, name)

        def counted(*args: object, _f: object = ours, _n: str = name, **kwargs: object) -> object:
            CALLS[_n] += 1
            return _f(*args, **kwargs)  # type: ignore[operator]

        monkeypatch.setattr(np, name, counted)
        for module, imported in IMPORTED:
            if imported == name:
                monkeypatch.setattr(module, name, counted)


def test_the_swap_reaches_stridewise() -> None:
    """Inside these tests numpy's names call stridewise's functions, whose numpy path (an
    object array) still reaches numpy's own function rather than calling itself again."""
    a = np.array([[0, 1, 2], [3, 0, 5]])
    before = dict(CALLS)
    assert np.count_nonzero(a) == 4 and np.any(a) and not np.all(a) and np.ptp(a) == 5
    assert np.argmin(a) == 0 and np.argmax(a) == 5 and np.nanargmin(a) == 0
    assert np.nanargmax(a) == 5
    assert np.prod(a + 1) == 144 and np.nanprod(a + 1) == 144
    assert np.sum(a) == 11 and np.nansum(a) == 11
    assert np.average(a, weights=a) == 39 / 11
    assert np.median(a) == 1.5 and np.nanmedian(a) == 1.5
    assert np.quantile(a, 0.5) == 1.5 and np.nanquantile(a, 0.5) == 1.5
    assert np.percentile(a, 50) == 1.5 and np.nanpercentile(a, 50) == 1.5
    assert all(CALLS[f] == before[f] + 1 for f in SWAPPED), CALLS
    assert sw.explain(sw.any, a.astype(object))["path"] == "numpy"
    assert np.any(a.astype(object)) and np.ptp(a.astype(object)) == 5


class TestAny(function_base.TestAny):  # type: ignore[misc]
    pass


class TestAll(function_base.TestAll):  # type: ignore[misc]
    pass


class TestPtp(function_base.TestPtp):  # type: ignore[misc]
    pass


class TestNonzero(numeric.TestNonzero):  # type: ignore[misc]
    """numpy's TestNonzero also tests np.nonzero and ndarray.nonzero (numpy's own, not
    swapped); its count_nonzero tests are the ones that check stridewise."""


@pytest.mark.parametrize("dtype", ["i8", "U10", "object", "datetime64[ms]"])
def test_any_and_all_result_dtype(dtype: str) -> None:
    function_base.test_any_and_all_result_dtype(dtype)


class TestArgmax(multiarray.TestArgmax):  # type: ignore[misc]
    pass


class TestArgmin(multiarray.TestArgmin):  # type: ignore[misc]
    pass


class TestArgmaxArgminCommon(multiarray.TestArgmaxArgminCommon):  # type: ignore[misc]
    """Its ``method`` parameters are numpy's functions: conftest maps them to stridewise's.
    Its ``arr.argmax()`` calls test numpy's ndarray method, which is not swapped."""


class TestNanFunctions_ArgminArgmax(nanfunctions.TestNanFunctions_ArgminArgmax):  # type: ignore[misc]
    @property
    def nanfuncs(self) -> list[object]:
        """numpy's names, read during the test: stridewise's functions (its tests ask
        ``f is np.nanargmin``)."""
        return [np.nanargmin, np.nanargmax]


class TestProd(function_base.TestProd):  # type: ignore[misc]
    pass


class TestNanFunctions_SumProd(nanfunctions.TestNanFunctions_SumProd):  # type: ignore[misc]
    @property
    def nanfuncs(self) -> list[object]:
        """numpy's names, read during the test: stridewise's functions (its tests ask
        ``f is np.nansum``)."""
        return [np.nansum, np.nanprod]

    @property
    def stdfuncs(self) -> list[object]:
        return [np.sum, np.prod]


class TestAverage(function_base.TestAverage):  # type: ignore[misc]
    """Calls both ``np.average`` and the ``average`` numpy's module imported (both swapped)."""


class TestMedian(function_base.TestMedian):  # type: ignore[misc]
    pass


class TestQuantile(function_base.TestQuantile):  # type: ignore[misc]
    pass


class TestPercentile(function_base.TestPercentile):  # type: ignore[misc]
    pass


class TestNanFunctions_Median(nanfunctions.TestNanFunctions_Median):  # type: ignore[misc]
    pass


class TestNanFunctions_Quantile(nanfunctions.TestNanFunctions_Quantile):  # type: ignore[misc]
    pass


class TestNanFunctions_Percentile(nanfunctions.TestNanFunctions_Percentile):  # type: ignore[misc]
    pass
