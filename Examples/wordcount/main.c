/* Word frequencies: writes a deterministic text to a temporary file, reads it back through the
 * static library's tokenizer and hash map, and prints the most frequent words. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "text.h"

static const char *const vocabulary[] = {
    "migrate", "stack", "frame", "register", "pointer", "heap", "thread", "binary",
    "align", "section", "symbol", "linker", "compiler", "runtime", "metadata", "call",
    "the", "a", "of", "and", "to", "in", "is", "on",
};
enum { VOCAB = sizeof vocabulary / sizeof vocabulary[0] };

static void count_word(const char *word, void *ctx) { wc_map_add(ctx, word, 1); }

int main(int argc, char **argv) {
    long lines = argc > 1 ? atol(argv[1]) : 2000;
    char path[] = "/tmp/wordcount-XXXXXX";
    int fd = mkstemp(path);
    FILE *out = fd >= 0 ? fdopen(fd, "w+") : NULL;
    if (!out) {
        perror("mkstemp");
        return 1;
    }
    unsigned state = 12345;
    for (long l = 0; l < lines; l++) {
        int n = 3 + (int)(l % 9);
        for (int w = 0; w < n; w++) {
            state = state * 1103515245u + 12345u;
            /* Skew the distribution so the ranking is interesting. */
            unsigned r = (state >> 16) % (VOCAB * (VOCAB + 1) / 2), k = 0;
            while (r >= VOCAB - k) r -= VOCAB - k++;
            fprintf(out, "%s%s", w ? " " : "", vocabulary[k]);
        }
        fputs(l % 5 == 4 ? ".\n" : ",\n", out);
    }
    rewind(out);
    wc_map map;
    wc_map_init(&map);
    long total = wc_tokenize(out, count_word, &map);
    fclose(out);
    remove(path);

    printf("%ld words, %zu distinct\n", total, map.size);
    wc_entry *sorted = wc_map_sorted(&map);
    for (size_t i = 0; i < map.size && i < 10; i++)
        printf("%2zu. %-10s %6ld  %5.2f%%\n", i + 1, sorted[i].word, sorted[i].count,
               100.0 * sorted[i].count / total);
    printf("count(stack) = %ld, count(nothing) = %ld\n", wc_map_get(&map, "stack"),
           wc_map_get(&map, "nothing"));
    free(sorted);
    wc_map_free(&map);
    return 0;
}
