/*
 * ctl.c - the control socket: a command line carried to the daemon
 *
 * Server: a ROUTER on ipc://PATH in the engine's context, polled by the
 * engine's loop; its ZAP domain makes libzmq ask the engine's handler
 * about every connection, and the handler admits only the socket owner's
 * uid (engine.c, handle_zap). Client: a DEALER in a context of its own,
 * used once. See wg_ctl.h for the trust rules and the frames.
 */
#include "sync_int.h"
#include "wg_ctl.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#define CTL_MAGIC "wings-ctl/1"
#define NFRAMES (WG_CTL_MAX_ARGS + 5)   /* routing id, 4 fixed, args */

struct wg_ctl {
    wg_engine *e;
    void *sock;
    char *path;
    unsigned long owner;   /* uid that may send */
    wg_ctl_fn fn;
    void *ctx;
};

/* libzmq gives a Unix peer's address as "...:UID:GID:PID" (SO_PEERCRED). */
int wg_ctl__peer_uid(const char *a, size_t n, unsigned long *uid)
{
    size_t end = n;
    unsigned long v[3] = { 0, 0, 0 };
    for (int k = 0; k < 3; k++) {   /* pid, gid, uid from the right */
        size_t start = end;
        while (start > 0 && a[start - 1] >= '0' && a[start - 1] <= '9')
            start--;
        if (start == end || end - start > 10 || start == 0 ||
            a[start - 1] != ':')
            return 0;
        for (size_t i = start; i < end; i++)
            v[k] = v[k] * 10 + (unsigned long)(a[i] - '0');
        end = start - 1;
    }
    *uid = v[2];
    return 1;
}

/* ---- server ----------------------------------------------------------------- */

static void reply(wg_ctl *c, zmq_msg_t *rid, int code, const char *out,
                  size_t outlen, const char *errb, size_t errlen)
{
    char num[16];
    snprintf(num, sizeof num, "%d", code);
    zmq_send(c->sock, zmq_msg_data(rid), zmq_msg_size(rid),
             ZMQ_SNDMORE | ZMQ_DONTWAIT);
    zmq_send(c->sock, num, strlen(num), ZMQ_SNDMORE | ZMQ_DONTWAIT);
    zmq_send(c->sock, out, outlen, ZMQ_SNDMORE | ZMQ_DONTWAIT);
    zmq_send(c->sock, errb, errlen, ZMQ_DONTWAIT);
}

/* The uid on a received frame, as its connection's credentials say. */
static int frame_uid_ok(const wg_ctl *c, zmq_msg_t *m)
{
    const char *pa = zmq_msg_gets(m, "Peer-Address");
    unsigned long uid;
    return pa && wg_ctl__peer_uid(pa, strlen(pa), &uid) && uid == c->owner;
}

