# Hand-kept stub of the Rust extension module (crates/pybind/src). Keep in step with lib.rs
# and owner.rs; `mypy --strict` checks it in `make test`.
from typing import Any, Final, Literal, final

import numpy as np
from numpy.typing import ArrayLike, DTypeLike, NDArray

_Simd = Literal["scalar", "avx2", "avx512", "neon"]

DEFAULT_ALIGN: Final[int]

# The table of reductions: for each name, its row of the kernels' table (stridewise::ops):
# family, skips_nan, keywords (numpy's, besides `a`), degenerate, result_dtype (by input dtype).
REDUCTIONS: Final[dict[str, dict[str, Any]]]

# Every reduction, by name, with numpy's other arguments, bound to the keywords of its
# REDUCTIONS row by position (in that order, numpy's); numpy._NoValue where numpy's default
# is _NoValue means not given. The public functions with numpy's signatures are in
# _reduce.py. reduce_named takes the arguments by position or by name.
def reduce(func: str, a: Any, /, *args: Any) -> Any: ...  # at most 8 args
def reduce_named(func: str, a: Any, /, *args: Any, **kwargs: Any) -> Any: ...

# The path `reduce` would take (same arguments) and why, without running it.
def explain(func: str, a: Any, /, *args: Any, **kwargs: Any) -> dict[str, Any]: ...
def adapt(a: Any, /) -> tuple[np.ndarray | None, str]: ...

# Controls.
def simd_level() -> _Simd: ...
def available_simd_levels() -> list[_Simd]: ...
def set_simd_level(level: _Simd | None) -> _Simd: ...
def set_num_threads(n: int) -> None: ...
def get_num_threads() -> int: ...
def parallel_threshold() -> int: ...
def read_probe(words: NDArray[np.uint64], /, streams: bool = False) -> int: ...

# The weighted averages behind `average`: (averages, weight sums, a sum is zero, all
# averages finite), the arrays of the kept shape in float32 when `single` else float64, or
# None when an array cannot be read in place.
def weighted(
    a: NDArray[Any], w: NDArray[Any], axes: tuple[int, ...] | None, single: bool, /
) -> tuple[NDArray[np.floating[Any]], NDArray[np.floating[Any]], bool, bool] | None: ...
def order_statistics(
    a: NDArray[Any],
    axes: list[int] | None,
    ranks: NDArray[np.int64],
    mode: str,
    values: NDArray[Any],
    /,
) -> NDArray[np.int64] | None: ...
def number_counts(a: NDArray[Any], axes: list[int] | None, /) -> NDArray[np.int64] | None: ...
def quantiles(
    a: NDArray[Any],
    axes: list[int] | None,
    q: NDArray[np.float64],
    method: str,
    skip_nan: bool,
    /,
) -> NDArray[np.float64] | None: ...

# Rust-owned aligned arrays: plain ndarrays whose `.base` is an AlignedBuffer.
@final
class AlignedBuffer:
    @property
    def shape(self) -> tuple[int, ...]: ...
    @property
    def strides(self) -> tuple[int, ...]: ...
    @property
    def dtype(self) -> np.dtype[Any]: ...
    @property
    def align(self) -> int: ...
    @property
    def nbytes_allocated(self) -> int: ...
    @property
    def address(self) -> int: ...
    def __buffer__(self, flags: int, /) -> memoryview: ...
    def __release_buffer__(self, buffer: memoryview, /) -> None: ...

def empty(
    shape: int | tuple[int, ...] | list[int], dtype: DTypeLike | None = None, *, align: int = 64
) -> NDArray[Any]: ...
def zeros(
    shape: int | tuple[int, ...] | list[int], dtype: DTypeLike | None = None, *, align: int = 64
) -> NDArray[Any]: ...
def full(
    shape: int | tuple[int, ...] | list[int],
    fill_value: Any,
    dtype: DTypeLike | None = None,
    *,
    align: int = 64,
) -> NDArray[Any]: ...
def aligned(a: ArrayLike, *, align: int = 64) -> NDArray[Any]: ...
