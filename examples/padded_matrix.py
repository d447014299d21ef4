"""A padded column-major matrix (Eigen's OuterStride, LAPACK's lda: 500x300 doubles in columns
of 512) that a native library owns, shown to numpy by pointer and byte strides through
__array_interface__, reduced along both axes in place. The padding holds NaN: if any of it
were read, the results would show it. Asserts that no copy was made.

Run: python examples/padded_matrix.py (stridewise installed: `make develop`).
"""

import ctypes
import tracemalloc

import numpy as np
import stridewise as sw

rows, cols, ld = 500, 300, 512


class NativeMatrix:
    """What a C++ wrapper would hand Python: its own buffer, described, not copied."""

    def __init__(self) -> None:
        self.buffer = (ctypes.c_double * (ld * cols))()  # owned "natively"
        self.__array_interface__ = {
            "version": 3,
            "shape": (rows, cols),
            "typestr": "<f8",
            "data": (ctypes.addressof(self.buffer), False),
            "strides": (8, 8 * ld),  # column-major, each column padded to 512
        }


m = NativeMatrix()
storage = np.ctypeslib.as_array(m.buffer).reshape(cols, ld)
storage[:] = np.nan  # the padding
storage[:, :rows] = np.random.default_rng(1).standard_normal((cols, rows))
logical = storage[:, :rows].T  # what the matrix means, for the reference answers

tracemalloc.start()
info = sw.explain(sw.mean, m, axis=0)
col_means, row_means = sw.mean(m, axis=0), sw.mean(m, axis=1)
col_var, total = sw.var(m, axis=0, ddof=1), sw.sum(m)
peak = tracemalloc.get_traced_memory()[1]
tracemalloc.stop()

assert info["path"] == "kernel" and info["input"] == "__array_interface__", info
assert peak < 100_000, f"{peak} bytes allocated: the matrix (1.2 MB) was copied"
assert np.isfinite(total), "the padding was read"
np.testing.assert_allclose(col_means, logical.mean(axis=0), rtol=1e-12)
np.testing.assert_allclose(row_means, logical.mean(axis=1), rtol=1e-12)
np.testing.assert_allclose(col_var, logical.var(axis=0, ddof=1), rtol=1e-12)
print(
    f"ok {rows}x{cols} (ld {ld}) by __array_interface__: walk {info['walk']}, "
    f"{peak} bytes traced, sum {total:+.6f}"
)
