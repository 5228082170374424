/*
 * Which binary a move runs, and whether it may (docs/PROCESS-MOVE.md, "Which binary a move
 * runs" and "Secure execution").  Everything here happens before the point of no return: a
 * reason returned by these functions becomes the move's one warning, and the program goes on.
 */
#ifndef POPCORN_SIBLING_H
#define POPCORN_SIBLING_H

#include "popcorn.h"
#include "popcorn_metadata.h"

#define POPCORN_PATH_BYTES 4096

/* What the probe of an emulated destination writes back (restore.c), then its link identity. */
#define POPCORN_PROBE_REPLY "POPCORN-PROBE-1\n"
#define POPCORN_PROBE_REPLY_BYTES 16

struct popcorn_sibling {
    char path[POPCORN_PATH_BYTES]; /* the name it was found under (argv[0] of the destination) */
    int fd;                        /* open on the verified file, close-on-exec; -1 when not found */
    unsigned char identity[POPCORN_LINK_IDENTITY_DIGEST];
};

/*
 * Reads the link identity of the ELF file open at `fd`.  Returns NULL, or why there is none
 * ("truncated", "has no link identity", …).  Checks that the headers and every loaded segment
 * fit in the file and, when `machine` is non-zero, that it is an executable for that machine.
 */
const char *popcorn_read_link_identity(int fd, int machine, unsigned char identity[POPCORN_LINK_IDENTITY_DIGEST]);

/*
 * Finds the binary for `dst` by the documented rule and verifies it: same link identity as this
 * binary, a complete ELF executable for `dst`, a regular file that the effective user may execute,
 * owned by root or by this binary's owner, and not writable by others.  Returns NULL with `out`
 * filled, or the reason it may not be run (then `out->path` names the file concerned).
 */
const char *popcorn_find_sibling(enum popcorn_isa dst, struct popcorn_sibling *out);

/*
 * Finds qemu-aarch64 (POPCORN_QEMU_AARCH64, else PATH; in a secure-execution process only the
 * fixed trusted locations).  Returns NULL with `path` filled, or the reason.
 */
const char *popcorn_find_emulator(char path[POPCORN_PATH_BYTES]);

/*
 * Runs `sibling` under the emulator in probe mode (once per emulator and run: the answer is kept
 * in memory that moves with the process) and checks that it starts and reports this link's
 * identity.  `envp` is the environment the real exec will pass (minus the checkpoint variable,
 * which the probe sets).  Returns NULL or the reason the emulator cannot run it.
 */
const char *popcorn_probe_emulator(const char *emulator, const struct popcorn_sibling *sibling, char **envp);

#endif /* POPCORN_SIBLING_H */
