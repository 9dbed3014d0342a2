/*
 * cmd_sync.c - `wings sync [PEER...] [--timeout SECONDS]`: one session now
 * with each named peer (default: all), then exit
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "wg_i18n.h"
#include "wg_life.h"
#include "wg_node.h"

#define MAX_RESULTS 256

/* The sessions one `sync` waits for, and the engine's own callback (the
 * daemon's scheduler, when this runs inside it), chained to while we wait
 * and put back after. */
typedef struct sync_run {
    wg_sync_result results[MAX_RESULTS];
    int nresults;
    wg_engine_done_fn prev;
    void *prev_ctx;
} sync_run;

static void on_done(void *ctx, const wg_sync_result *r)
{
    sync_run *run = ctx;
    if (run->nresults < MAX_RESULTS)
        run->results[run->nresults++] = *r;
    if (run->prev)
        run->prev(run->prev_ctx, r);
}

static const wg_sync_result *result_for(const sync_run *run, const char *peer)
{
    for (int i = run->nresults - 1; i >= 0; i--)
        if (!strcmp(run->results[i].peer, peer))
            return &run->results[i];
    return NULL;
}

typedef struct names {
    char (*v)[WG_NAME_MAX + 1];
    int n, cap;
} names;

static int on_peer(void *p, const wg_peer *peer)
{
    names *ns = p;
    if (ns->n == ns->cap) {
        ns->cap = ns->cap ? ns->cap * 2 : 16;
        ns->v = wg_xrealloc(ns->v, (size_t)ns->cap * sizeof *ns->v);
    }
    snprintf(ns->v[ns->n++], WG_NAME_MAX + 1, "%s", peer->name);
    return 0;
}

int cmd_sync(wg_cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {
        { "timeout", required_argument, NULL, 't' },
        { 0, 0, 0, 0 } };
    int help = 0, c;
    long timeout_s = WG_SYNC_DEFAULT_TIMEOUT_MS / 1000;
    while ((c = wg_cli_getopt(cli, argc, argv, "", opts, &help)) != -1) {
        switch (c) {
        case 't': {
            char *end;
            timeout_s = strtol(optarg, &end, 10);
            if (*end || timeout_s < 1 || timeout_s > 86400)
                return wg_cli_usage(cli, "sync", "--timeout takes 1 to 86400 "
                                    "seconds, not '%s'", optarg);
            break;
        }
        case 'h': return wg_cli_help(cli, "sync", cli->out);
        default: return WG_EXIT_USAGE;
        }
    }
    wg_store *st = NULL;
    int code = wg_cli_open_store(cli, &st);
    if (code)
        return code;
    wg_err err = { 0 };
    names ns = { 0 };
    if (optind < argc) {
        for (int i = optind; i < argc; i++) {
            wg_peer p;
            if (wg_store_peer_get(st, argv[i], &p, &err) != WG_OK) {
                code = wg_cli_fail(cli, &err);
                free(ns.v);
                wg_cli_close_store(cli, &st);
                return code;
            }
            on_peer(&ns, &p);
        }
    } else if (wg_store_peers(st, on_peer, &ns, &err) != WG_OK) {
        code = wg_cli_fail(cli, &err);
        wg_cli_close_store(cli, &st);
        return code;
    }
    if (ns.n == 0) {
        /* Nothing to do is not success: the records went nowhere. */
        if (cli->json)
            fputs("[]\n", cli->out);
        code = wg_cli_failf(cli, WG_EXIT_SYNC, "no peers to sync with: add "
                            "one with 'wings peer add NAME KEY ENDPOINT'");
        wg_cli_close_store(cli, &st);
        return code;
    }
    wg_engine *e = cli->engine;
    if (!e && wg_engine_new(st, &e, &err) != WG_OK) {
        code = wg_cli_fail(cli, &err);
        free(ns.v);
        wg_cli_close_store(cli, &st);
        return code;
    }
    uint64_t forks = wg_store_forks(st);
    sync_run *run = wg_xcalloc(1, sizeof *run);
    run->prev = wg_engine_done(e, &run->prev_ctx);
    wg_engine_on_done(e, on_done, run);
    for (int i = 0; i < ns.n; i++)
        if (wg_engine_connect(e, ns.v[i], (int)timeout_s * 1000, &err) !=
            WG_OK) {
            wg_sync_result r = { 0 };
            snprintf(r.peer, sizeof r.peer, "%s", ns.v[i]);
            snprintf(r.error, sizeof r.error, "%s", err.msg);
            if (run->nresults < MAX_RESULTS)
                run->results[run->nresults++] = r;
        }
    /* Wait for every session we started (inside the daemon other sessions
     * may run too: wait for our peers' results). */
    for (;;) {
        int pending = 0;
        for (int i = 0; i < ns.n; i++)
            pending += result_for(run, ns.v[i]) == NULL;
        if (!pending)
            break;
        if (wg_engine_step(e, 200, &err) != WG_OK) {
            code = wg_cli_fail(cli, &err);
            break;
        }
    }
    int failed = 0;
    if (cli->json)
        fputs("[", cli->out);
    for (int i = 0; i < ns.n; i++) {
        const wg_sync_result *r = result_for(run, ns.v[i]);
        if (!r)
            continue;
        failed |= !r->ok;
        if (cli->json) {
            fputs(i ? ",{\"peer\":" : "{\"peer\":", cli->out);
            wg_json_str(cli->out, r->peer);
            fprintf(cli->out, ",\"ok\":%s,\"sent\":%ld,\"received\":%ld,"
                    "\"error\":", r->ok ? "true" : "false", r->sent,
                    r->received);
            if (r->ok)
                fputs("null}", cli->out);
            else {
                wg_json_str(cli->out, r->error);
                fputc('}', cli->out);
            }
        } else if (r->ok) {
            fprintf(cli->out, "%s ok sent=%ld received=%ld\n", r->peer,
                    r->sent, r->received);
        } else {
            fprintf(cli->out, "%s failed: %s\n", r->peer, r->error);
        }
    }
    if (cli->json)
        fputs("]\n", cli->out);
    if (wg_store_forks(st) > forks)
        fputs(_("wings: note: this node's own changes came back from a peer "
                "different from what it held (an old copy of its folder put "
                "back?): its feed was repaired from the peer; what was "
                "written here since is kept, held until every peer has "
                "synced with it, then sent (see 'wings status' and 'wings "
                "audit')\n"), cli->errf);
    if (!code && failed)
        code = WG_EXIT_SYNC;
    wg_engine_on_done(e, run->prev, run->prev_ctx);
    free(run);
    if (!cli->engine)
        wg_engine_destroy(&e);
    free(ns.v);
    wg_cli_close_store(cli, &st);
    return code;
}
