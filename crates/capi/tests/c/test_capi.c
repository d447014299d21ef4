/* The C API from C: compiled with gcc against include/stridewise.h and libstridewise_c
 * (`make capi-test`). Every check compares with an answer computed here exactly (values
 * whose sums are exact in double), so a wrong stride, axis or type shows. */
#include "stridewise.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures = 0;

#define CHECK(cond, ...)                                                  \
    do {                                                                  \
        if (!(cond)) {                                                    \
            fprintf(stderr, "FAILED %s:%d: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                 \
            fprintf(stderr, "\n");                                        \
            failures++;                                                   \
        }                                                                 \
    } while (0)

/* A 6x5 matrix in a 6x8 row-major buffer (2 padding doubles a row, NaN): every axis form. */
static void padded_rows(void) {
    enum { R = 6, C = 5, LD = 8 };
    double buf[R * LD];
    for (int i = 0; i < R * LD; i++) buf[i] = NAN;
    for (int r = 0; r < R; r++)
        for (int c = 0; c < C; c++) buf[r * LD + c] = r * 10 + c * 0.25;
    size_t shape[2] = {R, C};
    ptrdiff_t strides[2] = {LD * sizeof(double), sizeof(double)};

    double col[C], row[R], all;
    ptrdiff_t axis0 = 0, axis1 = -1;
    SwStatus s = sw_reduce(SW_OP_SUM, SW_DTYPE_F64, buf, 2, shape, strides, &axis0, 1, 0.0, col, C);
    CHECK(s == SW_STATUS_OK, "%d %s", s, sw_last_message());
    for (int c = 0; c < C; c++) {
        double want = 0;
        for (int r = 0; r < R; r++) want += r * 10 + c * 0.25;
        CHECK(col[c] == want, "column %d: %g != %g", c, col[c], want);
    }
    s = sw_reduce(SW_OP_MEAN, SW_DTYPE_F64, buf, 2, shape, strides, &axis1, 1, 0.0, row, R);
    CHECK(s == SW_STATUS_OK, "%d %s", s, sw_last_message());
    for (int r = 0; r < R; r++) {
        double want = 0;
        for (int c = 0; c < C; c++) want += r * 10 + c * 0.25;
        CHECK(row[r] == want / C, "row %d: %g != %g", r, row[r], want / C);
    }
    s = sw_reduce(SW_OP_MAX, SW_DTYPE_F64, buf, 2, shape, strides, NULL, 0, 0.0, &all, 1);
    CHECK(s == SW_STATUS_OK && all == 50 + 4 * 0.25, "%g", all); /* the padding is NaN */

    /* Transposed and reversed: the matrix read by columns from its last row, after putting
     * each column's minimum in a row of its own (row (2c + 1) % R of column c). */
    for (int c = 0; c < C; c++) buf[((2 * c + 1) % R) * LD + c] = -100 - c;
    size_t tshape[2] = {C, R};
    ptrdiff_t tstrides[2] = {sizeof(double), -(ptrdiff_t)(LD * sizeof(double))};
    int64_t arg[C];
    s = sw_reduce(SW_OP_ARGMIN, SW_DTYPE_F64, buf + (R - 1) * LD, 2, tshape, tstrides, &axis1, 1,
                  0.0, arg, C);
    CHECK(s == SW_STATUS_OK, "%d %s", s, sw_last_message());
    for (int c = 0; c < C; c++) { /* position along the reversed rows */
        long long want = R - 1 - (2 * c + 1) % R;
        CHECK(arg[c] == want, "argmin %d: %lld != %lld", c, (long long)arg[c], want);
    }
    printf("ok padded rows, transposed, reversed\n");
}

/* Result types are numpy's: int32 sums in int64, their means in double. */
static void integer_types(void) {
    int32_t x[7] = {2147483647, 2147483647, -5, 1, 2, 3, 4};
    size_t shape[1] = {7};
    ptrdiff_t strides[1] = {sizeof(int32_t)};
    CHECK(sw_result_dtype(SW_OP_SUM, SW_DTYPE_I32) == SW_DTYPE_I64, "sum type");
    CHECK(sw_result_dtype(SW_OP_MEAN, SW_DTYPE_I32) == SW_DTYPE_F64, "mean type");
    CHECK(sw_result_dtype(SW_OP_MEAN, SW_DTYPE_F32) == SW_DTYPE_F32, "f32 mean type");
    CHECK(sw_result_dtype(SW_OP_ARGMAX, SW_DTYPE_U8) == SW_DTYPE_I64, "argmax type");
    int64_t sum;
    SwStatus s = sw_reduce(SW_OP_SUM, SW_DTYPE_I32, x, 1, shape, strides, NULL, 0, 0, &sum, 1);
    CHECK(s == SW_STATUS_OK && sum == 2LL * 2147483647 + 5, "%lld", (long long)sum);
    uint8_t flags[5] = {0, 2, 0, 255, 0};
    int64_t count;
    size_t fshape[1] = {5};
    ptrdiff_t fstrides[1] = {1};
    s = sw_reduce(SW_OP_COUNT_NONZERO, SW_DTYPE_BOOL, flags, 1, fshape, fstrides, NULL, 0, 0,
                  &count, 1);
    CHECK(s == SW_STATUS_OK && count == 2, "count %lld", (long long)count);
    printf("ok integer and bool types\n");
}

/* Sums are correctly rounded; the 1-d shortcuts take byte strides, negative ones too. */
static void shortcuts(void) {
    double c[3] = {1e16, 1.0, -1e16};
    double s;
    CHECK(sw_sum_f64(c, 3, sizeof(double), &s) == SW_STATUS_OK && s == 1.0, "%g", s);
    float f[9] = {1, 100, 100, 2, 100, 100, 3, 100, 100};
    float m;
    CHECK(sw_mean_f32(f, 3, 3 * sizeof(float), &m) == SW_STATUS_OK && m == 2.0f, "%g", m);
    CHECK(sw_mean_f32(f + 6, 3, -3 * (ptrdiff_t)sizeof(float), &m) == SW_STATUS_OK && m == 2.0f,
          "%g", m);
    double v[4] = {1, 2, 3, 4}, var;
    CHECK(sw_var_f64(v, 4, sizeof(double), 1.0, &var) == SW_STATUS_OK && var == 5.0 / 3.0, "%g",
          var);
    int64_t i;
    CHECK(sw_argmax_f64(v, 4, sizeof(double), &i) == SW_STATUS_OK && i == 3, "%lld", (long long)i);
    printf("ok shortcuts (correctly rounded sum, byte strides)\n");
}

/* No elements, rank 0, axis=() (naxes 0, axes not NULL): numpy's answers. */
static void degenerate(void) {
    double x[3] = {2.5, -1.0, 4.0}, out[3];
    size_t shape[2] = {0, 3};
    ptrdiff_t strides[2] = {24, 8}, axis0 = 0, axis1 = 1, none[1] = {0};
    CHECK(sw_reduce(SW_OP_MEAN, SW_DTYPE_F64, NULL, 2, shape, strides, &axis0, 1, 0, out, 3) ==
                  SW_STATUS_WARNING &&
              isnan(out[0]) && isnan(out[2]),
          "means of nothing");
    CHECK(sw_reduce(SW_OP_MAX, SW_DTYPE_F64, NULL, 2, shape, strides, &axis1, 1, 0, NULL, 0) ==
              SW_STATUS_OK,
          "no results, NULL out: %s", sw_last_message());
    CHECK(sw_reduce(SW_OP_MAX, SW_DTYPE_F64, NULL, 2, shape, strides, &axis0, 1, 0, out, 3) ==
              SW_STATUS_VALUE,
          "max of nothing");
    CHECK(sw_reduce(SW_OP_SUM, SW_DTYPE_F64, x + 2, 0, NULL, NULL, NULL, 0, 0, out, 1) ==
                  SW_STATUS_OK &&
              out[0] == 4.0,
          "rank 0");
    size_t one_d[1] = {3};
    ptrdiff_t back[1] = {-8};
    CHECK(sw_reduce(SW_OP_MAX, SW_DTYPE_F64, x + 2, 1, one_d, back, none, 0, 0, out, 3) ==
                  SW_STATUS_OK &&
              out[0] == 4.0 && out[1] == -1.0 && out[2] == 2.5,
          "axis=() reversed");
    printf("ok empty shapes, rank 0, axis=()\n");
}

static int by_value(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Medians and quantiles per column of a padded matrix, against sorting here. */
static void quantiles(void) {
    enum { R = 7, C = 4, LD = 6 };
    double buf[R * LD], col[R];
    for (int i = 0; i < R * LD; i++) buf[i] = NAN; /* padding */
    for (int r = 0; r < R; r++)
        for (int c = 0; c < C; c++) buf[r * LD + c] = (r * 37 + c * 11) % 23 - 5;
    size_t shape[2] = {R, C};
    ptrdiff_t strides[2] = {LD * sizeof(double), sizeof(double)}, axis0 = 0;
    double q[2] = {0.5, 0.25}, out[2 * C];
    SwStatus s = sw_quantiles(SW_DTYPE_F64, buf, 2, shape, strides, &axis0, 1, q, 2,
                              SW_QUANTILE_METHOD_LINEAR, 0, out, 2 * C);
    CHECK(s == SW_STATUS_OK, "%d %s", s, sw_last_message());
    for (int c = 0; c < C; c++) {
        for (int r = 0; r < R; r++) col[r] = buf[r * LD + c];
        qsort(col, R, sizeof(double), by_value);
        /* linear: (n - 1) q = 3 (the middle) and 1.5 (halfway between the 2nd and 3rd) */
        CHECK(out[c] == col[3], "median %d: %g != %g", c, out[c], col[3]);
        double want = col[1] + (col[2] - col[1]) * 0.5;
        CHECK(out[C + c] == want, "q .25 %d: %g != %g", c, out[C + c], want);
    }
    /* nanquantile: a NaN in column 0 left out (6 numbers: halfway between the 3rd and 4th) */
    buf[2 * LD] = NAN;
    s = sw_quantiles(SW_DTYPE_F64, buf, 2, shape, strides, &axis0, 1, q, 1,
                     SW_QUANTILE_METHOD_LINEAR, 1, out, C);
    CHECK(s == SW_STATUS_OK, "%d %s", s, sw_last_message());
    int n = 0;
    for (int r = 0; r < R; r++)
        if (r != 2) col[n++] = buf[r * LD];
    qsort(col, n, sizeof(double), by_value);
    CHECK(out[0] == col[2] + (col[3] - col[2]) * 0.5, "nan median %g", out[0]);
    s = sw_quantiles(SW_DTYPE_F64, buf, 2, shape, strides, &axis0, 1, q, 1,
                     SW_QUANTILE_METHOD_LINEAR, 0, out, C);
    CHECK(s == SW_STATUS_OK && isnan(out[0]) && !isnan(out[1]), "a NaN propagates: %g", out[0]);
    double bad = 1.5;
    CHECK(sw_quantiles(SW_DTYPE_F64, buf, 2, shape, strides, &axis0, 1, &bad, 1,
                       SW_QUANTILE_METHOD_LINEAR, 0, out, C) == SW_STATUS_VALUE,
          "q outside [0, 1]");
    printf("ok medians and quantiles of a padded matrix (%s)\n", sw_last_message());
}

/* Weighted averages of a padded int32 matrix's rows, weights (double) along axis 1 only. */
static void averages(void) {
    enum { R = 5, C = 4, LD = 7 };
    int32_t buf[R * LD];
    for (int i = 0; i < R * LD; i++) buf[i] = -1000000; /* padding */
    for (int r = 0; r < R; r++)
        for (int c = 0; c < C; c++) buf[r * LD + c] = r * 8 - c * 3;
    double w[C] = {1, 0.5, 2, 0.25}, avg[R], wsum[R];
    size_t shape[2] = {R, C}, wshape[1] = {C};
    ptrdiff_t strides[2] = {LD * sizeof(int32_t), sizeof(int32_t)}, wstrides[1] = {8}, axis = 1;
    SwStatus s = sw_average(SW_DTYPE_I32, buf, 2, shape, strides, SW_DTYPE_F64, w, 1, wshape,
                            wstrides, &axis, 1, avg, wsum, R);
    CHECK(s == SW_STATUS_OK, "%d %s", s, sw_last_message());
    for (int r = 0; r < R; r++) {
        double num = 0, den = 0; /* exact: small multiples of 1/4 */
        for (int c = 0; c < C; c++) num += buf[r * LD + c] * w[c], den += w[c];
        CHECK(avg[r] == num / den && wsum[r] == den, "row %d: %g != %g", r, avg[r], num / den);
    }
    double zero[C] = {1, -1, 0, 0};
    CHECK(sw_average(SW_DTYPE_I32, buf, 2, shape, strides, SW_DTYPE_F64, zero, 1, wshape,
                     wstrides, &axis, 1, avg, NULL, R) == SW_STATUS_VALUE,
          "weights summing to zero");
    size_t bad[1] = {3};
    CHECK(sw_average(SW_DTYPE_I32, buf, 2, shape, strides, SW_DTYPE_F64, w, 1, bad, wstrides,
                     &axis, 1, avg, NULL, R) == SW_STATUS_LAYOUT,
          "weights of the wrong shape");
    printf("ok weighted averages (%s)\n", sw_last_message());
}

static void errors(void) {
    double x[4] = {1, 2, 3, 4}, out = -1;
    CHECK(sw_mean_f64(x, 0, 8, &out) == SW_STATUS_WARNING && isnan(out), "empty mean");
    CHECK(strcmp(sw_last_message(), "Mean of empty slice") == 0, "%s", sw_last_message());
    CHECK(sw_max_f64(x, 0, 8, &out) == SW_STATUS_VALUE, "empty max");
    CHECK(strstr(sw_last_message(), "zero-size array") != NULL, "%s", sw_last_message());
    CHECK(sw_sum_f64((const double *)((const char *)x + 1), 2, 8, &out) == SW_STATUS_UNREADABLE,
          "misaligned");
    CHECK(sw_sum_f64(NULL, 2, 8, &out) == SW_STATUS_NULL, "NULL data");
    size_t shape[2] = {2, 2};
    ptrdiff_t strides[2] = {16, 8}, axis = 2;
    double two[2];
    CHECK(sw_reduce(SW_OP_SUM, SW_DTYPE_F64, x, 2, shape, strides, &axis, 1, 0, two, 2) ==
              SW_STATUS_LAYOUT,
          "axis 2 of 2");
    printf("  (message: %s)\n", sw_last_message());
    axis = 0;
    CHECK(sw_reduce(SW_OP_SUM, SW_DTYPE_F64, x, 2, shape, strides, &axis, 1, 0, two, 1) ==
              SW_STATUS_OUT_TOO_SMALL,
          "out too small");
    CHECK(sw_reduce(99, SW_DTYPE_F64, x, 2, shape, strides, NULL, 0, 0, two, 2) ==
              SW_STATUS_BAD_CODE,
          "bad op");
    printf("ok errors and warnings\n");
}

/* Thread safety: eight threads reduce the same data at once and get the same bits, which are
 * the sum rounded once to float (checked against a long double sum). */
enum { N = 1 << 20, T = 8 };
static float *shared;

struct job {
    float sum;
    int failed;
};

static void *worker(void *arg) {
    struct job *job = arg;
    for (int k = 0; k < 4; k++)
        if (sw_sum_f32(shared, N / 2, 2 * sizeof(float), &job->sum) != SW_STATUS_OK)
            job->failed = 1;
    return NULL;
}

static void threads(void) {
    shared = malloc(N * sizeof(float));
    for (int i = 0; i < N; i++) shared[i] = (float)sin(i) * 1000.0f;
    long double exact = 0; /* 64-bit mantissa: exact enough to round to float once */
    for (int i = 0; i < N; i += 2) exact += shared[i];
    pthread_t t[T];
    struct job got[T] = {{0}};
    for (int i = 0; i < T; i++) pthread_create(&t[i], NULL, worker, &got[i]);
    for (int i = 0; i < T; i++) pthread_join(t[i], NULL);
    float one;
    CHECK(sw_set_num_threads(1) == SW_STATUS_OK, "one thread");
    CHECK(sw_sum_f32(shared, N / 2, 2 * sizeof(float), &one) == SW_STATUS_OK, "one thread");
    CHECK(sw_set_num_threads(0) == SW_STATUS_OK, "default threads");
    CHECK(one == (float)exact, "%.9g != %.9g", one, (float)exact);
    for (int i = 0; i < T; i++) {
        CHECK(!got[i].failed, "thread %d failed", i);
        CHECK(memcmp(&got[i].sum, &one, sizeof one) == 0, "thread %d: %.9g != %.9g", i,
              got[i].sum, one);
    }
    free(shared);
    printf("ok %d threads at once, same bits as one thread (%zu threads each)\n", T,
           sw_get_num_threads());
}

int main(void) {
    printf("stridewise C API, SIMD level %s\n", sw_simd_level());
    padded_rows();
    integer_types();
    shortcuts();
    degenerate();
    quantiles();
    averages();
    errors();
    threads();
    if (failures) {
        fprintf(stderr, "%d check(s) failed\n", failures);
        return 1;
    }
    return 0;
}
