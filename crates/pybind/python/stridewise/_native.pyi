# Hand-kept stub of the Rust extension module (crates/pybind/src). Keep in step with lib.rs
# and owner.rs; `mypy --strict` checks it in `make test`.
from typing import Any, Final, Literal, final

import numpy as np
from numpy.typing import ArrayLike, DTypeLike, NDArray

_Axis = int | tuple[int, ...] | None
_Simd = Literal["scalar", "avx2", "avx512"]

DEFAULT_ALIGN: Final[int]

# Reductions: numpy's signatures. The result is a numpy scalar for a full reduction and an
# ndarray otherwise (or `out` when given), as numpy returns.
def sum(
    a: ArrayLike,
    axis: _Axis = None,
    dtype: DTypeLike | None = None,
    out: NDArray[Any] | None = None,
    keepdims: bool | None = None,
    initial: Any = None,
    where: ArrayLike | None = None,
) -> Any: ...
def nansum(
    a: ArrayLike,
    axis: _Axis = None,
    dtype: DTypeLike | None = None,
    out: NDArray[Any] | None = None,
    keepdims: bool | None = None,
    initial: Any = None,
    where: ArrayLike | None = None,
) -> Any: ...
def mean(
    a: ArrayLike,
    axis: _Axis = None,
    dtype: DTypeLike | None = None,
    out: NDArray[Any] | None = None,
    keepdims: bool | None = None,
    *,
    where: ArrayLike | None = None,
) -> Any: ...
def nanmean(
    a: ArrayLike,
    axis: _Axis = None,
    dtype: DTypeLike | None = None,
    out: NDArray[Any] | None = None,
    keepdims: bool | None = None,
    *,
    where: ArrayLike | None = None,
) -> Any: ...
def var(
    a: ArrayLike,
    axis: _Axis = None,
    dtype: DTypeLike | None = None,
    out: NDArray[Any] | None = None,
    ddof: float | None = None,
    keepdims: bool | None = None,
    *,
    where: ArrayLike | None = None,
    mean: ArrayLike | None = None,
    correction: float | None = None,
) -> Any: ...
def std(
    a: ArrayLike,
    axis: _Axis = None,
    dtype: DTypeLike | None = None,
    out: NDArray[Any] | None = None,
    ddof: float | None = None,
    keepdims: bool | None = None,
    *,
    where: ArrayLike | None = None,
    mean: ArrayLike | None = None,
    correction: float | None = None,
) -> Any: ...
def nanvar(
    a: ArrayLike,
    axis: _Axis = None,
    dtype: DTypeLike | None = None,
    out: NDArray[Any] | None = None,
    ddof: float | None = None,
    keepdims: bool | None = None,
    *,
    where: ArrayLike | None = None,
    mean: ArrayLike | None = None,
    correction: float | None = None,
) -> Any: ...
def nanstd(
    a: ArrayLike,
    axis: _Axis = None,
    dtype: DTypeLike | None = None,
    out: NDArray[Any] | None = None,
    ddof: float | None = None,
    keepdims: bool | None = None,
    *,
    where: ArrayLike | None = None,
    mean: ArrayLike | None = None,
    correction: float | None = None,
) -> Any: ...
def min(
    a: ArrayLike,
    axis: _Axis = None,
    out: NDArray[Any] | None = None,
    keepdims: bool | None = None,
    initial: Any = None,
    where: ArrayLike | None = None,
) -> Any: ...
def max(
    a: ArrayLike,
    axis: _Axis = None,
    out: NDArray[Any] | None = None,
    keepdims: bool | None = None,
    initial: Any = None,
    where: ArrayLike | None = None,
) -> Any: ...
def nanmin(
    a: ArrayLike,
    axis: _Axis = None,
    out: NDArray[Any] | None = None,
    keepdims: bool | None = None,
    initial: Any = None,
    where: ArrayLike | None = None,
) -> Any: ...
def nanmax(
    a: ArrayLike,
    axis: _Axis = None,
    out: NDArray[Any] | None = None,
    keepdims: bool | None = None,
    initial: Any = None,
    where: ArrayLike | None = None,
) -> Any: ...

# Which path a call takes ("kernel", "kernel+copy" or "numpy") and why, without running it.
# Keys: path, reason, simd, threads; on the kernel paths also kernel_dtype, copy_to, axes,
# parallel.
def explain(func: Any, a: ArrayLike, **kwargs: Any) -> dict[str, Any]: ...

# Controls.
def simd_level() -> _Simd: ...
def available_simd_levels() -> list[_Simd]: ...
def set_simd_level(level: _Simd | None) -> _Simd: ...
def set_num_threads(n: int) -> None: ...
def get_num_threads() -> int: ...
def parallel_threshold() -> int: ...

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
