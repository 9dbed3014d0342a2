/*
 * wg_sync.h - exchanging signed changes with peers over CurveZMQ
 *
 * One engine per process owns a ZeroMQ context and drives every session
 * from a single thread: the server side (a ROUTER socket with CURVE and a
 * ZAP handler that admits only keys in the peer list), the client side (a
 * DEALER per outgoing session), and any extra socket the caller asks it to
 * watch (the daemon's control socket). Nothing here prints; events go to
 * the store's log sink and to the audit trail.
 */
#ifndef WG_SYNC_H
#define WG_SYNC_H

#include "wg_store.h"

#define WG_SYNC_DEFAULT_TIMEOUT_MS 30000
#define WG_SYNC_CREDIT 4              /* batches in flight per direction */

typedef struct wg_engine wg_engine;

/* How one session ended. SENT counts changes the peer acknowledged having
 * stored; RECEIVED, changes new to this node that it stored. */
typedef struct wg_sync_result {
    char peer[WG_NAME_MAX + 1];
    int ok;
    long sent, received;
    char error[256];
} wg_sync_result;

/* A new engine over ST (borrowed: it must outlive the engine). Caller owns;
 * release with wg_engine_destroy(). It bounds ST's page cache to
 * WG_SYNC_CACHE_KIB, so a process syncing a backlog of any size stays within
 * 64 MiB resident (the cache would otherwise grow with the tables). */
#define WG_SYNC_CACHE_KIB 24576
wg_rc wg_engine_new(wg_store *st, wg_engine **out, wg_err *err);
void wg_engine_destroy(wg_engine **e);

/* Accept sessions from trusted peers at ENDPOINT. Binds the ZAP handler
 * first, then the ROUTER, then proves the handler refuses an unknown key;
 * WG_ERR_INTERNAL ("refusing to serve") when that self-check fails, WG_ERR_IO
 * when the endpoint cannot be bound. */
wg_rc wg_engine_listen(wg_engine *e, const char *endpoint, wg_err *err);

/* Start a session with peer NAME (from the store's peer list); it fails if
 * nothing arrives from the peer for TIMEOUT_MS. WG_ERR_NOTFOUND for an
 * unknown peer. */
wg_rc wg_engine_connect(wg_engine *e, const char *name, int timeout_ms,
                        wg_err *err);

/* A session served to a peer that sends nothing for MS milliseconds (a
 * peer that vanished or stalls: ZeroMQ heartbeats cannot tell a live peer
 * that never answers) is ended and audited as timed out. Default
 * WG_SYNC_SERVER_IDLE_MS. */
#define WG_SYNC_SERVER_IDLE_MS 60000
void wg_engine_set_idle_timeout(wg_engine *e, int ms);

/* Number of client sessions still running. */
int wg_engine_busy(const wg_engine *e);

/* Called once per finished client session. */
typedef void (*wg_engine_done_fn)(void *ctx, const wg_sync_result *r);
void wg_engine_on_done(wg_engine *e, wg_engine_done_fn fn, void *ctx);
/* The function wg_engine_on_done() set (NULL: none) and, in *CTX, its
 * context: whoever sets its own for a while chains to it and puts it
 * back. */
wg_engine_done_fn wg_engine_done(const wg_engine *e, void **ctx);

/* Also poll SOCK (a ZeroMQ socket of this engine's context, as wg_ctl_open()
 * makes) or, when SOCK is NULL, the file descriptor FD; FN runs when it is
 * readable. */
typedef void (*wg_engine_watch_fn)(void *ctx);
void wg_engine_watch(wg_engine *e, void *sock, int fd, wg_engine_watch_fn fn,
                     void *ctx);

/* Wait up to TIMEOUT_MS for something to do and do it. */
wg_rc wg_engine_step(wg_engine *e, int timeout_ms, wg_err *err);

/* The peer list changed: sessions of peers no longer trusted are closed. */
void wg_engine_peers_changed(wg_engine *e);

/* The libzmq version this build runs against, as "4.3.4". */
const char *wg_sync_zmq_version(void);

#endif
