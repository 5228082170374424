/*
 * Finding and trusting the destination of a move (sibling.h).  A move execs another file with
 * the process's memory; if that file is not the other half of the same link, the memory means
 * something else to it (a stale sibling rebuilt from changed source runs on with wrong data, a
 * foreign one crashes), so the file is identified by content, not by name or ELF machine alone.
 */
#include "sibling.h"

#include "checkpoint_format.h"
#include "settings.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>


/* Section headers read to find the identity; a static executable has a few dozen. */
#define MAX_SECTIONS 4096
/* How long a probe may take: qemu-user starts in well under a second. */
#define PROBE_TIMEOUT_MS 20000

static int machine_of(enum popcorn_isa isa) { return isa == POPCORN_ISA_X86_64 ? EM_X86_64 : EM_AARCH64; }

static int read_at(int fd, void *buffer, size_t size, uint64_t offset)
{
    size_t got = 0;
    while (got < size) {
        ssize_t n = pread(fd, (char *)buffer + got, size - got, (off_t)(offset + got));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        got += (size_t)n;
    }
    return 0;
}

static int fits(uint64_t offset, uint64_t length, uint64_t size) { return offset <= size && length <= size - offset; }

const char *popcorn_read_link_identity(int fd, int machine, unsigned char identity[POPCORN_LINK_IDENTITY_DIGEST])
{
    struct stat st;
    Elf64_Ehdr eh;
    if (fstat(fd, &st) != 0)
        return "cannot be examined";
    uint64_t size = (uint64_t)st.st_size;
    if (read_at(fd, &eh, sizeof eh, 0) != 0 || memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0)
        return "is not an ELF file";
    if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB ||
        (machine && eh.e_machine != machine) || (eh.e_type != ET_EXEC && eh.e_type != ET_DYN))
        return "is not an executable for that ISA";
    if (eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_shentsize != sizeof(Elf64_Shdr) ||
        !fits(eh.e_phoff, (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr), size) ||
        !fits(eh.e_shoff, (uint64_t)eh.e_shnum * sizeof(Elf64_Shdr), size) || eh.e_shstrndx >= eh.e_shnum ||
        eh.e_shnum > MAX_SECTIONS)
        return "is truncated or damaged (its headers do not fit in the file)";
    for (unsigned i = 0; i < eh.e_phnum; i++) {
        Elf64_Phdr ph;
        if (read_at(fd, &ph, sizeof ph, eh.e_phoff + i * sizeof ph) != 0)
            return "cannot be read";
        if (ph.p_type == PT_LOAD && !fits(ph.p_offset, ph.p_filesz, size))
            return "is truncated (a loaded segment extends past the end of the file)";
    }
    size_t table_bytes = (size_t)eh.e_shnum * sizeof(Elf64_Shdr);
    Elf64_Shdr *sections = malloc(table_bytes ? table_bytes : 1);
    if (!sections)
        return "cannot be examined (out of memory)";
    const char *why = "has no link identity (it was not linked by popcorn-ld)";
    if (read_at(fd, sections, table_bytes, eh.e_shoff) != 0) {
        why = "cannot be read";
        goto out;
    }
    const Elf64_Shdr *names = &sections[eh.e_shstrndx];
    static const char wanted[] = POPCORN_LINK_IDENTITY_SECTION;
    for (unsigned i = 0; i < eh.e_shnum; i++) {
        char name[sizeof wanted];
        if (sections[i].sh_name > names->sh_size || names->sh_size - sections[i].sh_name < sizeof wanted ||
            !fits(names->sh_offset + sections[i].sh_name, sizeof wanted, size) ||
            read_at(fd, name, sizeof name, names->sh_offset + sections[i].sh_name) != 0 ||
            memcmp(name, wanted, sizeof wanted) != 0)
            continue;
        struct popcorn_link_identity record;
        if (sections[i].sh_size != sizeof record || !fits(sections[i].sh_offset, sizeof record, size) ||
            read_at(fd, &record, sizeof record, sections[i].sh_offset) != 0 ||
            memcmp(record.magic, POPCORN_LINK_IDENTITY_MAGIC, sizeof record.magic) != 0 ||
            record.version != POPCORN_LINK_IDENTITY_VERSION || record.digest_size != POPCORN_LINK_IDENTITY_DIGEST) {
            why = "has a damaged link identity";
            goto out;
        }
        memcpy(identity, record.digest, sizeof record.digest);
        why = NULL;
        break;
    }
