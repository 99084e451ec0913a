#ifndef BUILDCHAIN_CLIBPQ_SHIM_H
#define BUILDCHAIN_CLIBPQ_SHIM_H

#include <libpq-fe.h>
#include <poll.h>
#include <errno.h>

/// Waits up to `timeout_ms` for `fd` to become readable.
/// Returns 1 when readable (or hung up), 0 on timeout or EINTR, -1 on error.
static inline int clibpq_wait_readable(int fd, int timeout_ms) {
    struct pollfd pfd = { .fd = fd, .events = POLLIN, .revents = 0 };
    int n = poll(&pfd, 1, timeout_ms);
    if (n < 0) return errno == EINTR ? 0 : -1;
    return n > 0 ? 1 : 0;
}

#endif
