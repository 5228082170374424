/* The POPCORN_* settings parser (runtime/common/settings.c): every value is either accepted
 * exactly or rejected with a reason, never half-read. */
#include "check.h"

#include "settings.h"

#include <stdlib.h>

static const char *points(const char *text, unsigned *count, unsigned long long *first, int *all)
{
    unsigned long long list[4] = {0};
    *count = 99;
    *all = -1;
    const char *why = popcorn_parse_points(text, list, 4, count, all);
    *first = list[0];
    return why;
}

void test_settings(void)
{
    unsigned count;
    unsigned long long first;
    int all;

    CHECK(points("50", &count, &first, &all) == NULL);
    CHECK_EQ(count, 1);
    CHECK_EQ(first, 50);
    CHECK_EQ(all, 0);
    CHECK(points("1,2,18446744073709551615", &count, &first, &all) == NULL);
    CHECK_EQ(count, 3);
    CHECK(points("all", &count, &first, &all) == NULL);
    CHECK_EQ(all, 1);
    CHECK_EQ(count, 0);
    /* "all" only where the variable allows it */
    unsigned long long list[4];
    CHECK(popcorn_parse_points("all", list, 4, &count, NULL) != NULL);

    /* Each of these was silently ignored or half-read before this parser. */
    static const char *const malformed[] = {
        "",      "-1",      "50abc", "1e3", "18446744073709551616", "99999999999999999999999",
        "400,50", "5,5",    " 50",   "50 ", "0",                    "0x32",
        "abc",   "050",     "1,,2",  "1,",  ",1",                   "+5",
        "1,2,3,4,5", /* more than the capacity */
    };
    for (size_t i = 0; i < sizeof malformed / sizeof malformed[0]; i++) {
        const char *why = points(malformed[i], &count, &first, &all);
        CHECK(why != NULL);
        if (!why)
            fprintf(stderr, "  accepted POPCORN point list '%s'\n", malformed[i]);
        CHECK_EQ(count, 99); /* untouched */
    }

    int flag = -1;
    CHECK(popcorn_parse_flag("1", &flag) == NULL);
    CHECK_EQ(flag, 1);
    CHECK(popcorn_parse_flag("0", &flag) == NULL);
    CHECK_EQ(flag, 0);
    static const char *const bad_flags[] = {"", "yes", "true", "2", "01", " 1", "1 "};
    for (size_t i = 0; i < sizeof bad_flags / sizeof bad_flags[0]; i++)
        CHECK(popcorn_parse_flag(bad_flags[i], &flag) != NULL);

    int fd = -1;
    CHECK(popcorn_parse_descriptor("3", &fd) == NULL);
    CHECK_EQ(fd, 3);
    CHECK(popcorn_parse_descriptor("0", &fd) == NULL);
    CHECK_EQ(fd, 0);
    static const char *const bad_fds[] = {"", "-1", "3x", "2147483648", "03", " 3"};
    for (size_t i = 0; i < sizeof bad_fds / sizeof bad_fds[0]; i++)
        CHECK(popcorn_parse_descriptor(bad_fds[i], &fd) != NULL);

    /* The environment path: a malformed value leaves the caller's list as it was. */
    unsigned long long kept[4] = {7, 0, 0, 0};
    unsigned kept_count = 1;
    setenv("POPCORN_CHECK_POINTS", "3,1", 1);
    CHECK_EQ(popcorn_setting_points("POPCORN_CHECK_POINTS", kept, 4, &kept_count, NULL), -1);
    CHECK_EQ(kept_count, 1);
    CHECK_EQ(kept[0], 7);
    setenv("POPCORN_CHECK_POINTS", "3,9", 1);
    CHECK_EQ(popcorn_setting_points("POPCORN_CHECK_POINTS", kept, 4, &kept_count, NULL), 1);
    CHECK_EQ(kept_count, 2);
    CHECK_EQ(kept[1], 9);
    unsetenv("POPCORN_CHECK_POINTS");
    CHECK_EQ(popcorn_setting_points("POPCORN_CHECK_POINTS", kept, 4, &kept_count, NULL), 0);
    /* This test runs without privileges. */
    CHECK_EQ(popcorn_secure_execution(), 0);
}
