/*
 * cmd_serve.c - `wings serve`: the node daemon
 *
 * Only wiring: open the store, start the engine (listen, control socket,
 * signals), then loop: every interval start a session with each peer that
 * is due, backing off from peers that fail (doubling up to ten minutes).
 * SIGINT/SIGTERM end the loop after the step in hand; the engine then ends
 * open sessions (audited as interrupted) and the store is closed.
 */
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "wg_node.h"

#define MAX_BACKOFF_S 600
#define MAX_PEERS 256

typedef struct sched {
    char name[WG_NAME_MAX + 1];
    int64_t due;        /* monotonic ms */
    int backoff_s;
    int running;
} sched;

/* Everything one `serve` keeps between steps: nothing lives in a file
 * static, so a second serve in the same process (tests, the daemon's
 * refusal of a nested one) starts afresh. */
typedef struct serve_ctx {
    sched peers[MAX_PEERS];
    int npeers;
    long interval_s;
    int stop;
    int sigfd;
    sched next[MAX_PEERS];    /* the schedule being rebuilt */
    int nnext;
} serve_ctx;

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static sched *find(serve_ctx *s, const char *name)
{
    for (int i = 0; i < s->npeers; i++)
        if (!strcmp(s->peers[i].name, name))
            return &s->peers[i];
    return NULL;
}

/* A session ended (one of ours, or one a forwarded `wings sync` started,
 * which chains to this while it waits). */
static void on_done(void *ctx, const wg_sync_result *r)
{
    serve_ctx *s = ctx;
    sched *p = find(s, r->peer);
    if (!p)
        return;
    p->running = 0;
    if (r->ok) {
        p->backoff_s = 0;
        p->due = now_ms() + s->interval_s * 1000;
    } else {
        p->backoff_s = p->backoff_s ? p->backoff_s * 2 : (int)s->interval_s;
        if (p->backoff_s > MAX_BACKOFF_S)
            p->backoff_s = MAX_BACKOFF_S;
        p->due = now_ms() + (int64_t)p->backoff_s * 1000;
    }
}

/* Rebuild the schedule from the peer list, keeping each known peer's. */
static int on_peer(void *ctx, const wg_peer *peer)
{
    serve_ctx *s = ctx;
    if (s->nnext >= MAX_PEERS)
        return 1;
    sched *old = find(s, peer->name);
    sched *n = &s->next[s->nnext++];
    *n = old ? *old : (sched){ .due = now_ms() };
    snprintf(n->name, sizeof n->name, "%s", peer->name);
    return 0;
}

static void on_signal(void *ctx)
{
    serve_ctx *s = ctx;
    struct signalfd_siginfo si;
    if (read(s->sigfd, &si, sizeof si) == sizeof si)
        s->stop = 1;
}

int cmd_serve(wg_cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {
        { "listen", required_argument, NULL, 'l' },
        { "interval", required_argument, NULL, 'i' },
        { "http", required_argument, NULL, 'w' },
        { "http-public", no_argument, NULL, 'P' },
        { 0, 0, 0, 0 } };
    const char *listen = NULL, *http = NULL;
    int http_public = 0;
    long interval_s = 30;
    int help = 0, c;
    while ((c = wg_cli_getopt(cli, argc, argv, "", opts, &help)) != -1) {
        switch (c) {
        case 'l': listen = optarg; break;
        case 'i': {
            char *end;
            interval_s = strtol(optarg, &end, 10);
            if (*end || interval_s < 1 || interval_s > 86400)
                return wg_cli_usage(cli, "serve", "--interval takes 1 to 86400 "
                                    "seconds, not '%s'", optarg);
            break;
        }
        case 'w': http = optarg; break;
        case 'P': http_public = 1; break;
        case 'h': return wg_cli_help(cli, "serve", cli->out);
        default: return WG_EXIT_USAGE;
        }
    }
    if (optind < argc)
        return wg_cli_usage(cli, "serve", "unexpected argument '%s'",
                            argv[optind]);
    if (cli->shared_store)
        return wg_cli_failf(cli, WG_EXIT_USAGE, "'%s' is already served",
                            cli->dir);
    wg_err aerr = { 0 };
    if (http && wg_web_check_addr(http, http_public, &aerr) != WG_OK)
        return wg_cli_usage(cli, "serve", "%s", aerr.msg);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigprocmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    serve_ctx *s = wg_xcalloc(1, sizeof *s);
    s->interval_s = interval_s;
    s->sigfd = signalfd(-1, &set, SFD_CLOEXEC);

    /* The daemon's stderr is the node's journal: one line per session,
     * refusal and error unless $WINGS_LOG says otherwise. */
    wg_log_set_default(WG_LOG_INFO);
    wg_store *st = NULL;
    int code = wg_cli_open_store(cli, &st);
    if (code) {
        if (s->sigfd >= 0)
            close(s->sigfd);
        free(s);
        return code;
    }
    wg_err err = { 0 };
    wg_engine *e = NULL;
    wg_control *ctl = NULL;
    wg_web *web = NULL;
    const wg_node_info *me = wg_store_info(st);
    if (!listen)
        listen = me->endpoint;
    if (wg_engine_new(st, &e, &err) != WG_OK ||
        wg_engine_listen(e, listen, &err) != WG_OK ||
        wg_control_open(e, st, cli->dir, &ctl, &err) != WG_OK ||
        (http && wg_web_open(e, st, http, http_public, &web, &err) != WG_OK)) {
        code = wg_cli_fail(cli, &err);
        goto out;
    }
    wg_control_set_listen(ctl, listen);
    wg_engine_on_done(e, on_done, s);
    if (s->sigfd >= 0)
        wg_engine_watch(e, NULL, s->sigfd, on_signal, s);
    fprintf(cli->out, "serving %s on %s (every %ld s; stop with Ctrl-C)\n",
            me->name, listen, interval_s);
    if (http)
        fprintf(cli->out, "web page on http://%s/\n", http);
    fflush(cli->out);
    while (!s->stop) {
        s->nnext = 0;
        if (wg_store_peers(st, on_peer, s, &err) == WG_OK) {
            memcpy(s->peers, s->next, sizeof(sched) * (size_t)s->nnext);
            s->npeers = s->nnext;
        }
        int64_t t = now_ms(), next = t + 1000;
        for (int i = 0; i < s->npeers; i++) {
            sched *p = &s->peers[i];
            if (!p->running && p->due <= t) {
                p->running = 1;
                if (wg_engine_connect(e, p->name, WG_SYNC_DEFAULT_TIMEOUT_MS,
                                      &err) != WG_OK) {
                    p->running = 0;
                    p->due = t + interval_s * 1000;
                }
            }
            if (!p->running && p->due < next)
                next = p->due;
        }
        if (wg_engine_step(e, (int)(next > t ? next - t : 0), &err) != WG_OK) {
            code = wg_cli_fail(cli, &err);
            break;
        }
        wg_web_tick(web);
    }
    if (s->stop && !cli->json)
        fprintf(cli->out, "stopped\n");
out:
    wg_web_close(&web);
    wg_control_close(&ctl);
    wg_engine_destroy(&e);
    wg_cli_close_store(cli, &st);
    if (s->sigfd >= 0)
        close(s->sigfd);
    free(s);
    return code;
}
