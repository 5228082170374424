/* System calls of the C library built from one IR (replaces musl's arch/aarch64 version).
 *
 * musl's own header issues `svc 0` inline; here every system call goes through one function of
 * the per-ISA layer, __popcorn_syscall, which takes the aarch64 call number and aarch64 argument
 * layouts on every ISA (the x86_64 layer translates them, docs/ABI.md). */
#define __SYSCALL_LL_E(x) (x)
#define __SYSCALL_LL_O(x) (x)

long __popcorn_syscall(long, long, long, long, long, long, long);

static inline long __syscall0(long n) { return __popcorn_syscall(n, 0, 0, 0, 0, 0, 0); }
static inline long __syscall1(long n, long a) { return __popcorn_syscall(n, a, 0, 0, 0, 0, 0); }
static inline long __syscall2(long n, long a, long b) { return __popcorn_syscall(n, a, b, 0, 0, 0, 0); }
static inline long __syscall3(long n, long a, long b, long c) { return __popcorn_syscall(n, a, b, c, 0, 0, 0); }
static inline long __syscall4(long n, long a, long b, long c, long d) { return __popcorn_syscall(n, a, b, c, d, 0, 0); }
static inline long __syscall5(long n, long a, long b, long c, long d, long e) { return __popcorn_syscall(n, a, b, c, d, e, 0); }
static inline long __syscall6(long n, long a, long b, long c, long d, long e, long f) { return __popcorn_syscall(n, a, b, c, d, e, f); }

#define IPC_64 0
