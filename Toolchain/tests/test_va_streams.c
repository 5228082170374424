/*
 * The va_list shims that write to file descriptors, standard streams and wide streams, or read
 * from them: output is captured through pipes and memory streams and compared with what the
 * native function prints for the same arguments.
 */
#define _GNU_SOURCE
#include "check.h"

#include "abi_shims.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <wchar.h>

/* Same mapping as test_va.c: what popcorn-cc's x86_64 va_start produces. */
static struct popcorn_a64_va_list to_a64(va_list ap)
{
    struct popcorn_x86_va_tag *tag = (struct popcorn_x86_va_tag *)(void *)ap;
    struct popcorn_a64_va_list a;
    a.__stack = tag->overflow_arg_area;
    a.__gr_top = (char *)tag->reg_save_area + POPCORN_X86_GP_SAVE;
    a.__vr_top = (char *)tag->reg_save_area + POPCORN_X86_REG_SAVE;
    a.__gr_offs = (int32_t)tag->gp_offset - POPCORN_X86_GP_SAVE;
    a.__vr_offs = (int32_t)tag->fp_offset - POPCORN_X86_REG_SAVE;
    return a;
}

#define A64_FORWARD(last, call)                                                           \
    va_list ap;                                                                           \
    va_start(ap, last);                                                                   \
    struct popcorn_a64_va_list a = to_a64(ap);                                            \
    call;                                                                                 \
    va_end(ap)

static int via_vdprintf(int fd, const char *fmt, ...)
{
    int r;
    A64_FORWARD(fmt, r = __popcorn_abi_vdprintf(fd, fmt, &a));
    return r;
}

static int via_vprintf(const char *fmt, ...)
{
    int r;
    A64_FORWARD(fmt, r = __popcorn_abi_vprintf(fmt, &a));
    return r;
}

static void via_vwarnx(const char *fmt, ...)
{
    A64_FORWARD(fmt, __popcorn_abi_vwarnx(fmt, &a));
}

static void via_vwarn(const char *fmt, ...)
{
    A64_FORWARD(fmt, __popcorn_abi_vwarn(fmt, &a));
}

static int via_vfscanf(FILE *f, const char *fmt, ...)
{
    int r;
    A64_FORWARD(fmt, r = __popcorn_abi_vfscanf(f, fmt, &a));
    return r;
}

static int via_vscanf(const char *fmt, ...)
{
    int r;
    A64_FORWARD(fmt, r = __popcorn_abi_vscanf(fmt, &a));
    return r;
}

static int via_vfwprintf(FILE *f, const wchar_t *fmt, ...)
{
    int r;
    A64_FORWARD(fmt, r = __popcorn_abi_vfwprintf(f, fmt, &a));
    return r;
}

static int via_vfwscanf(FILE *f, const wchar_t *fmt, ...)
{
    int r;
    A64_FORWARD(fmt, r = __popcorn_abi_vfwscanf(f, fmt, &a));
    return r;
}

/* Runs fn with file descriptor `target` redirected into a pipe; returns what was written. */
static void capture(int target, void (*fn)(void), char *out, size_t size)
{
    int fds[2];
    CHECK_EQ(pipe(fds), 0);
    int saved = dup(target);
    dup2(fds[1], target);
    close(fds[1]);
    fn();
    dup2(saved, target);
    close(saved);
    ssize_t n = read(fds[0], out, size - 1);
    out[n > 0 ? n : 0] = 0;
    close(fds[0]);
}

static void print_stdout(void)
{
    CHECK_EQ(via_vprintf("%s %Lg %d\n", "out", (__float128)0.125Q, -4), 13);
    fflush(stdout);
}

static void print_stderr(void)
{
    via_vwarnx("warned %Lf %s", (__float128)-2.5Q, "x");
    via_vwarn("failed %d", 3);
}

void test_va_streams(void)
{
    char text[256];
    int fds[2];
    CHECK_EQ(pipe(fds), 0);
    CHECK_EQ(via_vdprintf(fds[1], "%d:%.3Lf:%s", 12, (__float128)2.0625Q, "fd"), 11);
    close(fds[1]);
    ssize_t n = read(fds[0], text, sizeof text - 1);
    text[n > 0 ? n : 0] = 0;
    close(fds[0]);
    CHECK_STR(text, "12:2.062:fd");

    capture(1, print_stdout, text, sizeof text);
    CHECK_STR(text, "out 0.125 -4\n");
    errno = 2; /* ENOENT, for vwarn's suffix */
    capture(2, print_stderr, text, sizeof text);
    CHECK(strstr(text, ": warned -2.500000 x\n") != NULL);
    CHECK(strstr(text, ": failed 3: No such file or directory\n") != NULL);

    /* Reading: a memory stream and standard input. */
    static char input[] = "17 3.75 word";
    FILE *in = fmemopen(input, strlen(input), "r");
    CHECK(in != NULL);
    int i = 0;
    __float128 q = 0;
    char word[8] = "";
    CHECK_EQ(via_vfscanf(in, "%d %Lf %7s", &i, &q, word), 3);
    CHECK_EQ(i, 17);
    CHECK(q == 3.75Q);
    CHECK_STR(word, "word");
    fclose(in);

    CHECK_EQ(pipe(fds), 0);
    CHECK_EQ(write(fds[1], "-9 1e3\n", 7), 7);
    close(fds[1]);
    int saved = dup(0);
    dup2(fds[0], 0);
    close(fds[0]);
    CHECK_EQ(via_vscanf("%d %Lg", &i, &q), 2);
    dup2(saved, 0);
    close(saved);
    clearerr(stdin);
    CHECK_EQ(i, -9);
    CHECK(q == 1000.0Q);

    /* Wide streams (musl's memory streams do not support wide float output; use files). */
    FILE *w = tmpfile();
    CHECK(w != NULL);
    CHECK_EQ(via_vfwprintf(w, L"[%ls %.2Lf %c]", L"w", (__float128)0.5Q, 'k'), 10);
    rewind(w);
    memset(text, 0, sizeof text);
    CHECK_EQ(fread(text, 1, sizeof text - 1, w), 10);
    CHECK_STR(text, "[w 0.50 k]");
    fclose(w);
    in = tmpfile();
    CHECK(in != NULL);
    fputs("5 -0.25", in);
    rewind(in);
    CHECK_EQ(via_vfwscanf(in, L"%d %Lf", &i, &q), 2);
    CHECK_EQ(i, 5);
    CHECK(q == -0.25Q);
    fclose(in);
}
