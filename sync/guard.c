/*
 * guard.c - what unauthenticated traffic may cost a serving node
 *
 * libzmq accepts every TCP connection its listener sees, and aborts the
 * process when an ipc accept (the daemon's control socket) or a new socket
 * meets EMFILE. The guard keeps the daemon short of that limit from the
 * outside, watching the ROUTER's monitor:
 *
 *   ACCEPTED fd   --> open++, pending++ (handshake not yet shown done)
 *                     over the connection budget: shutdown(fd) (libzmq
 *                     then closes it itself); over the handshake cap: the
 *                     OLDEST pending one is shut, so a flood of silent
 *                     connections cannot keep an honest peer out
 *   first message --> established (pending--): wg_guard_established()
 *   DISCONNECTED  --> open--, the session on that fd is ended at once
 *   every second  --> a connection pending past WG_GUARD_HANDSHAKE_MS + 2 s
 *                     is shut down (libzmq's ZMQ_HANDSHAKE_IVL should have)
 *
 * and, while the node is near its budget, a drop-everything socket filter on
 * the listening socket makes the kernel ignore new SYNs, so libzmq's io
 * thread stops accepting until connections drain (handshake timeout), then
 * the filter is lifted. The budget comes from RLIMIT_NOFILE at start
 * (raised to the hard limit when allowed): everything but WG_GUARD_RESERVE
 * descriptors kept for the store, the control socket, clients and libzmq.
 *
 * shutdown() never closes a descriptor libzmq owns, so a stale number (one
 * closed and reused since the event) costs at most one other inbound
 * connection to this listener: the guard checks it is one before acting.
 */
#include "guard_int.h"

#include <errno.h>
#include <linux/filter.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <zmq.h>

#define SLOTS_MAX (1 << 20)

wg_rc wg_guard_init(wg_guard *g, wg_err *err)
{
    memset(g, 0, sizeof *g);
    g->listen_fd = -1;
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return wg_err_set(err, WG_ERR_INTERNAL, "cannot read the open-file "
                          "limit");
    rlim_t want = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > SLOTS_MAX
                      ? SLOTS_MAX : rl.rlim_max;
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want) {
        rlim_t old = rl.rlim_cur;
        rl.rlim_cur = want;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
            rl.rlim_cur = old;
    }
    long soft = rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > SLOTS_MAX
                    ? SLOTS_MAX : (long)rl.rlim_cur;
    if (soft < WG_GUARD_MIN_NOFILE)
        return wg_err_set(err, WG_ERR_INVALID, "the open-file limit (%ld) is "
                          "too low to serve safely: raise it to at least %d "
                          "(ulimit -n, or LimitNOFILE= in the unit)", soft,
                          WG_GUARD_MIN_NOFILE);
    g->nofile = soft;
    g->budget = soft - WG_GUARD_RESERVE;
    /* Close the door at half the budget: the rest absorbs what the io
     * thread accepts before the monitor's events are read. */
    g->gate_hi = g->budget / 2;
    g->gate_lo = g->gate_hi * 3 / 4;
    g->nslots = (int)soft;
    g->slots = wg_xcalloc((size_t)g->nslots, sizeof *g->slots);
    return WG_OK;
}

void wg_guard_release(wg_guard *g)
{
    free(g->slots);
    g->slots = NULL;
}

/* Is FD an accepted connection to our listener (not the listener itself,
 * not an outbound socket, not a file)? */
static int ours(const wg_guard *g, int fd)
{
    int acc = 0;
    socklen_t l = sizeof acc;
    struct sockaddr_storage a;
    socklen_t al = sizeof a;
    if (fd < 0 || fd == g->listen_fd ||
        getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &acc, &l) != 0 || acc ||
        getsockname(fd, (struct sockaddr *)&a, &al) != 0)
        return 0;
    int port = a.ss_family == AF_INET
                   ? ntohs(((struct sockaddr_in *)&a)->sin_port)
               : a.ss_family == AF_INET6
                   ? ntohs(((struct sockaddr_in6 *)&a)->sin6_port)
                   : -1;
    return port == g->listen_port;
}

