#include <ctype.h>
#include "text.h"

long wc_tokenize(FILE *in, wc_word_fn fn, void *ctx) {
    char word[64];
    size_t len = 0;
    long words = 0;
    int c;
    do {
        c = getc(in);
        if (c != EOF && isalpha(c)) {
            if (len < sizeof word - 1) word[len++] = (char)tolower(c);
        } else if (len > 0) {
            word[len] = '\0';
            fn(word, ctx);
            words++;
            len = 0;
        }
    } while (c != EOF);
    return words;
}
