// An Eigen matrix with padded columns (Eigen::Map with OuterStride, as a matrix inside a
// larger allocation or a LAPACK lda), reduced by stridewise through its data pointer and
// byte strides, in place, against Eigen's own reductions. Compiled with g++ against
// Debian's libeigen3-dev (`make capi-test`).
#include "stridewise.h"

#include <Eigen/Dense>
#include <cmath>
#include <cstdio>
#include <limits>
#include <vector>

static int failures = 0;
#define CHECK(cond, ...)                                                               \
    do {                                                                               \
        if (!(cond)) {                                                                 \
            std::fprintf(stderr, "FAILED %s:%d: %s: ", __FILE__, __LINE__, #cond);     \
            std::fprintf(stderr, __VA_ARGS__);                                         \
            std::fprintf(stderr, "\n");                                                \
            failures++;                                                                \
        }                                                                              \
    } while (0)

using Strided = Eigen::Map<Eigen::MatrixXd, 0, Eigen::OuterStride<>>;
using RowMajorF = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using StridedRowsF = Eigen::Map<RowMajorF, 0, Eigen::OuterStride<>>;

int main() {
    // Column-major 300x70, leading dimension 304: 4 NaN doubles of padding after each column.
    const Eigen::Index rows = 300, cols = 70, ld = 304;
    std::vector<double> buf(ld * cols, std::numeric_limits<double>::quiet_NaN());
    Strided m(buf.data(), rows, cols, Eigen::OuterStride<>(ld));
    for (Eigen::Index c = 0; c < cols; c++)
        for (Eigen::Index r = 0; r < rows; r++) m(r, c) = (r % 17) * 0.5 - c * 0.25;

    size_t shape[2] = {size_t(rows), size_t(cols)};
    ptrdiff_t strides[2] = {ptrdiff_t(m.innerStride() * sizeof(double)),
                            ptrdiff_t(m.outerStride() * sizeof(double))};
    ptrdiff_t axis0 = 0, axis1 = 1;

    // Eigen's sums of these values are exact (multiples of 1/4, small), so equal.
    Eigen::RowVectorXd colsum(cols);
    SwStatus s = sw_reduce(SW_OP_SUM, SW_DTYPE_F64, m.data(), 2, shape, strides, &axis0, 1, 0.0,
                           colsum.data(), cols);
    CHECK(s == SW_STATUS_OK, "%d %s", s, sw_last_message());
    CHECK(colsum == m.colwise().sum(), "column sums differ");

    Eigen::VectorXd rowmean(rows);
    s = sw_reduce(SW_OP_MEAN, SW_DTYPE_F64, m.data(), 2, shape, strides, &axis1, 1, 0.0,
                  rowmean.data(), rows);
    CHECK(s == SW_STATUS_OK, "%d %s", s, sw_last_message());
    Eigen::VectorXd want = m.rowwise().sum() / double(cols);
    CHECK(rowmean == want, "row means differ: max %g", (rowmean - want).cwiseAbs().maxCoeff());

    double mx = 0, mn = 0;
    CHECK(sw_reduce(SW_OP_MAX, SW_DTYPE_F64, m.data(), 2, shape, strides, nullptr, 0, 0, &mx,
                    1) == SW_STATUS_OK,
          "%s", sw_last_message());
    CHECK(sw_reduce(SW_OP_MIN, SW_DTYPE_F64, m.data(), 2, shape, strides, nullptr, 0, 0, &mn,
                    1) == SW_STATUS_OK,
          "%s", sw_last_message());
    CHECK(mx == m.maxCoeff() && mn == m.minCoeff(), "%g %g (padding read?)", mx, mn);

    // Standard deviation of each column against a two-pass computation in long double.
    Eigen::RowVectorXd colstd(cols);
    s = sw_reduce(SW_OP_STD, SW_DTYPE_F64, m.data(), 2, shape, strides, &axis0, 1, 1.0,
                  colstd.data(), cols);
    CHECK(s == SW_STATUS_OK, "%d %s", s, sw_last_message());
    for (Eigen::Index c = 0; c < cols; c++) {
        long double mean = 0, ss = 0;
        for (Eigen::Index r = 0; r < rows; r++) mean += m(r, c);
        mean /= rows;
        for (Eigen::Index r = 0; r < rows; r++) ss += (m(r, c) - mean) * (m(r, c) - mean);
        double ref = double(std::sqrt(ss / (rows - 1)));
        CHECK(std::fabs(colstd[c] - ref) <= 2e-16 * ref, "std %ld: %.17g vs %.17g", long(c),
              colstd[c], ref);
    }

    // A row-major float matrix with padded rows (an image's rows): the mean of each row.
    const Eigen::Index h = 64, w = 100, pitch = 112;
    std::vector<float> img(h * pitch, std::numeric_limits<float>::infinity());
    StridedRowsF f(img.data(), h, w, Eigen::OuterStride<>(pitch));
    for (Eigen::Index r = 0; r < h; r++)
        for (Eigen::Index c = 0; c < w; c++) f(r, c) = float((r * 7 + c) % 256);
    size_t fshape[2] = {size_t(h), size_t(w)};
    ptrdiff_t fstrides[2] = {ptrdiff_t(pitch * sizeof(float)), ptrdiff_t(sizeof(float))};
    std::vector<float> fmean(h);
    s = sw_reduce(SW_OP_MEAN, SW_DTYPE_F32, f.data(), 2, fshape, fstrides, &axis1, 1, 0.0,
                  fmean.data(), h);
    CHECK(s == SW_STATUS_OK, "%d %s", s, sw_last_message());
    for (Eigen::Index r = 0; r < h; r++) {
        double exact = 0;
        for (Eigen::Index c = 0; c < w; c++) exact += f(r, c);
        CHECK(fmean[r] == float(exact / w), "row %ld: %g vs %g", long(r), fmean[r],
              float(exact / w));
    }

    if (failures) {
        std::fprintf(stderr, "%d check(s) failed\n", failures);
        return 1;
    }
    std::printf("ok Eigen: padded column-major double (%ldx%ld, ld %ld) and padded row-major "
                "float, in place, level %s\n",
                long(rows), long(cols), long(ld), sw_simd_level());
    return 0;
}
