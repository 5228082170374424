/* Exercises the key/value store: updates, deletes, reopening from the log, compaction and an
 * export read back with fscanf. Everything goes through stdio on real files. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "store.h"

int main(int argc, char **argv) {
    int ops = argc > 1 ? atoi(argv[1]) : 3000;
    char dir[] = "/tmp/kvstore-XXXXXX";
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    char path[64], export_path[64];
    snprintf(path, sizeof path, "%s/log", dir);
    snprintf(export_path, sizeof export_path, "%s/export", dir);

    kv_store *s = kv_open(path);
    if (!s) {
        perror("kv_open");
        return 1;
    }
    unsigned state = 7;
    char key[32], value[64];
    for (int i = 0; i < ops; i++) {
        state = state * 1664525u + 1013904223u;
        snprintf(key, sizeof key, "key%03u", (state >> 8) % 200);
        if ((state >> 24) % 7 == 0) {
            kv_del(s, key);
        } else {
            snprintf(value, sizeof value, "v%d-%x", i, state & 0xffff);
            kv_set(s, key, value);
        }
    }
    printf("after %d ops: %zu live keys, log %ld bytes\n", ops, kv_count(s), kv_log_size(s));
    kv_close(s);

    s = kv_open(path); /* rebuild the index from the log */
    printf("reopened: %zu live keys\n", kv_count(s));
    if (kv_get(s, "key042", value, sizeof value) >= 0) printf("key042 = %s\n", value);
    else printf("key042 is absent\n");
    if (kv_compact(s) != 0) {
        perror("compact");
        return 1;
    }
    printf("compacted: %zu live keys, log %ld bytes\n", kv_count(s), kv_log_size(s));

    FILE *ex = fopen(export_path, "w");
    kv_export(s, ex);
    fclose(ex);
    ex = fopen(export_path, "r");
    char k[64], v[256];
    long lines = 0, checksum = 0;
    while (fscanf(ex, "%63[^=]=%255s\n", k, v) == 2) {
        lines++;
        for (char *p = v; *p; p++) checksum = (checksum * 31 + *p) % 1000003;
    }
    fclose(ex);
    printf("export: %ld lines, checksum %ld\n", lines, checksum);
    printf("partial line without newline... ");
    fflush(stdout);
    printf("done\n");

    kv_close(s);
    unlink(export_path);
    unlink(path);
    rmdir(dir);
    return 0;
}
