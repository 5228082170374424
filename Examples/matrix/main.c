/* Matrix benchmark: `app [n] [rounds]` multiplies random matrices and factorises the result. */
#include <stdio.h>
#include <stdlib.h>
#include "matrix.h"

int main(int argc, char **argv) {
    size_t n = argc > 1 ? (size_t)atol(argv[1]) : 96;
    int rounds = argc > 2 ? atoi(argv[2]) : 3;
    if (n == 0 || n > 4096 || rounds <= 0) {
        fprintf(stderr, "usage: %s [n (1..4096)] [rounds]\n", argv[0]);
        return 2;
    }
    uint64_t seed = 42;
    matrix a = matrix_new(n), b = matrix_new(n), c = matrix_new(n);
    if (!a.a || !b.a || !c.a) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }
    printf("n = %zu, rounds = %d\n", n, rounds);
    for (int r = 0; r < rounds; r++) {
        matrix_random(&a, &seed);
        matrix_random(&b, &seed);
        matrix_multiply(&a, &b, &c);
        double sum = matrix_checksum(&c);
        int swaps;
        double det = matrix_lu_determinant(&c, &swaps);
        printf("round %d: checksum %.6e, det sign %c, pivots swapped %d\n", r, sum,
               det < 0 ? '-' : '+', swaps);
    }
    int bins[10];
    int_histogram(&seed, 100000, bins, 10);
    printf("histogram:");
    for (int i = 0; i < 10; i++) printf(" %d", bins[i]);
    printf("\n");
    matrix_free(&a);
    matrix_free(&b);
    matrix_free(&c);
    return 0;
}
