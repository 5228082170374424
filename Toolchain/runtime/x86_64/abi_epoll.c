/*
 * struct epoll_event is packed (12 bytes: events, then data at offset 4) on x86_64 only; the
 * program's aarch64 view is 16 bytes with data at offset 8.  EPOLL* values are the same.
 */
#include "abi_shims.h"

#include <stddef.h>
#include <string.h>
#include <sys/epoll.h>

_Static_assert(sizeof(struct epoll_event) == 12, "x86_64 epoll_event is packed");

int __popcorn_abi_epoll_ctl(int epfd, int op, int fd, struct popcorn_a64_epoll_event *event)
{
    if (!event) /* EPOLL_CTL_DEL may pass NULL; let the kernel judge the rest. */
        return epoll_ctl(epfd, op, fd, NULL);
    struct epoll_event native;
    native.events = event->events;
    native.data.u64 = event->data;
    return epoll_ctl(epfd, op, fd, &native);
}

/*
 * Widens n packed events to the aarch64 layout in place.  The program's buffer holds
 * maxevents × 16 bytes, so the kernel's 12-byte records fit in its front; walking from the last
 * record down, each destination (16·i) starts at or after its source (12·i) and after every
 * record not yet moved, so nothing is overwritten before it is read.
 */
void __popcorn_epoll_events_widen(struct popcorn_a64_epoll_event *events, long n)
{
    unsigned char *bytes = (unsigned char *)events;
    for (long i = n - 1; i >= 0; i--) {
        struct epoll_event packed;
        memcpy(&packed, bytes + (size_t)i * sizeof packed, sizeof packed);
        struct popcorn_a64_epoll_event wide = {.events = packed.events, .data = packed.data.u64};
        memcpy(bytes + (size_t)i * sizeof wide, &wide, sizeof wide);
    }
}

int __popcorn_abi_epoll_pwait(int epfd, struct popcorn_a64_epoll_event *events, int maxevents,
                              int timeout, const sigset_t *sigmask)
{
    int n = epoll_pwait(epfd, (struct epoll_event *)(void *)events, maxevents, timeout, sigmask);
    if (n > 0)
        __popcorn_epoll_events_widen(events, n);
    return n;
}

int __popcorn_abi_epoll_wait(int epfd, struct popcorn_a64_epoll_event *events, int maxevents,
                             int timeout)
{
    return __popcorn_abi_epoll_pwait(epfd, events, maxevents, timeout, NULL);
}
