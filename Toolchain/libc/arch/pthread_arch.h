/* Thread pointer of the C library built from one IR (replaces musl's arch/aarch64 version).
 *
 * The C library sees aarch64's TLS layout (variant I: descriptor below the thread pointer,
 * TLS block 16 bytes above it) on every ISA, so a thread-local has one address on both. The
 * per-ISA layer returns that thread pointer; on x86_64 it is kept next to %fs's self word. */
#include <stdint.h>

uintptr_t __popcorn_get_tp(void);

static inline uintptr_t __get_tp(void) { return __popcorn_get_tp(); }

#define TLS_ABOVE_TP
#define GAP_ABOVE_TP 16

#define MC_PC pc
