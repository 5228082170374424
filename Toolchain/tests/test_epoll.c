/* epoll: the program's 16-byte events in, 16-byte events out, over a real pipe. */
#include "check.h"

#include "abi_shims.h"

#include <stddef.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

void test_epoll(void)
{
    /* aarch64 layout: data at offset 8. */
    CHECK_EQ(offsetof(struct popcorn_a64_epoll_event, data), 8);

    int ep = epoll_create1(EPOLL_CLOEXEC);
    CHECK(ep >= 0);
    int p1[2], p2[2];
    CHECK_EQ(pipe(p1), 0);
    CHECK_EQ(pipe(p2), 0);
    struct popcorn_a64_epoll_event ev = {.events = EPOLLIN, .data = 0x1122334455667788ull};
    CHECK_EQ(__popcorn_abi_epoll_ctl(ep, EPOLL_CTL_ADD, p1[0], &ev), 0);
    ev.data = 0x99aabbccddeeff00ull;
    CHECK_EQ(__popcorn_abi_epoll_ctl(ep, EPOLL_CTL_ADD, p2[0], &ev), 0);

    struct popcorn_a64_epoll_event out[4];
    memset(out, 0xee, sizeof out);
    CHECK_EQ(__popcorn_abi_epoll_wait(ep, out, 4, 0), 0);
    CHECK_EQ(write(p1[1], "x", 1), 1);
    CHECK_EQ(write(p2[1], "y", 1), 1);
    CHECK_EQ(__popcorn_abi_epoll_wait(ep, out, 4, 1000), 2);
    int seen1 = 0, seen2 = 0;
    for (int i = 0; i < 2; i++) {
        CHECK_EQ(out[i].events, EPOLLIN);
        seen1 += out[i].data == 0x1122334455667788ull;
        seen2 += out[i].data == 0x99aabbccddeeff00ull;
    }
    CHECK(seen1 == 1 && seen2 == 1);
    /* Entries past the returned count are untouched. */
    CHECK_EQ(out[3].events, 0xeeeeeeeeu);

    /* MOD through the shim, then epoll_pwait. */
    ev.events = EPOLLIN | EPOLLOUT;
    ev.data = 42;
    CHECK_EQ(__popcorn_abi_epoll_ctl(ep, EPOLL_CTL_MOD, p1[0], &ev), 0);
    CHECK_EQ(__popcorn_abi_epoll_ctl(ep, EPOLL_CTL_DEL, p2[0], NULL), 0);
    CHECK_EQ(__popcorn_abi_epoll_pwait(ep, out, 1, 1000, NULL), 1);
    CHECK_EQ(out[0].events, EPOLLIN);
    CHECK_EQ(out[0].data, 42);

    close(p1[0]);
    close(p1[1]);
    close(p2[0]);
    close(p2[1]);
    close(ep);
}