out:
    free(sections);
    return why;
}

/* Whether the effective user may execute a file of this mode and owner (execve's own rule). */
static int executable_by_us(const struct stat *st)
{
    mode_t x = S_IXUSR | S_IXGRP | S_IXOTH;
    if (!(st->st_mode & x))
        return 0;
    if (geteuid() == 0)
        return 1;
    if (st->st_uid == geteuid())
        return (st->st_mode & S_IXUSR) != 0;
    int in_group = st->st_gid == getegid();
    gid_t groups[256];
    int n = getgroups(256, groups);
    for (int i = 0; i < n && !in_group; i++)
        in_group = groups[i] == st->st_gid;
    return (st->st_mode & (in_group ? S_IXGRP : S_IXOTH)) != 0;
}

/* The ownership rule: the file is root's or the running binary's owner's, and only they can
 * write it (in a secure-execution process, also its directory, so it cannot be swapped). */
static const char *trust(int fd, const char *path, uid_t owner)
{
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
        return "is not a regular file";
    if (st.st_uid != 0 && st.st_uid != owner)
        return "belongs to another user (only root's or this binary's owner's siblings are run)";
    if (st.st_mode & S_IWOTH)
        return "is writable by others";
    if (!executable_by_us(&st))
        return "is not executable";
    if (popcorn_secure_execution()) {
        char directory[POPCORN_PATH_BYTES];
        const char *slash = strrchr(path, '/');
        size_t length = slash ? (size_t)(slash - path) : 0;
        memcpy(directory, slash ? path : ".", slash ? length : 1);
        directory[slash ? (length ? length : 1) : 1] = '\0';
        struct stat dir;
        if (stat(directory, &dir) != 0 || (dir.st_uid != 0 && dir.st_uid != owner) ||
            (dir.st_mode & (S_IWGRP | S_IWOTH)))
            return "is in a directory others can write to (refused in a secure-execution process)";
    }
    return NULL;
}

static void set_path(char *to, const char *base, size_t base_length, const char *suffix)
{
    memcpy(to, base, base_length);
    to[base_length] = '\0';
    if (suffix) {
        to[base_length] = '.';
        memcpy(to + base_length + 1, suffix, strlen(suffix) + 1);
    }
}

