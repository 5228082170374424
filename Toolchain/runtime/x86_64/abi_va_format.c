/*
 * Format-string analysis for the va_list shims: which arguments a printf or scanf format
 * consumes and how each travels.  Follows musl's format grammar (positional `n$` arguments,
 * `*` widths and precisions, hh/h/l/ll/L/j/z/t/q length modifiers, scanf's `*` and `m`) so the
 * argument list rebuilt from the plan is the one musl will read.  Works on narrow and wide
 * formats alike: the syntax is ASCII either way.
 */
#include "va_support.h"

#include <string.h>
#include <wchar.h>

static unsigned at(const void *format, size_t i, int wide)
{
    return wide ? (unsigned)((const wchar_t *)format)[i] : ((const unsigned char *)format)[i];
}

/* strchr for format characters; wide characters outside ASCII are never syntax. */
static int in_set(const char *set, unsigned c)
{
    return c != 0 && c < 128 && strchr(set, (int)c) != NULL;
}

static int is_digit(unsigned c)
{
    return c >= '0' && c <= '9';
}

/* Parses a decimal number at *i; returns it (capped), leaving *i after the digits. */
static int number(const void *format, size_t *i, int wide)
{
    int n = 0;
    while (is_digit(at(format, *i, wide))) {
        if (n < 100000)
            n = n * 10 + (int)(at(format, *i, wide) - '0');
        (*i)++;
    }
    return n;
}

/* Parses an optional `n$` at *i: returns n (>= 1), or 0 and leaves *i alone if absent. */
static int position(const void *format, size_t *i, int wide)
{
    size_t j = *i;
    if (!is_digit(at(format, j, wide)))
        return 0;
    int n = number(format, &j, wide);
    if (at(format, j, wide) != '$' || n == 0)
        return 0;
    *i = j + 1;
    return n;
}

/* Records argument `pos` (1-based, positional) or the next sequential one (pos == 0). */
struct recorder {
    struct popcorn_va_plan *plan;
    int mode; /* 0 undecided, 1 sequential, 2 positional */
    unsigned char seen[POPCORN_VA_MAX_ARGS];
};

static int record(struct recorder *r, int pos, enum popcorn_va_class cls)
{
    int mode = pos ? 2 : 1;
    if (r->mode && r->mode != mode)
        return -1; /* mixing the two styles is undefined; musl rejects it */
    r->mode = mode;
    int index = pos ? pos - 1 : r->plan->count;
    if (index >= POPCORN_VA_MAX_ARGS)
        return -1;
    if (r->seen[index] && r->plan->classes[index] != cls)
        return -1;
    r->seen[index] = 1;
    r->plan->classes[index] = (unsigned char)cls;
    if (index + 1 > r->plan->count)
        r->plan->count = index + 1;
    return 0;
}

static int finish(struct recorder *r)
{
    struct popcorn_va_plan *plan = r->plan;
    plan->long_doubles = 0;
    for (int i = 0; i < plan->count; i++) {
        if (!r->seen[i])
            return -1; /* a positional gap: the argument's type is unknowable */
        if (plan->classes[i] == POPCORN_VA_LDBL)
            plan->long_doubles++;
    }
    return 0;
}

/* Skips a length modifier; returns 1 if it was `L` (long double). */
static int length_modifier(const void *format, size_t *i, int wide)
{
    unsigned c = at(format, *i, wide);
    switch (c) {
    case 'h':
    case 'l':
        (*i)++;
        if (at(format, *i, wide) == c)
            (*i)++;
        return 0;
    case 'L':
        (*i)++;
        return 1;
    case 'j':
    case 'z':
    case 't':
    case 'q':
        (*i)++;
        return 0;
    }
    return 0;
}

static int is_float_conversion(unsigned c)
{
    return c == 'e' || c == 'E' || c == 'f' || c == 'F' || c == 'g' || c == 'G' || c == 'a' ||
           c == 'A';
}

/* `*` or `*m$` for a width or precision: an int argument. */
static int star(struct recorder *r, const void *format, size_t *i, int wide)
{
    (*i)++;
    int pos = position(format, i, wide);
    return record(r, pos, POPCORN_VA_GP);
}

int __popcorn_printf_plan(const void *format, int wide, struct popcorn_va_plan *plan)
{
    struct recorder r;
    memset(&r, 0, sizeof r);
    plan->count = 0;
    r.plan = plan;
    for (size_t i = 0; at(format, i, wide); i++) {
        if (at(format, i, wide) != '%')
            continue;
        i++;
        if (at(format, i, wide) == '%')
            continue;
        int pos = position(format, &i, wide);
        while (in_set("-+ #0'", at(format, i, wide)))
            i++;
        if (at(format, i, wide) == '*') {
            if (star(&r, format, &i, wide))
                return -1;
        } else {
            number(format, &i, wide);
        }
        if (at(format, i, wide) == '.') {
            i++;
            if (at(format, i, wide) == '*') {
                if (star(&r, format, &i, wide))
                    return -1;
            } else {
                number(format, &i, wide);
            }
        }
        int is_long_double = length_modifier(format, &i, wide);
        unsigned c = at(format, i, wide);
        enum popcorn_va_class cls;
        if (is_float_conversion(c))
            cls = is_long_double ? POPCORN_VA_LDBL : POPCORN_VA_FP;
        else if (in_set("diouxXcCsSpn", c))
            cls = POPCORN_VA_GP;
        else if (c == 'm')
            continue; /* strerror(errno): no argument */
        else
            return -1; /* unknown or truncated conversion */
        if (record(&r, pos, cls))
            return -1;
    }
    return finish(&r);
}

int __popcorn_scanf_plan(const void *format, int wide, struct popcorn_va_plan *plan)
{
    struct recorder r;
    memset(&r, 0, sizeof r);
    plan->count = 0;
    r.plan = plan;
    for (size_t i = 0; at(format, i, wide); i++) {
        if (at(format, i, wide) != '%')
            continue;
        i++;
        if (at(format, i, wide) == '%')
            continue;
        int suppressed = 0, pos = 0;
        if (at(format, i, wide) == '*') {
            suppressed = 1;
            i++;
        } else {
            pos = position(format, &i, wide);
        }
        number(format, &i, wide);
        if (at(format, i, wide) == 'm')
            i++;
        int is_long_double = length_modifier(format, &i, wide);
        unsigned c = at(format, i, wide);
        if (c == '[') {
            /* A scanset: `]` right after `[` or `[^` is a member, not the end. */
            i++;
            if (at(format, i, wide) == '^')
                i++;
            if (at(format, i, wide) == ']')
                i++;
            while (at(format, i, wide) && at(format, i, wide) != ']')
                i++;
            if (!at(format, i, wide))
                return -1;
        } else if (!in_set("diouxXcCsSpneEfFgGaA", c)) {
            return -1;
        }
        if (suppressed)
            continue;
        enum popcorn_va_class cls =
            is_float_conversion(c) && is_long_double ? POPCORN_VA_LDBL : POPCORN_VA_GP;
        if (record(&r, pos, cls))
            return -1;
    }
    return finish(&r);
}
