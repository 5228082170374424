#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "text.h"

static uint64_t hash(const char *s) {
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    while (*s) h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
    return h;
}

void wc_map_init(wc_map *m) {
    m->capacity = 64;
    m->size = 0;
    m->slots = calloc(m->capacity, sizeof(wc_entry));
}

void wc_map_free(wc_map *m) {
    for (size_t i = 0; i < m->capacity; i++) free(m->slots[i].word);
    free(m->slots);
    m->slots = NULL;
}

static wc_entry *find(wc_entry *slots, size_t cap, const char *word) {
    size_t i = hash(word) & (cap - 1);
    while (slots[i].word && strcmp(slots[i].word, word) != 0) i = (i + 1) & (cap - 1);
    return &slots[i];
}

static void grow(wc_map *m) {
    size_t cap = m->capacity * 2;
    wc_entry *slots = calloc(cap, sizeof(wc_entry));
    for (size_t i = 0; i < m->capacity; i++)
        if (m->slots[i].word) *find(slots, cap, m->slots[i].word) = m->slots[i];
    free(m->slots);
    m->slots = slots;
    m->capacity = cap;
}

long wc_map_add(wc_map *m, const char *word, long delta) {
    if ((m->size + 1) * 10 > m->capacity * 7) grow(m);
    wc_entry *e = find(m->slots, m->capacity, word);
    if (!e->word) {
        e->word = strdup(word);
        m->size++;
    }
    return e->count += delta;
}

long wc_map_get(const wc_map *m, const char *word) {
    wc_entry *e = find(m->slots, m->capacity, word);
    return e->word ? e->count : 0;
}

static int by_count(const void *a, const void *b) {
    const wc_entry *x = a, *y = b;
    if (x->count != y->count) return x->count < y->count ? 1 : -1;
    return strcmp(x->word, y->word);
}

wc_entry *wc_map_sorted(const wc_map *m) {
    wc_entry *out = malloc((m->size ? m->size : 1) * sizeof(wc_entry));
    size_t n = 0;
    for (size_t i = 0; i < m->capacity; i++)
        if (m->slots[i].word) out[n++] = m->slots[i];
    qsort(out, n, sizeof(wc_entry), by_count);
    return out;
}
