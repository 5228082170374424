#ifndef STORE_H
#define STORE_H
#include <stdio.h>

/* A log-structured key/value store: every update is appended to a text log; an in-memory index
 * maps keys to the offset of their latest record; compaction rewrites the log with live keys. */
typedef struct kv_store kv_store;

kv_store *kv_open(const char *path);
void kv_close(kv_store *s);
int kv_set(kv_store *s, const char *key, const char *value);
int kv_del(kv_store *s, const char *key);
/* Copies the value into buf; returns its length, or -1 if the key is absent. */
int kv_get(kv_store *s, const char *key, char *buf, size_t size);
long kv_log_size(kv_store *s);
size_t kv_count(kv_store *s);
int kv_compact(kv_store *s);
/* Writes "key=value" lines for all live keys, sorted by key. */
int kv_export(kv_store *s, FILE *out);

#endif
