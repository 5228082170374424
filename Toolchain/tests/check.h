/*
 * A minimal test harness for the runtime's C unit tests: CHECK records a failure with its
 * location and keeps going, so one run reports every broken translation.
 */
#ifndef POPCORN_CHECK_H
#define POPCORN_CHECK_H

#include <stdio.h>
#include <string.h>

extern int check_count;
extern int check_failures;

#define CHECK(cond)                                                                       \
    do {                                                                                  \
        check_count++;                                                                    \
        if (!(cond)) {                                                                    \
            check_failures++;                                                             \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);      \
        }                                                                                 \
    } while (0)

/* Integer equality that prints both values on failure. */
#define CHECK_EQ(actual, expected)                                                        \
    do {                                                                                  \
        long long check_a_ = (long long)(actual), check_e_ = (long long)(expected);       \
        check_count++;                                                                    \
        if (check_a_ != check_e_) {                                                       \
            check_failures++;                                                             \
            fprintf(stderr, "%s:%d: check failed: %s == %s (%lld vs %lld)\n", __FILE__,    \
                    __LINE__, #actual, #expected, check_a_, check_e_);                    \
        }                                                                                 \
    } while (0)

/* String equality that prints both strings on failure. */
#define CHECK_STR(actual, expected)                                                       \
    do {                                                                                  \
        const char *check_a_ = (actual), *check_e_ = (expected);                          \
        check_count++;                                                                    \
        if (strcmp(check_a_, check_e_) != 0) {                                            \
            check_failures++;                                                             \
            fprintf(stderr, "%s:%d: check failed: %s\n    got      \"%s\"\n    expected \"%s\"\n", \
                    __FILE__, __LINE__, #actual, check_a_, check_e_);                     \
        }                                                                                 \
    } while (0)

void test_isa(void);
void test_settings(void);
#ifdef __x86_64__
void test_fcntl(void);
void test_stat(void);
void test_fenv(void);
void test_epoll(void);
void test_syscall(void);
void test_va(void);
void test_va_streams(void);
void test_modfl(void);
#endif

#endif /* POPCORN_CHECK_H */
