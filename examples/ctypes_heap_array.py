"""A heap array owned by C code (here libc's malloc through ctypes), shown to numpy with
np.ctypeslib.as_array and reduced by stridewise in place: the seed's ctypes story, with no
np.ascontiguousarray anywhere. Asserts that no copy was made.

Run: python examples/ctypes_heap_array.py (stridewise installed: `make develop`).
"""

import ctypes
import ctypes.util
import tracemalloc

import numpy as np
import stridewise as sw

libc = ctypes.CDLL(ctypes.util.find_library("c"))
libc.malloc.restype = ctypes.c_void_p
libc.malloc.argtypes = [ctypes.c_size_t]
libc.free.argtypes = [ctypes.c_void_p]

rows, cols = 1500, 1000
address = libc.malloc(rows * cols * 4)
assert address, "malloc failed"
try:
    # The C buffer as a (rows, cols) float32 ndarray: a view, numpy allocates nothing.
    pointer = ctypes.cast(address, ctypes.POINTER(ctypes.c_float))
    heap = np.ctypeslib.as_array(pointer, shape=(rows, cols))
    heap[:] = np.random.default_rng(0).standard_normal((rows, cols), dtype=np.float32)

    # Non-contiguous views of it, as image-processing code makes them.
    views = {"every other column": heap[:, ::2], "transposed": heap.T, "crop": heap[100:-100, 7:]}
    tracemalloc.start()
    results = {}
    for name, v in views.items():
        info = sw.explain(sw.mean, v, axis=0)
        assert info["path"] == "kernel" and "read in place" in info["reason"], info
        results[name] = (sw.mean(v), sw.std(v, axis=0), sw.max(v, axis=1))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    # A copy of the smallest view would be ~3 MB; the results are a few KB.
    assert peak < 200_000, f"{peak} bytes allocated: a copy was made"
    for name, v in views.items():
        mean, std, mx = results[name]
        assert np.isclose(mean, np.mean(v, dtype=np.float64), rtol=1e-6)
        np.testing.assert_allclose(std, np.std(v, axis=0, dtype=np.float64), rtol=1e-5)
        np.testing.assert_array_equal(mx, np.max(v, axis=1))
        assert heap.ctypes.data == address  # still the C buffer, never replaced
        print(f"ok {name:20s} mean {mean:+.6f}  (in place, {peak} bytes traced)")
finally:
    # (Every view of the buffer dies with this module; free it before exiting.)
    libc.free(address)