static void shed(wg_guard *g, int fd)
{
    if (fd >= 0 && fd < g->nslots && g->slots[fd].shed)
        return;
    if (ours(g, fd) && shutdown(fd, SHUT_RDWR) == 0)
        g->shed++;
    if (fd >= 0 && fd < g->nslots && g->slots[fd].open) {
        if (!g->slots[fd].established)
            g->pending--;
        g->slots[fd].shed = 1;
    }
}

/* Shut the connection longest in its handshake. */
static int shed_oldest(wg_guard *g)
{
    int best = -1;
    for (int fd = 0; fd < g->nslots; fd++) {
        wg_guard_slot *s = &g->slots[fd];
        if (s->open && !s->established && !s->shed &&
            (best < 0 || s->since < g->slots[best].since))
            best = fd;
    }
    if (best < 0)
        return 0;
    shed(g, best);
    return 1;
}

static void gate(wg_guard *g)
{
    if (g->listen_fd < 0)
        return;
    int want = g->closed ? g->open >= g->gate_lo : g->open >= g->gate_hi;
    if (want == g->closed)
        return;
    if (want) {
        struct sock_filter drop[] = { BPF_STMT(BPF_RET | BPF_K, 0) };
        struct sock_fprog prog = { 1, drop };
        if (setsockopt(g->listen_fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog,
                       sizeof prog) == 0) {
            g->closed = 1;
            g->gate_closings++;
        }
    } else {
        int dummy = 0;
        setsockopt(g->listen_fd, SOL_SOCKET, SO_DETACH_FILTER, &dummy,
                   sizeof dummy);
        g->closed = 0;
    }
}

int wg_guard_event(wg_guard *g, uint16_t event, int32_t value, int64_t now)
{
    int fd = (int)value;
    switch (event) {
    case ZMQ_EVENT_LISTENING: {
        struct sockaddr_storage a;
        socklen_t al = sizeof a;
        g->listen_fd = fd;
        if (getsockname(fd, (struct sockaddr *)&a, &al) == 0)
            g->listen_port =
                a.ss_family == AF_INET
                    ? ntohs(((struct sockaddr_in *)&a)->sin_port)
                    : ntohs(((struct sockaddr_in6 *)&a)->sin6_port);
        return -1;
    }
    case ZMQ_EVENT_ACCEPTED:
        g->accepted++;
        if (fd < 0 || fd >= g->nslots) {
            shed(g, fd);
            return -1;
        }
        if (!g->slots[fd].open) {
            g->slots[fd] = (wg_guard_slot){ .open = 1, .since = now };
            g->open++;
            g->pending++;
        }
        if (g->open > g->budget)
            shed(g, fd);
        while (g->pending > WG_GUARD_MAX_HANDSHAKING && shed_oldest(g))
            ;
        gate(g);
        return -1;
    case ZMQ_EVENT_ACCEPT_FAILED:
        g->accept_failed++;
        return -1;
    case ZMQ_EVENT_DISCONNECTED:
        if (fd < 0 || fd >= g->nslots || !g->slots[fd].open)
            return -1;
        g->open--;
        if (!g->slots[fd].established && !g->slots[fd].shed)
            g->pending--;
        g->slots[fd].open = 0;
        gate(g);
        return fd;
    default:
        return -1;
    }
}

void wg_guard_established(wg_guard *g, int fd)
{
    if (fd < 0 || fd >= g->nslots || !g->slots[fd].open ||
        g->slots[fd].established || g->slots[fd].shed)
        return;
    g->slots[fd].established = 1;
    g->pending--;
    gate(g);
}

void wg_guard_sweep(wg_guard *g, int64_t now)
{
    if (now - g->swept < 1000)
        return;
    g->swept = now;
    for (int fd = 0; fd < g->nslots && g->pending > 0; fd++) {
        wg_guard_slot *s = &g->slots[fd];
        if (s->open && !s->established && !s->shed &&
            now - s->since > WG_GUARD_HANDSHAKE_MS + 2000)
            shed(g, fd);
    }
    gate(g);
}
