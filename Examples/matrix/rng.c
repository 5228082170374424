/* A small deterministic generator (splitmix64) so every build and ISA sees the same data. */
#include "matrix.h"

uint64_t rng_next(uint64_t *state) {
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

double rng_unit(uint64_t *state) {
    return (double)(rng_next(state) >> 11) * (1.0 / 9007199254740992.0);
}

void int_histogram(uint64_t *seed, int samples, int *bins, int nbins) {
    for (int i = 0; i < nbins; i++) bins[i] = 0;
    for (int i = 0; i < samples; i++) {
        uint64_t v = rng_next(seed);
        bins[v % (uint64_t)nbins]++;
    }
}