const char *popcorn_find_sibling(enum popcorn_isa dst, struct popcorn_sibling *out)
{
    out->fd = -1;
    char self[POPCORN_PATH_BYTES];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 16);
    int self_fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
    if (n <= 0 || self_fd < 0) {
        if (self_fd >= 0)
            close(self_fd);
        strcpy(out->path, "/proc/self/exe");
        return "cannot be opened";
    }
    self[n] = '\0';
    unsigned char own[POPCORN_LINK_IDENTITY_DIGEST];
    struct stat self_stat;
    const char *why = popcorn_read_link_identity(self_fd, 0, own);
    if (!why && fstat(self_fd, &self_stat) != 0)
        why = "cannot be examined";
    if (why || dst == THIS_ISA) {
        /* A same-ISA move runs the file that is running: nothing to choose or to trust. */
        memcpy(out->path, self, (size_t)n + 1);
        if (why) {
            close(self_fd);
            return why;
        }
        out->fd = self_fd;
        memcpy(out->identity, own, sizeof own);
        return NULL;
    }
    close(self_fd);

    /* The rule: popcorn-ld writes `app` for the ISA it ran on and `app.<isa>` for the others, so
     * the sibling of `app.<own isa>` or `app` is `app.<dst>`, else `app` itself. The first
     * candidate from the same link is the sibling; a candidate from another link is passed over
     * (an unrelated `app.x86_64` beside `app`), and named in the warning if nothing matches. */
    size_t base = (size_t)n;
    const char *own_name = popcorn_isa_name(THIS_ISA);
    size_t own_length = strlen(own_name);
    if (base > own_length + 1 && self[base - own_length - 1] == '.' && strcmp(self + base - own_length, own_name) == 0)
        base -= own_length + 1;
    const char *suffixes[2] = {popcorn_isa_name(dst), NULL};
    int candidates = base != (size_t)n ? 2 : 1;
    const char *rejected = NULL;
    char rejected_path[POPCORN_PATH_BYTES];
    for (int c = 0; c < candidates; c++) {
        char path[POPCORN_PATH_BYTES];
        set_path(path, self, base, suffixes[c]);
        int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0) {
            if (errno != ENOENT && !rejected) {
                rejected = errno == EACCES ? "is not readable" : "cannot be opened";
                strcpy(rejected_path, path);
            }
            continue;
        }
        unsigned char identity[POPCORN_LINK_IDENTITY_DIGEST];
        why = popcorn_read_link_identity(fd, machine_of(dst), identity);
        if (!why && memcmp(identity, own, sizeof own) != 0)
            why = "comes from another link (a stale or foreign sibling: link both binaries again)";
        if (!why) {
            strcpy(out->path, path);
            why = trust(fd, path, self_stat.st_uid);
            if (why) {
                close(fd);
                return why;
            }
            out->fd = fd;
            memcpy(out->identity, identity, sizeof identity);
            return NULL;
        }
        close(fd);
        if (!rejected) {
            rejected = why;
            strcpy(rejected_path, path);
        }
    }
    if (rejected) {
        strcpy(out->path, rejected_path);
        return rejected;
    }
    set_path(out->path, self, base, suffixes[0]);
    return "does not exist";
}

/* A trusted emulator: a regular executable file owned by root that only root can change, in a
 * root-owned directory only root can change (checked up to the root directory). */
static int trusted_file(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH)) ||
        !(st.st_mode & S_IXOTH))
        return 0;
    char directory[POPCORN_PATH_BYTES];
    strcpy(directory, path);
    for (char *slash = strrchr(directory, '/'); slash; slash = strrchr(directory, '/')) {
        if (slash == directory)
            slash[1] = '\0';
        else
            *slash = '\0';
        if (stat(directory, &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH)))
            return 0;
        if (slash == directory)
            break;
    }
    return 1;
}

static int runnable_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

const char *popcorn_find_emulator(char path[POPCORN_PATH_BYTES])
{
    static const char *const names[] = {"qemu-aarch64", "qemu-aarch64-static"};
    if (popcorn_secure_execution()) {
        static const char *const trusted[] = {"/usr/bin/qemu-aarch64", "/usr/bin/qemu-aarch64-static"};
        for (int i = 0; i < 2; i++) {
            if (trusted_file(trusted[i])) {
                strcpy(path, trusted[i]);
                return NULL;
            }
        }
        strcpy(path, trusted[0]);
        return "qemu-aarch64 not found in its trusted locations (/usr/bin/qemu-aarch64, "
               "/usr/bin/qemu-aarch64-static; a secure-execution process does not use PATH or POPCORN_QEMU_AARCH64)";
    }
    const char *configured = NULL;
    if (popcorn_setting_path("POPCORN_QEMU_AARCH64", &configured) > 0) {
        if (strlen(configured) >= POPCORN_PATH_BYTES || !runnable_file(configured)) {
            snprintf(path, POPCORN_PATH_BYTES, "%s", configured);
            return "POPCORN_QEMU_AARCH64 does not name an executable file";
        }
        strcpy(path, configured);
        return NULL;
    }
    const char *search = getenv("PATH");
    if (!search || !*search)
        search = "/usr/local/bin:/usr/bin:/bin";
    for (int i = 0; i < 2; i++) {
        for (const char *dir = search; *dir;) {
            const char *end = strchr(dir, ':');
            size_t length = end ? (size_t)(end - dir) : strlen(dir);
            if (length > 0 && length + strlen(names[i]) + 2 < POPCORN_PATH_BYTES) {
                memcpy(path, dir, length);
                path[length] = '/';
                strcpy(path + length + 1, names[i]);
                if (runnable_file(path))
                    return NULL;
            }
            dir += length + (end ? 1 : 0);
        }
    }
    strcpy(path, names[0]);
    return "qemu-aarch64 not found (PATH, POPCORN_QEMU_AARCH64)";
}

