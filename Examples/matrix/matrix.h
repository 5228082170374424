#ifndef MATRIX_H
#define MATRIX_H
#include <stddef.h>
#include <stdint.h>

typedef struct {
    size_t n;
    double *a; /* row-major n*n */
} matrix;

matrix matrix_new(size_t n);
void matrix_free(matrix *m);
void matrix_random(matrix *m, uint64_t *seed);
void matrix_multiply(const matrix *a, const matrix *b, matrix *out);
/* In-place LU decomposition with partial pivoting; returns the determinant. */
double matrix_lu_determinant(matrix *m, int *swaps);
double matrix_checksum(const matrix *m);

uint64_t rng_next(uint64_t *state);
double rng_unit(uint64_t *state);
void int_histogram(uint64_t *seed, int samples, int *bins, int nbins);

#endif
