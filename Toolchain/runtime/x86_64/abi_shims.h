/*
 * The x86_64 ABI portability layer: every __popcorn_abi_<name> the compiler's x86_64 lowering
 * calls instead of libc's <name>, plus the translation helpers the shims share.
 *
 * Each shim takes and returns the program's (aarch64) representation, calls native x86_64 musl
 * and converts back.  Variadic shims are declared exactly like the libc prototype: the program's
 * x86_64 code calls them with native x86_64 variadic conventions.
 */
#ifndef POPCORN_ABI_SHIMS_H
#define POPCORN_ABI_SHIMS_H

#include "aarch64_abi.h"

#include <signal.h>
#include <stdio.h>
#include <sys/types.h>
#include <wchar.h>

struct FTW;

/* ---- translation helpers shared by the shims (reserved names: linked into user programs) ---- */
int __popcorn_oflags_to_native(int a64_flags);
int __popcorn_oflags_from_native(int native_flags);
struct stat;
void __popcorn_stat_from_native(struct popcorn_a64_stat *out, const struct stat *in);
int __popcorn_fe_excepts_to_native(int a64_excepts);
int __popcorn_fe_excepts_from_native(int native_excepts);
int __popcorn_fe_round_to_native(int a64_round);
int __popcorn_fe_round_from_native(int native_round);
long __popcorn_syscall_number_to_native(long a64_number);
/* Widens n packed x86_64 epoll events at the front of the buffer to the aarch64 layout. */
void __popcorn_epoll_events_widen(struct popcorn_a64_epoll_event *events, long n);

/* ---- fcntl.h / unistd.h / stdlib.h ---- */
int __popcorn_abi_open(const char *path, int flags, ...);
int __popcorn_abi_open64(const char *path, int flags, ...);
int __popcorn_abi_openat(int dirfd, const char *path, int flags, ...);
int __popcorn_abi_openat64(int dirfd, const char *path, int flags, ...);
int __popcorn_abi_fcntl(int fd, int cmd, ...);
int __popcorn_abi_fcntl64(int fd, int cmd, ...);
int __popcorn_abi_pipe2(int fds[2], int flags);
int __popcorn_abi_mkostemp(char *template, int flags);
int __popcorn_abi_mkostemps(char *template, int suffix_length, int flags);

/* ---- sys/stat.h / ftw.h ---- */
int __popcorn_abi_stat(const char *path, struct popcorn_a64_stat *buf);
int __popcorn_abi_fstat(int fd, struct popcorn_a64_stat *buf);
int __popcorn_abi_lstat(const char *path, struct popcorn_a64_stat *buf);
int __popcorn_abi_fstatat(int dirfd, const char *path, struct popcorn_a64_stat *buf, int flags);
int __popcorn_abi_stat64(const char *path, struct popcorn_a64_stat *buf);
int __popcorn_abi_fstat64(int fd, struct popcorn_a64_stat *buf);
int __popcorn_abi_lstat64(const char *path, struct popcorn_a64_stat *buf);
int __popcorn_abi_fstatat64(int dirfd, const char *path, struct popcorn_a64_stat *buf, int flags);

typedef int (*popcorn_a64_ftw_fn)(const char *, const struct popcorn_a64_stat *, int);
typedef int (*popcorn_a64_nftw_fn)(const char *, const struct popcorn_a64_stat *, int, struct FTW *);
int __popcorn_abi_ftw(const char *path, popcorn_a64_ftw_fn fn, int fd_limit);
int __popcorn_abi_nftw(const char *path, popcorn_a64_nftw_fn fn, int fd_limit, int flags);

/* ---- fenv.h ---- */
int __popcorn_abi_feclearexcept(int excepts);
int __popcorn_abi_fegetexceptflag(popcorn_a64_fexcept_t *flagp, int excepts);
int __popcorn_abi_feraiseexcept(int excepts);
int __popcorn_abi_fesetexceptflag(const popcorn_a64_fexcept_t *flagp, int excepts);
int __popcorn_abi_fetestexcept(int excepts);
int __popcorn_abi_fegetround(void);
int __popcorn_abi_fesetround(int round);
int __popcorn_abi_fegetenv(popcorn_a64_fenv_t *envp);
int __popcorn_abi_feholdexcept(popcorn_a64_fenv_t *envp);
int __popcorn_abi_fesetenv(const popcorn_a64_fenv_t *envp);
int __popcorn_abi_feupdateenv(const popcorn_a64_fenv_t *envp);

/* ---- sys/epoll.h ---- */
int __popcorn_abi_epoll_ctl(int epfd, int op, int fd, struct popcorn_a64_epoll_event *event);
int __popcorn_abi_epoll_wait(int epfd, struct popcorn_a64_epoll_event *events, int maxevents,
                             int timeout);
int __popcorn_abi_epoll_pwait(int epfd, struct popcorn_a64_epoll_event *events, int maxevents,
                              int timeout, const sigset_t *sigmask);

/* ---- unistd.h syscall ---- */
long __popcorn_abi_syscall(long number, ...);

/* ---- math.h ---- */
__float128 __popcorn_abi_modfl(__float128 x, __float128 *iptr);

/* ---- va_list consumers (stdio.h, wchar.h, syslog.h, err.h) ---- */
typedef const struct popcorn_a64_va_list *popcorn_a64_va_ptr;
int __popcorn_abi_vprintf(const char *fmt, popcorn_a64_va_ptr ap);
int __popcorn_abi_vfprintf(FILE *f, const char *fmt, popcorn_a64_va_ptr ap);
int __popcorn_abi_vsprintf(char *s, const char *fmt, popcorn_a64_va_ptr ap);
int __popcorn_abi_vsnprintf(char *s, size_t n, const char *fmt, popcorn_a64_va_ptr ap);
int __popcorn_abi_vdprintf(int fd, const char *fmt, popcorn_a64_va_ptr ap);
int __popcorn_abi_vasprintf(char **s, const char *fmt, popcorn_a64_va_ptr ap);
int __popcorn_abi_vscanf(const char *fmt, popcorn_a64_va_ptr ap);
int __popcorn_abi_vfscanf(FILE *f, const char *fmt, popcorn_a64_va_ptr ap);
int __popcorn_abi_vsscanf(const char *s, const char *fmt, popcorn_a64_va_ptr ap);
void __popcorn_abi_vsyslog(int priority, const char *fmt, popcorn_a64_va_ptr ap);
_Noreturn void __popcorn_abi_verr(int status, const char *fmt, popcorn_a64_va_ptr ap);
_Noreturn void __popcorn_abi_verrx(int status, const char *fmt, popcorn_a64_va_ptr ap);
void __popcorn_abi_vwarn(const char *fmt, popcorn_a64_va_ptr ap);
void __popcorn_abi_vwarnx(const char *fmt, popcorn_a64_va_ptr ap);
int __popcorn_abi_vfwprintf(FILE *f, const wchar_t *fmt, popcorn_a64_va_ptr ap);
int __popcorn_abi_vswprintf(wchar_t *s, size_t n, const wchar_t *fmt, popcorn_a64_va_ptr ap);
int __popcorn_abi_vwprintf(const wchar_t *fmt, popcorn_a64_va_ptr ap);
int __popcorn_abi_vfwscanf(FILE *f, const wchar_t *fmt, popcorn_a64_va_ptr ap);
int __popcorn_abi_vswscanf(const wchar_t *s, const wchar_t *fmt, popcorn_a64_va_ptr ap);
int __popcorn_abi_vwscanf(const wchar_t *fmt, popcorn_a64_va_ptr ap);

#endif /* POPCORN_ABI_SHIMS_H */
