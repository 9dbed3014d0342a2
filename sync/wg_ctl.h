/*
 * wg_ctl.h - the daemon's control socket: one local caller, one command
 *
 * While a daemon serves a node folder it alone holds the store; every other
 * command for that folder is sent to it over a ZeroMQ ipc socket in the
 * folder and carried out there. This is both ends of that channel. Trust is
 * by Unix user on both sides:
 *
 *   - the server binds the socket owner-only (0600) and admits, through the
 *     engine's ZAP handler, only connections whose peer credentials
 *     (SO_PEERCRED) carry the socket owner's uid; every request is checked
 *     again by the uid on its frames;
 *   - the client sends nothing unless the socket file is a socket owned by
 *     the caller's uid and writable by no one else, in a folder owned by the
 *     caller (or root) that others cannot write to (or that is sticky): a
 *     socket planted by another user never receives a clerk's command.
 *
 * Request frames: "wings-ctl/1", cwd, "0"|"1" (json) then the caller's
 * language ("1zh_CN"), dir, argv[0..n).
 * Reply frames: exit code (decimal), stdout bytes, stderr bytes.
 */
#ifndef WG_CTL_H
#define WG_CTL_H

#include <stdio.h>

#include "wg_sync.h"

#define WG_CTL_MAX_ARGS 64
#define WG_CTL_MAX_REQUEST (1 << 20)    /* bytes of one request */
#define WG_CTL_MAX_REPLY (64 << 20)     /* bytes of one reply */

typedef struct wg_ctl wg_ctl;

/* One forwarded command line. */
typedef struct wg_ctl_request {
    const char *cwd;     /* the caller's working folder */
    const char *dir;     /* the node folder as the caller named it */
    int json;
    char lang[8];        /* the caller's language ("zh_CN"), or "" */
    int argc;
    char **argv;         /* argv[argc] is NULL */
} wg_ctl_request;

/* Carry out RQ, writing its standard output to OUT and its diagnostics to
 * ERRF, and return its exit code. RQ is NULL for a malformed request: say
 * so on ERRF and return the code for it. Runs on the engine's thread. */
typedef int (*wg_ctl_fn)(void *ctx, const wg_ctl_request *rq, FILE *out,
                         FILE *errf);

/* Bind the control socket at PATH (a stale one is removed first) in E's
 * context, owner-only, and serve requests from wg_engine_step() through
 * FN. Caller owns; release with wg_ctl_close() before E is destroyed.
 * WG_ERR_IO when PATH cannot be bound. */
wg_rc wg_ctl_open(wg_engine *e, const char *path, wg_ctl_fn fn, void *ctx,
                  wg_ctl **out, wg_err *err);

/* Close the socket, remove its file, and NULL *C; accepts NULL. */
void wg_ctl_close(wg_ctl **c);

/* May the caller send to the control socket at PATH? WG_OK when it is a
 * socket owned by this process's effective uid, not group- or
 * other-writable, in a folder the same user (or root) owns that no one
 * else can write to (unless sticky). WG_ERR_NOTFOUND when PATH holds no
 * socket; WG_ERR_AUTH, naming the problem, otherwise. */
wg_rc wg_ctl_check(const char *path, wg_err *err);

/* The answer to one request. Release with wg_ctl_reply_release(). */
typedef struct wg_ctl_reply {
    int code;
    char *out, *errb;
    size_t outlen, errlen;
} wg_ctl_reply;

void wg_ctl_reply_release(wg_ctl_reply *r);

/* Still worth waiting for? Called about every 250 ms while no answer has
 * come (the daemon may have died with the request). */
typedef int (*wg_ctl_alive_fn)(void *ctx);

/* Send RQ to the server at PATH after wg_ctl_check() and wait for its
 * answer as long as ALIVE (NULL: forever) says so. Errors as for
 * wg_ctl_check(); WG_ERR_PEER when ALIVE gave up, WG_ERR_PROTO for a
 * malformed answer, WG_ERR_INVALID for a request past the limits. */
wg_rc wg_ctl_call(const char *path, const wg_ctl_request *rq,
                  wg_ctl_alive_fn alive, void *alive_ctx, wg_ctl_reply *rep,
                  wg_err *err);

#endif
