#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "store.h"

enum { MAX_KEY = 64, MAX_VALUE = 256 };

typedef struct {
    char key[MAX_KEY];
    long offset; /* of the latest SET record, or -1 when deleted */
} index_entry;

struct kv_store {
    char path[512];
    FILE *log;
    index_entry *index;
    size_t count, capacity;
};

static index_entry *lookup(kv_store *s, const char *key) {
    for (size_t i = 0; i < s->count; i++)
        if (strcmp(s->index[i].key, key) == 0) return &s->index[i];
    return NULL;
}

static index_entry *insert(kv_store *s, const char *key) {
    index_entry *e = lookup(s, key);
    if (e) return e;
    if (s->count == s->capacity) {
        size_t cap = s->capacity ? s->capacity * 2 : 16;
        index_entry *grown = realloc(s->index, cap * sizeof *grown);
        if (!grown) return NULL;
        s->index = grown;
        s->capacity = cap;
    }
    e = &s->index[s->count++];
    snprintf(e->key, sizeof e->key, "%s", key);
    e->offset = -1;
    return e;
}

/* Replays the log to rebuild the index. */
static int replay(kv_store *s) {
    char line[MAX_KEY + MAX_VALUE + 16];
    rewind(s->log);
    for (;;) {
        long at = ftell(s->log);
        if (!fgets(line, sizeof line, s->log)) break;
        char op[4], key[MAX_KEY];
        if (sscanf(line, "%3s %63s", op, key) != 2) return -1;
        index_entry *e = insert(s, key);
        if (!e) return -1;
        e->offset = strcmp(op, "SET") == 0 ? at : -1;
    }
    return ferror(s->log) ? -1 : 0;
}

kv_store *kv_open(const char *path) {
    kv_store *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    snprintf(s->path, sizeof s->path, "%s", path);
    s->log = fopen(path, "a+");
    if (!s->log || replay(s) != 0) {
        kv_close(s);
        return NULL;
    }
    return s;
}

void kv_close(kv_store *s) {
    if (!s) return;
    if (s->log) fclose(s->log);
    free(s->index);
    free(s);
}

int kv_set(kv_store *s, const char *key, const char *value) {
    if (strlen(key) >= MAX_KEY || strlen(value) >= MAX_VALUE || strchr(key, ' ')) return -1;
    index_entry *e = insert(s, key);
    if (!e || fseek(s->log, 0, SEEK_END) != 0) return -1;
    e->offset = ftell(s->log);
    return fprintf(s->log, "SET %s %s\n", key, value) < 0 ? -1 : 0;
}

int kv_del(kv_store *s, const char *key) {
    index_entry *e = lookup(s, key);
    if (!e || e->offset < 0) return -1;
    e->offset = -1;
    fseek(s->log, 0, SEEK_END);
    return fprintf(s->log, "DEL %s\n", key) < 0 ? -1 : 0;
}

int kv_get(kv_store *s, const char *key, char *buf, size_t size) {
    index_entry *e = lookup(s, key);
    if (!e || e->offset < 0) return -1;
    char line[MAX_KEY + MAX_VALUE + 16];
    fflush(s->log);
    if (fseek(s->log, e->offset, SEEK_SET) != 0 || !fgets(line, sizeof line, s->log)) return -1;
    char *value = line + 4 + strlen(key) + 1;
    value[strcspn(value, "\n")] = '\0';
    snprintf(buf, size, "%s", value);
    return (int)strlen(value);
}

long kv_log_size(kv_store *s) {
    fflush(s->log);
    fseek(s->log, 0, SEEK_END);
    return ftell(s->log);
}

size_t kv_count(kv_store *s) {
    size_t live = 0;
    for (size_t i = 0; i < s->count; i++) live += s->index[i].offset >= 0;
    return live;
}

static int by_key(const void *a, const void *b) {
    return strcmp(((const index_entry *)a)->key, ((const index_entry *)b)->key);
}

int kv_export(kv_store *s, FILE *out) {
    index_entry *copy = malloc((s->count ? s->count : 1) * sizeof *copy);
    if (!copy) return -1;
    memcpy(copy, s->index, s->count * sizeof *copy);
    qsort(copy, s->count, sizeof *copy, by_key);
    char value[MAX_VALUE];
    for (size_t i = 0; i < s->count; i++)
        if (copy[i].offset >= 0 && kv_get(s, copy[i].key, value, sizeof value) >= 0)
            fprintf(out, "%s=%s\n", copy[i].key, value);
    free(copy);
    return 0;
}

int kv_compact(kv_store *s) {
    char tmp[600];
    snprintf(tmp, sizeof tmp, "%s.compact", s->path);
    FILE *out = fopen(tmp, "w");
    if (!out) return -1;
    char value[MAX_VALUE];
    for (size_t i = 0; i < s->count; i++)
        if (s->index[i].offset >= 0 && kv_get(s, s->index[i].key, value, sizeof value) >= 0)
            fprintf(out, "SET %s %s\n", s->index[i].key, value);
    if (fclose(out) != 0 || rename(tmp, s->path) != 0) return -1;
    fclose(s->log);
    s->log = fopen(s->path, "a+");
    s->count = 0;
    return s->log && replay(s) == 0 ? 0 : -1;
}
