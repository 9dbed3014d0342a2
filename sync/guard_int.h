/*
 * guard_int.h - the connection guard of a serving engine (guard.c)
 *
 * Counts the ROUTER's connections from its monitor events and keeps them
 * under a budget taken from RLIMIT_NOFILE, so unauthenticated traffic can
 * never exhaust the process's file descriptors.
 */
#ifndef WG_GUARD_INT_H
#define WG_GUARD_INT_H

#include <stdint.h>

#include "wg_err.h"

#define WG_GUARD_HANDSHAKE_MS 5000     /* ZMQ_HANDSHAKE_IVL of the ROUTER */
#define WG_GUARD_MAX_HANDSHAKING 64    /* connections not yet shown honest */
#define WG_GUARD_RESERVE 320           /* fds never given to connections */
#define WG_GUARD_MIN_NOFILE 512

typedef struct wg_guard_slot {
    int64_t since;
    uint8_t open, established, shed;
} wg_guard_slot;

typedef struct wg_guard {
    long nofile;              /* RLIMIT_NOFILE in force */
    long budget;              /* connections at most */
    long gate_hi, gate_lo;    /* filter on at hi, off below lo */
    long open, pending;
    long accepted, accept_failed, shed, gate_closings;
    int closed;               /* the drop filter is on */
    int listen_fd, listen_port;
    int64_t swept;
    wg_guard_slot *slots;     /* by fd */
    int nslots;
} wg_guard;

/* Read (and raise to the hard limit) RLIMIT_NOFILE and size the budget.
 * WG_ERR_INVALID when the limit is below WG_GUARD_MIN_NOFILE. Release with
 * wg_guard_release(). */
wg_rc wg_guard_init(wg_guard *g, wg_err *err);
void wg_guard_release(wg_guard *g);

/* One ROUTER monitor event. Returns the fd of a connection that just went
 * away (its session should end), else -1. */
int wg_guard_event(wg_guard *g, uint16_t event, int32_t value, int64_t now);

/* The connection on FD carried an authenticated message. */
void wg_guard_established(wg_guard *g, int fd);

/* At most once a second: shut connections stuck in their handshake. */
void wg_guard_sweep(wg_guard *g, int64_t now);

#endif
