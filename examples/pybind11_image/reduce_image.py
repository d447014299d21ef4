"""The seed's OpenCV story end to end: a C++ image (padded_image.cpp, built by `make
examples` with pybind11) exports its padded, interleaved 1080x1920x3 uint8 memory through
the buffer protocol; stridewise reduces it per channel without a copy. Asserts that no copy
was made and that the padding (255s) was never read.

Run: make examples (builds the module into target/examples and runs this).
"""

import tracemalloc

import numpy as np
import padded_image
import stridewise as sw

h, w, c = 1080, 1920, 3
img = padded_image.Image(h, w, c)
assert img.pitch == 5888 > w * c  # 128 bytes of padding a row

tracemalloc.start()
info = sw.explain(sw.mean, img, axis=(0, 1))
means = sw.mean(img, axis=(0, 1))
peaks = sw.max(img, axis=(0, 1))
std = sw.std(img, axis=(0, 1))
traced = tracemalloc.get_traced_memory()[1]
tracemalloc.stop()

assert info["path"] == "kernel" and info["input"] == "buffer protocol", info
view, _ = sw._native.adapt(img)
assert view.__array_interface__["data"][0] == img.address, "not the C++ object's memory"
assert view.strides == (img.pitch, c, 1)
assert traced < 100_000, f"{traced} bytes allocated: the 6 MB image was copied"

# The reference, from the pixel formula (not from the buffer).
y, x, k = np.ogrid[:h, :w, :c]
pixels = ((y * 3 + x * 5 + k * 70) % 251).astype(np.uint8)
np.testing.assert_array_equal(peaks, pixels.max(axis=(0, 1)))  # 255 would be padding
np.testing.assert_allclose(means, pixels.mean(axis=(0, 1)), rtol=1e-12)
np.testing.assert_allclose(std, pixels.std(axis=(0, 1)), rtol=1e-12)
assert means.dtype == np.float64 and peaks.dtype == np.uint8  # numpy's result types
print(
    f"ok pybind11 image {h}x{w}x{c}, pitch {img.pitch}: per-channel means {means.round(3)}, "
    f"walk {info['walk']}, {traced} bytes traced (no copy)"
)
