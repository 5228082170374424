#ifndef TEXT_H
#define TEXT_H
#include <stddef.h>
#include <stdio.h>

/* A string-keyed hash map of counters (open addressing, grows at 70% load). */
typedef struct {
    char *word;
    long count;
} wc_entry;

typedef struct {
    wc_entry *slots;
    size_t capacity;
    size_t size;
} wc_map;

void wc_map_init(wc_map *m);
void wc_map_free(wc_map *m);
/* Adds `delta` to the counter of `word` (copied on first sight); returns the new count. */
long wc_map_add(wc_map *m, const char *word, long delta);
long wc_map_get(const wc_map *m, const char *word);
/* Copies the entries into a new array sorted by count (descending) then word. */
wc_entry *wc_map_sorted(const wc_map *m);

/* Calls `fn` for every lower-cased word of the stream; returns the number of words. */
typedef void (*wc_word_fn)(const char *word, void *ctx);
long wc_tokenize(FILE *in, wc_word_fn fn, void *ctx);

#endif