static void serve_one(wg_ctl *c, zmq_msg_t *f, int nf, size_t total)
{
    /* f[0] routing id, f[1] magic, f[2] cwd, f[3] json, f[4] dir, args */
    char *args[WG_CTL_MAX_ARGS + 1];
    wg_ctl_request rq = { 0 };
    int ok = nf >= 6 && nf <= NFRAMES && total <= WG_CTL_MAX_REQUEST &&
             zmq_msg_size(&f[1]) == strlen(CTL_MAGIC) &&
             !memcmp(zmq_msg_data(&f[1]), CTL_MAGIC, strlen(CTL_MAGIC)) &&
             zmq_msg_size(&f[3]) >= 1;
    char *cwd = NULL, *dir = NULL;
    if (ok) {
        cwd = strndup(zmq_msg_data(&f[2]), zmq_msg_size(&f[2]));
        dir = strndup(zmq_msg_data(&f[4]), zmq_msg_size(&f[4]));
        for (int i = 5; i < nf; i++)
            args[rq.argc++] = strndup(zmq_msg_data(&f[i]),
                                      zmq_msg_size(&f[i]));
        args[rq.argc] = NULL;
        if (!cwd || !dir)
            abort(); /* out of memory */
        for (int i = 0; i < rq.argc; i++)
            if (!args[i])
                abort();
        rq.cwd = cwd;
        rq.dir = dir;
        size_t fl = zmq_msg_size(&f[3]);
        rq.json = fl > 0 && *(const char *)zmq_msg_data(&f[3]) == '1';
        /* An older client sends the json flag alone: no language. */
        if (fl > 1 && fl - 1 < sizeof rq.lang)
            memcpy(rq.lang, (const char *)zmq_msg_data(&f[3]) + 1, fl - 1);
        rq.argv = args;
    }
    char *outbuf = NULL, *errbuf = NULL;
    size_t outlen = 0, errlen = 0;
    FILE *out = open_memstream(&outbuf, &outlen);
    FILE *errf = open_memstream(&errbuf, &errlen);
    if (!out || !errf)
        abort(); /* out of memory */
    int code = c->fn(c->ctx, ok ? &rq : NULL, out, errf);
    fclose(out);
    fclose(errf);
    reply(c, &f[0], code, outbuf, outlen, errbuf, errlen);
    free(outbuf);
    free(errbuf);
    free(cwd);
    free(dir);
    for (int i = 0; i < rq.argc; i++)
        free(args[i]);
}

static void serve_requests(void *p)
{
    wg_ctl *c = p;
    for (;;) {
        zmq_msg_t f[NFRAMES];
        int nf = 0, more = 1, trusted = 1;
        size_t total = 0;
        zmq_msg_init(&f[0]);
        if (zmq_msg_recv(&f[0], c->sock, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&f[0]);
            return;
        }
        more = zmq_msg_more(&f[0]);
        nf = 1;
        while (more) {
            zmq_msg_t junk;
            zmq_msg_t *m = nf < NFRAMES ? &f[nf] : &junk;
            zmq_msg_init(m);
            if (zmq_msg_recv(m, c->sock, 0) < 0) {
                zmq_msg_close(m);
                break;
            }
            total += zmq_msg_size(m);
            more = zmq_msg_more(m);
            trusted = trusted && frame_uid_ok(c, m);
            if (m == &junk) {
                zmq_msg_close(m);
                nf = NFRAMES + 1;   /* too many frames: malformed */
            } else {
                nf++;
            }
        }
        int kept = nf > NFRAMES ? NFRAMES : nf;
        /* The handler refuses other users' connections; a request whose
         * frames say otherwise is dropped unanswered all the same. */
        if (trusted && nf > 1)
            serve_one(c, f, nf, total);
        for (int i = 0; i < kept; i++)
            zmq_msg_close(&f[i]);
    }
}

