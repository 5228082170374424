/*
 * POPCORN_* settings (settings.h).  Everything here runs in constructors, before main, with
 * the ordinary libc: the settings are read once per run (a restored process keeps the parsed
 * values of the process it continues, which live in its carried memory).
 */
#include "settings.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>

#ifndef AT_SECURE
#define AT_SECURE 23
#endif

int popcorn_secure_execution(void)
{
    /* The kernel's verdict, not a comparison of uids: file capabilities and LSM transitions set
     * it too.  qemu-user passes the host's value on to the guest. */
    static int secure = -1;
    if (secure < 0)
        secure = getauxval(AT_SECURE) != 0;
    return secure;
}

const char *popcorn_setting(const char *name)
{
    if (popcorn_secure_execution())
        return NULL;
    return getenv(name);
}

void popcorn_setting_warn(const char *name, const char *value, const char *why)
{
    fprintf(stderr, "popcorn: warning: ignoring %s='%s': %s\n", name, value, why);
}

/* One decimal number at *cursor (advanced past it) into *out. */
static const char *parse_number(const char **cursor, unsigned long long max, unsigned long long *out)
{
    const char *p = *cursor;
    if (*p < '0' || *p > '9')
        return *p == '\0' || *p == ',' ? "an empty number" : "not a decimal number";
    if (*p == '0' && p[1] >= '0' && p[1] <= '9')
        return "a number with leading zeros";
    unsigned long long value = 0;
    for (; *p >= '0' && *p <= '9'; p++) {
        unsigned digit = (unsigned)(*p - '0');
        if (value > (max - digit) / 10)
            return "a number out of range";
        value = value * 10 + digit;
    }
    *cursor = p;
    *out = value;
    return NULL;
}

const char *popcorn_parse_points(const char *text, unsigned long long *points, unsigned capacity,
                                 unsigned *count, int *all)
{
    if (*text == '\0')
        return "empty";
    if (all && strcmp(text, "all") == 0) {
        *all = 1;
        *count = 0;
        return NULL;
    }
    unsigned n = 0;
    for (const char *p = text;;) {
        unsigned long long value;
        const char *why = parse_number(&p, UINT64_MAX, &value);
        if (why)
            return why;
        if (value == 0)
            return "migration points are numbered from 1";
        if (n > 0 && value <= points[n - 1])
            return "the point numbers must be in ascending order, each once";
        if (n == capacity)
            return "too many point numbers";
        points[n++] = value;
        if (*p == '\0')
            break;
        if (*p != ',')
            return "not a comma-separated list of decimal numbers";
        p++;
    }
    if (all)
        *all = 0;
    *count = n;
    return NULL;
}

const char *popcorn_parse_flag(const char *text, int *out)
{
    if ((text[0] == '0' || text[0] == '1') && text[1] == '\0') {
        *out = text[0] - '0';
        return NULL;
    }
    return "expected 0 or 1";
}

const char *popcorn_parse_descriptor(const char *text, int *out)
{
    unsigned long long value;
    const char *p = text;
    const char *why = parse_number(&p, INT32_MAX, &value);
    if (why)
        return why;
    if (*p != '\0')
        return "not a decimal number";
    *out = (int)value;
    return NULL;
}

int popcorn_setting_flag(const char *name, int *out)
{
    const char *value = popcorn_setting(name);
    if (!value)
        return 0;
    const char *why = popcorn_parse_flag(value, out);
    if (why) {
        popcorn_setting_warn(name, value, why);
        return -1;
    }
    return 1;
}

int popcorn_setting_points(const char *name, unsigned long long *points, unsigned capacity, unsigned *count,
                           int *all)
{
    const char *value = popcorn_setting(name);
    if (!value)
        return 0;
    /* Parsed into the caller's array, which is left as it was if the value is malformed. The
     * scratch array is mapped, not allocated: with the portable C library the program's first
     * malloc would otherwise find the allocator set up already and reach fewer migration points
     * than in a run without this setting. */
    size_t bytes = (capacity ? capacity : 1) * sizeof(unsigned long long);
    unsigned long long *scratch = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (scratch == MAP_FAILED) {
        popcorn_setting_warn(name, value, "out of memory");
        return -1;
    }
    unsigned n = 0;
    int every = 0;
    const char *why = popcorn_parse_points(value, scratch, capacity, &n, all ? &every : NULL);
    if (!why) {
        memcpy(points, scratch, n * sizeof *scratch);
        *count = n;
        if (all)
            *all = every;
    }
    munmap(scratch, bytes);
    if (why) {
        popcorn_setting_warn(name, value, why);
        return -1;
    }
    return 1;
}

int popcorn_setting_path(const char *name, const char **out)
{
    const char *value = popcorn_setting(name);
    if (!value)
        return 0;
    if (*value == '\0') {
        popcorn_setting_warn(name, value, "empty");
        return -1;
    }
    *out = value;
    return 1;
}
