"""stridewise: numpy's reductions, SIMD, parallel and more accurate, on any strided array.

``import stridewise as sw`` and call ``sw.mean(a, ...)`` where you called ``np.mean(a, ...)``:
same signature, same result dtype and shape, same warnings and errors. Calls the kernels do not
cover go to numpy itself; ``sw.explain(sw.mean, a, axis=0)`` says which path a call takes.
"""

from importlib.metadata import PackageNotFoundError, version

from ._average import average
from ._native import (
    DEFAULT_ALIGN,
    AlignedBuffer,
    aligned,
    available_simd_levels,
    empty,
    full,
    get_num_threads,
    parallel_threshold,
    set_num_threads,
    set_simd_level,
    simd_level,
    zeros,
)
from ._quantile import median, nanmedian, nanpercentile, nanquantile, percentile, quantile
from ._reduce import (
    all,
    any,
    argmax,
    argmin,
    count_nonzero,
    explain,
    max,
    mean,
    min,
    nanargmax,
    nanargmin,
    nanmax,
    nanmean,
    nanmin,
    nanprod,
    nanstd,
    nansum,
    nanvar,
    prod,
    ptp,
    std,
    sum,
    var,
)
from ._threads import threads

try:
    __version__ = version("stridewise")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0+unknown"

__all__ = [
    "DEFAULT_ALIGN",
    "AlignedBuffer",
    "__version__",
    "aligned",
    "all",
    "any",
    "argmax",
    "argmin",
    "available_simd_levels",
    "average",
    "count_nonzero",
    "empty",
    "explain",
    "full",
    "get_num_threads",
    "max",
    "mean",
    "median",
    "min",
    "nanargmax",
    "nanargmin",
    "nanmax",
    "nanmean",
    "nanmedian",
    "nanmin",
    "nanpercentile",
    "nanprod",
    "nanquantile",
    "nanstd",
    "nansum",
    "nanvar",
    "parallel_threshold",
    "percentile",
    "prod",
    "ptp",
    "quantile",
    "set_num_threads",
    "set_simd_level",
    "simd_level",
    "std",
    "sum",
    "threads",
    "var",
    "zeros",
]