wg_rc wg_ctl_open(wg_engine *e, const char *path, wg_ctl_fn fn, void *ctx,
                  wg_ctl **out, wg_err *err)
{
    wg_rc rc = wg_engine__zap_bind(e, err);
    if (rc)
        return rc;
    wg_ctl *c = wg_xcalloc(1, sizeof *c);
    c->e = e;
    c->fn = fn;
    c->ctx = ctx;
    c->path = wg_xstrdup(path);
    size_t n = strlen(path) + 7;
    char *endpoint = wg_xmalloc(n);
    snprintf(endpoint, n, "ipc://%s", path);
    unlink(path); /* a stale socket of a daemon that died */
    c->sock = zmq_socket(wg_engine__zmq(e), ZMQ_ROUTER);
    int linger = 0;
    int64_t max = WG_CTL_MAX_REQUEST + 4096;
    zmq_setsockopt(c->sock, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(c->sock, ZMQ_MAXMSGSIZE, &max, sizeof max);
    zmq_setsockopt(c->sock, ZMQ_ZAP_DOMAIN, WG_CTL_ZAP_DOMAIN,
                   strlen(WG_CTL_ZAP_DOMAIN));
    /* Created under the caller's umask (077 in wings), then made 0600
     * before anything is served: only its owner may connect. */
    struct stat sb;
    if (zmq_bind(c->sock, endpoint) != 0) {
        int er = errno;
        rc = wg_err_set(err, WG_ERR_IO, "cannot bind the control socket "
                        "'%s': %s", endpoint, zmq_strerror(er));
    } else if (chmod(path, 0600) != 0 || lstat(path, &sb) != 0) {
        rc = wg_err_set(err, WG_ERR_IO, "cannot secure the control socket "
                        "'%s': %s", path, strerror(errno));
        unlink(path);
    }
    free(endpoint);
    if (rc) {
        zmq_close(c->sock);
        free(c->path);
        free(c);
        return rc;
    }
    c->owner = (unsigned long)sb.st_uid;
    wg_engine__ctl_admit(e, c->owner);
    wg_engine_watch(e, c->sock, 0, serve_requests, c);
    *out = c;
    return WG_OK;
}

void wg_ctl_close(wg_ctl **cp)
{
    if (!cp || !*cp)
        return;
    wg_ctl *c = *cp;
    wg_engine__unwatch(c->e, c->sock);
    zmq_close(c->sock);
    unlink(c->path);
    free(c->path);
    free(c);
    *cp = NULL;
}

/* ---- client ----------------------------------------------------------------- */

wg_rc wg_ctl_check(const char *path, wg_err *err)
{
    struct stat sb, db;
    if (lstat(path, &sb) != 0 || !S_ISSOCK(sb.st_mode))
        return wg_err_set(err, WG_ERR_NOTFOUND, "no control socket at '%s'",
                          path);
    uid_t me = geteuid();
    if (sb.st_uid != me)
        return wg_err_set(err, WG_ERR_AUTH, "the control socket '%s' belongs "
                          "to uid %lu, not to you (uid %lu): nothing was sent "
                          "to it", path, (unsigned long)sb.st_uid,
                          (unsigned long)me);
    if (sb.st_mode & (S_IWGRP | S_IWOTH))
        return wg_err_set(err, WG_ERR_AUTH, "the control socket '%s' is "
                          "writable by others (mode %03o): nothing was sent "
                          "to it", path, (unsigned)(sb.st_mode & 0777));
    char *copy = wg_xstrdup(path);
    int dok = stat(dirname(copy), &db) == 0;
    free(copy);
    if (!dok)
        return wg_err_set(err, WG_ERR_NOTFOUND, "no control socket at '%s'",
                          path);
    if ((db.st_uid != me && db.st_uid != 0) ||
        ((db.st_mode & (S_IWGRP | S_IWOTH)) && !(db.st_mode & S_ISVTX)))
        return wg_err_set(err, WG_ERR_AUTH, "the folder of the control socket "
                          "'%s' can be written by another user (owner uid "
                          "%lu, mode %03o): nothing was sent to it", path,
                          (unsigned long)db.st_uid,
                          (unsigned)(db.st_mode & 0777));
    return WG_OK;
}

void wg_ctl_reply_release(wg_ctl_reply *r)
{
    free(r->out);
    free(r->errb);
    memset(r, 0, sizeof *r);
}

static char *copy_frame(zmq_msg_t *m, size_t *n)
{
    *n = zmq_msg_size(m);
    char *p = wg_xmalloc(*n + 1);
    memcpy(p, zmq_msg_data(m), *n);
    p[*n] = 0;
    return p;
}

wg_rc wg_ctl_call(const char *path, const wg_ctl_request *rq,
                  wg_ctl_alive_fn alive, void *alive_ctx, wg_ctl_reply *rep,
                  wg_err *err)
{
    memset(rep, 0, sizeof *rep);
    size_t total = strlen(CTL_MAGIC) + strlen(rq->cwd) + 1 + strlen(rq->dir);
    for (int i = 0; i < rq->argc; i++)
        total += strlen(rq->argv[i]);
    if (rq->argc < 1 || rq->argc > WG_CTL_MAX_ARGS ||
        total > WG_CTL_MAX_REQUEST)
        return wg_err_set(err, WG_ERR_INVALID, "a command of %d arguments "
                          "and %zu bytes is too large to send to the daemon "
                          "(limits %d and %d)", rq->argc, total,
                          WG_CTL_MAX_ARGS, WG_CTL_MAX_REQUEST);
    wg_rc rc = wg_ctl_check(path, err);
    if (rc)
        return rc;
    size_t n = strlen(path) + 7;
    char *endpoint = wg_xmalloc(n);
    snprintf(endpoint, n, "ipc://%s", path);
    void *ctx = zmq_ctx_new();
    if (!ctx) {
        free(endpoint);
        return wg_err_set(err, WG_ERR_INTERNAL, "cannot start ZeroMQ");
    }
    void *s = zmq_socket(ctx, ZMQ_DEALER);
    int linger = 0;
    int64_t max = WG_CTL_MAX_REPLY;
    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(s, ZMQ_MAXMSGSIZE, &max, sizeof max);
    if (zmq_connect(s, endpoint) != 0) {
        rc = wg_err_set(err, WG_ERR_NOTFOUND, "cannot connect to '%s': %s",
                        endpoint, zmq_strerror(errno));
        goto out;
    }
    zmq_send(s, CTL_MAGIC, strlen(CTL_MAGIC), ZMQ_SNDMORE);
    zmq_send(s, rq->cwd, strlen(rq->cwd), ZMQ_SNDMORE);
    char flags[sizeof rq->lang + 2];
    int fl = snprintf(flags, sizeof flags, "%c%.7s", rq->json ? '1' : '0',
                      rq->lang);
    zmq_send(s, flags, (size_t)fl, ZMQ_SNDMORE);
    zmq_send(s, rq->dir, strlen(rq->dir), ZMQ_SNDMORE);
    for (int i = 0; i < rq->argc; i++)
        zmq_send(s, rq->argv[i], strlen(rq->argv[i]),
                 i + 1 < rq->argc ? ZMQ_SNDMORE : 0);
    int got = 0;
    for (;;) {
        zmq_pollitem_t it = { s, 0, ZMQ_POLLIN, 0 };
        int r = zmq_poll(&it, 1, 250);
        if (r > 0) {
            got = 1;
            break;
        }
        if (r < 0 && errno != EINTR)
            break;
        if (alive && !alive(alive_ctx))
            break;
    }
    if (!got) {
        rc = wg_err_set(err, WG_ERR_PEER, "the daemon stopped before "
                        "answering");
        goto out;
    }
    zmq_msg_t m[3];
    int nm = 0, more = 1;
    while (more && nm < 3) {
        zmq_msg_init(&m[nm]);
        if (zmq_msg_recv(&m[nm], s, 0) < 0) {
            zmq_msg_close(&m[nm]);
            break;
        }
        more = zmq_msg_more(&m[nm]);
        nm++;
    }
    char num[16] = "";
    int good = 0;
    if (nm == 3 && !more && zmq_msg_size(&m[0]) > 0 &&
        zmq_msg_size(&m[0]) < sizeof num) {
        memcpy(num, zmq_msg_data(&m[0]), zmq_msg_size(&m[0]));
        char *end;
        long code = strtol(num, &end, 10);
        if (!*end && code >= 0 && code <= 255) {
            good = 1;
            rep->code = (int)code;
            rep->out = copy_frame(&m[1], &rep->outlen);
            rep->errb = copy_frame(&m[2], &rep->errlen);
        }
    }
    if (!good)
        rc = wg_err_set(err, WG_ERR_PROTO, "malformed answer from the "
                        "daemon");
    for (int i = 0; i < nm; i++)
        zmq_msg_close(&m[i]);
out:
    free(endpoint);
    zmq_close(s);
    zmq_ctx_term(ctx);
    return rc;
}
