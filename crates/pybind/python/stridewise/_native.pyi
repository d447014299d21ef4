# Hand-kept stub of the Rust extension module (crates/pybind/src). Keep in step with lib.rs
# and owner.rs; `mypy --strict` checks it in `make test`.
from typing import Any, Final, Literal, final

import numpy as np
from numpy.typing import ArrayLike, DTypeLike, NDArray

_Simd = Literal["scalar", "avx2", "avx512", "neon"]

DEFAULT_ALIGN: Final[int]

# Every reduction, by name; the arguments in this order, numpy._NoValue where not given.
# The public functions with numpy's signatures are in _reduce.py.
def reduce(
    func: str,
    a: Any,
    axis: Any,
    dtype: Any,
    out: Any,
    keepdims: Any,
    initial: Any,
    where: Any,
    ddof: Any,
    mean: Any,
    correction: Any,
    /,
) -> Any: ...

# The path `reduce` would take (same arguments) and why, without running it.
def explain(
    func: str,
    a: Any,
    axis: Any,
    dtype: Any,
    out: Any,
    keepdims: Any,
    initial: Any,
    where: Any,
    ddof: Any,
    mean: Any,
    correction: Any,
    /,
) -> dict[str, Any]: ...

# Controls.
def simd_level() -> _Simd: ...
def available_simd_levels() -> list[_Simd]: ...
def set_simd_level(level: _Simd | None) -> _Simd: ...
def set_num_threads(n: int) -> None: ...
def get_num_threads() -> int: ...
def parallel_threshold() -> int: ...
def read_probe(words: NDArray[np.uint64]) -> int: ...

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
