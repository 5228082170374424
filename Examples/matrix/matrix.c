#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "matrix.h"

matrix matrix_new(size_t n) {
    matrix m = {n, calloc(n * n, sizeof(double))};
    return m;
}

void matrix_free(matrix *m) {
    free(m->a);
    m->a = NULL;
}

void matrix_random(matrix *m, uint64_t *seed) {
    for (size_t i = 0; i < m->n * m->n; i++) m->a[i] = rng_unit(seed) * 2.0 - 1.0;
}

/* Cache-blocked i-k-j multiply. */
void matrix_multiply(const matrix *a, const matrix *b, matrix *out) {
    size_t n = a->n;
    enum { BLOCK = 32 };
    memset(out->a, 0, n * n * sizeof(double));
    for (size_t ii = 0; ii < n; ii += BLOCK)
        for (size_t kk = 0; kk < n; kk += BLOCK)
            for (size_t i = ii; i < ii + BLOCK && i < n; i++)
                for (size_t k = kk; k < kk + BLOCK && k < n; k++) {
                    double aik = a->a[i * n + k];
                    const double *brow = &b->a[k * n];
                    double *orow = &out->a[i * n];
                    for (size_t j = 0; j < n; j++) orow[j] += aik * brow[j];
                }
}

double matrix_lu_determinant(matrix *m, int *swaps) {
    size_t n = m->n;
    double det = 1.0;
    *swaps = 0;
    for (size_t k = 0; k < n; k++) {
        size_t pivot = k;
        for (size_t i = k + 1; i < n; i++)
            if (fabs(m->a[i * n + k]) > fabs(m->a[pivot * n + k])) pivot = i;
        if (m->a[pivot * n + k] == 0.0) return 0.0;
        if (pivot != k) {
            for (size_t j = 0; j < n; j++) {
                double t = m->a[k * n + j];
                m->a[k * n + j] = m->a[pivot * n + j];
                m->a[pivot * n + j] = t;
            }
            (*swaps)++;
            det = -det;
        }
        double d = m->a[k * n + k];
        det *= d;
        for (size_t i = k + 1; i < n; i++) {
            double f = m->a[i * n + k] / d;
            m->a[i * n + k] = f;
            for (size_t j = k + 1; j < n; j++) m->a[i * n + j] -= f * m->a[k * n + j];
        }
    }
    return det;
}

double matrix_checksum(const matrix *m) {
    double s = 0;
    for (size_t i = 0; i < m->n * m->n; i++) s += m->a[i] * (double)((i % 7) + 1);
    return s;
}