/* Probes already passed in this run (carried across moves with the rest of .bss). */
static struct {
    char emulator[POPCORN_PATH_BYTES];
    unsigned char identity[POPCORN_LINK_IDENTITY_DIGEST];
} probed;

const char *popcorn_probe_emulator(const char *emulator, const struct popcorn_sibling *sibling, char **envp)
{
    if (strcmp(probed.emulator, emulator) == 0 && memcmp(probed.identity, sibling->identity, sizeof probed.identity) == 0)
        return NULL;
    int pipe_fds[2];
    if (pipe2(pipe_fds, O_CLOEXEC) != 0)
        return "cannot create a pipe to probe it";
    /* The probe's environment is the real exec's, with the checkpoint variable naming the pipe. */
    size_t count = 0;
    for (char **e = envp; e && *e; e++)
        count++;
    char **probe_env = calloc(count + 2, sizeof *probe_env);
    char variable[64];
    if (!probe_env) {
        close(pipe_fds[0]);
        close(pipe_fds[1]);
        return "out of memory";
    }
    size_t prefix = strlen(POPCORN_CKPT_ENV), k = 0;
    for (size_t i = 0; i < count; i++)
        if (!(strncmp(envp[i], POPCORN_CKPT_ENV, prefix) == 0 && envp[i][prefix] == '='))
            probe_env[k++] = envp[i];
    snprintf(variable, sizeof variable, "%s=%d", POPCORN_CKPT_ENV, pipe_fds[1]);
    probe_env[k++] = variable;
    probe_env[k] = NULL;

    /* Output of a wrong "emulator" must not reach the program's own stdout or stderr. */
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], pipe_fds[1]); /* clears close-on-exec */
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
    char *argv[] = {(char *)emulator, "-0", (char *)sibling->path, (char *)sibling->path, NULL};
    pid_t child;
    int spawned = posix_spawn(&child, emulator, &actions, NULL, argv, probe_env);
    posix_spawn_file_actions_destroy(&actions);
    free(probe_env);
    close(pipe_fds[1]);
    if (spawned != 0) {
        close(pipe_fds[0]);
        return "the emulator cannot be started";
    }
    unsigned char reply[POPCORN_PROBE_REPLY_BYTES + POPCORN_LINK_IDENTITY_DIGEST];
    size_t got = 0;
    int timed_out = 0;
    while (got < sizeof reply) {
        struct pollfd wait_for = {pipe_fds[0], POLLIN, 0};
        int ready = poll(&wait_for, 1, PROBE_TIMEOUT_MS);
        if (ready < 0 && errno == EINTR)
            continue;
        if (ready == 0)
            timed_out = 1;
        if (ready <= 0)
            break;
        ssize_t n = read(pipe_fds[0], reply + got, sizeof reply - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(pipe_fds[0]);
    if (timed_out)
        kill(child, SIGKILL);
    int status = 0;
    while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
    }
    if (timed_out)
        return "the emulator did not start the sibling in time";
    if (got != sizeof reply || memcmp(reply, POPCORN_PROBE_REPLY, POPCORN_PROBE_REPLY_BYTES) != 0)
        return "the emulator does not run the sibling (a probe run did not start it)";
    if (memcmp(reply + POPCORN_PROBE_REPLY_BYTES, sibling->identity, POPCORN_LINK_IDENTITY_DIGEST) != 0)
        return "the emulator runs a different program than the sibling";
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return "the emulator failed after starting the sibling";
    strcpy(probed.emulator, emulator);
    memcpy(probed.identity, sibling->identity, sizeof probed.identity);
    return NULL;
}
