// A C++ image type as camera SDKs and GPU uploads hold images: 8-bit, interleaved channels,
// each row padded to a multiple of 256 bytes (cudaMallocPitch's pitch; OpenCV's cv::Mat of a
// ROI is padded the same way), in memory the C++ object owns. It
// exports that memory through Python's buffer protocol (pybind11's def_buffer) with its
// real shape and byte strides, padding included, so numpy and stridewise read it in place.
#include <pybind11/pybind11.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>

namespace py = pybind11;

class Image {
  public:
    Image(size_t height, size_t width, size_t channels)
        : h_(height), w_(width), c_(channels), pitch_((width * channels + 255) / 256 * 256) {
        data_ = static_cast<uint8_t *>(std::aligned_alloc(64, pitch_ * h_));
        if (!data_) throw std::bad_alloc();
        std::memset(data_, 255, pitch_ * h_);  // the padding: 255, never part of a pixel
        for (size_t y = 0; y < h_; y++)
            for (size_t x = 0; x < w_; x++)
                for (size_t k = 0; k < c_; k++)
                    data_[y * pitch_ + x * c_ + k] = uint8_t((y * 3 + x * 5 + k * 70) % 251);
    }
    ~Image() { std::free(data_); }
    Image(const Image &) = delete;
    Image &operator=(const Image &) = delete;

    uint8_t *data() const { return data_; }
    size_t height() const { return h_; }
    size_t width() const { return w_; }
    size_t channels() const { return c_; }
    size_t pitch() const { return pitch_; }

  private:
    size_t h_, w_, c_, pitch_;
    uint8_t *data_;
};

PYBIND11_MODULE(padded_image, m) {
    py::class_<Image>(m, "Image", py::buffer_protocol())
        .def(py::init<size_t, size_t, size_t>())
        .def_property_readonly("address",
                               [](const Image &im) { return reinterpret_cast<uintptr_t>(im.data()); })
        .def_property_readonly("pitch", &Image::pitch)
        .def_buffer([](Image &im) -> py::buffer_info {
            return py::buffer_info(
                im.data(), 1, py::format_descriptor<uint8_t>::format(), 3,
                {im.height(), im.width(), im.channels()},
                {im.pitch(), im.channels(), size_t(1)}, /*readonly=*/true);
        });
}
