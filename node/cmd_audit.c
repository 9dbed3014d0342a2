/*
 * cmd_audit.c - `wings audit`: the sync history, and `audit --verify`
 *
 * Entries carry the writing node's name and its peer's name as that node
 * knew them; a peer it named only by key (a refused connection) is named
 * here where this node knows the key. Times are shown in the machine's
 * zone (TZ honoured); --json keeps "time" in UTC and adds "time_local"
 * (ISO 8601 with the offset).
 */
#include <getopt.h>
#include <string.h>

#include "wg_crypto.h"
#include "wg_i18n.h"
#include "wg_life.h"
#include "wg_node.h"

typedef struct verify_ctx {
    wg_cli *cli;
    int first;
} verify_ctx;

static void on_problem(void *p, const char *what)
{
    verify_ctx *v = p;
    if (v->cli->json) {
        fputs(v->first ? "" : ",", v->cli->out);
        wg_json_str(v->cli->out, what);
    } else {
        fprintf(v->cli->out, "FAIL %s\n", what);
    }
    v->first = 0;
}

/* Pages first, without SQLite (a damaged page 1 must not hide the rest);
 * then, when the store opens, every feed's chain and signatures. Inside the
 * daemon the store is open already and its key in memory. */
static int verify(wg_cli *cli)
{
    wg_err err = { 0 };
    char *pass = NULL;
    size_t len = 0;
    long pages = 0, bad = 0, changes = 0, badfeeds = 0;
    verify_ctx v = { cli, 1 };
    wg_store *st = cli->shared_store;
    wg_rc rc = WG_OK;
    if (!st)
        rc = wg_passphrase_get(cli, "passphrase: ", 0, &pass, &len, &err);
    if (rc == WG_OK) {
        if (cli->json)
            fputs("{\"problems\":[", cli->out);
        rc = st ? wg_store_verify_open(st, on_problem, &v, &pages, &bad, &err)
                : wg_store_verify_pages(cli->dir, pass, len, on_problem, &v,
                                        &pages, &bad, &err);
    }
    if (rc == WG_OK && bad == 0) {
        if (!st)
            rc = wg_store_open(cli->dir, pass, len, &st, &err);
        if (rc == WG_OK && !cli->shared_store)
            wg_cli_life_notice(cli, st);
        if (rc == WG_OK)
            rc = wg_store_verify_feeds(st, on_problem, &v, &changes,
                                       &badfeeds, &err);
        /* A store that went back in time is not healthy until its peers
         * have given back what they hold (life.c). */
        wg_life_state ls;
        if (rc == WG_OK && (rc = wg_store_life_state(st, &ls, &err)) == WG_OK &&
            ls.held && !strcmp(ls.reason, "rollback")) {
            char what[400];
            snprintf(what, sizeof what, _("store went back in time: %llu "
                     "changes it held (%llu of them its own) are not back "
                     "yet; writes are held until every peer has synced "
                     "(waiting for: %s)"), (unsigned long long)ls.missing,
                     (unsigned long long)ls.missing_own,
                     ls.npeers_waiting ? ls.waiting : "-");
            on_problem(&v, what);
            badfeeds++;
        }
        wg_cli_close_store(cli, &st);
    }
    wg_secret_free(pass);
    if (rc) {
        if (cli->json)
            fputs("]}\n", cli->out);
        return wg_cli_failf(cli, WG_EXIT_STORE, "cannot verify store '%s': %s",
                            cli->dir, err.msg);
    }
    if (cli->json)
        fprintf(cli->out, "],\"pages_checked\":%ld,\"changes_checked\":%ld,"
                "\"ok\":%s}\n", pages, changes,
                bad + badfeeds ? "false" : "true");
    else if (!bad && !badfeeds)
        fprintf(cli->out, "ok: %ld pages and frames authentic, %ld changes "
                "chained and signed\n", pages, changes);
    if (bad)
        return wg_cli_failf(cli, WG_EXIT_STORE,
                            "store '%s' failed verification: %ld of %ld "
                            "pages and frames are altered or corrupt",
                            cli->dir, bad, pages);
    if (badfeeds)
        return wg_cli_failf(cli, WG_EXIT_STORE,
                            "store '%s' failed verification: %ld problems in "
                            "its feeds", cli->dir, badfeeds);
    return WG_EXIT_OK;
}

typedef struct list_ctx {
    wg_cli *cli;
    wg_store *st;
    const char *peer;
    int first;
    wg_tabout *tab;
} list_ctx;

static const char *nz(const char *s)
{
    return s ? s : "";
}

static int on_entry(void *p, const wg_audit_entry *e)
{
    list_ctx *l = p;
    if (l->peer && strcmp(nz(e->peer), l->peer) && strcmp(nz(e->node), l->peer))
        return 0;
    FILE *out = l->cli->out;
    /* A peer named only by its key: its name where this node knows it. */
    char peer_name[WG_NAME_MAX + 1] = "";
    uint8_t pk[WG_SIGN_PK_BYTES];
    if ((!e->peer || !*e->peer) && e->peer_key &&
        strlen(e->peer_key) == WG_KEY_HEX_CHARS &&
        wg_hex_decode(pk, sizeof pk, e->peer_key, NULL) == WG_OK)
        wg_store_node_name(l->st, pk, peer_name, sizeof peer_name);
    const char *peer = peer_name[0] ? peer_name : nz(e->peer);
    char human[32] = "", iso[40] = "";
    int64_t secs;
    if (wg_cli_parse_utc(e->time, &secs))
        wg_cli_local_time(secs, human, iso);
    if (l->cli->json) {
        fputs(l->first ? "[" : ",", out);
        fputs("{\"time\":", out);
        wg_json_str(out, nz(e->time));
        fputs(",\"node\":", out);
        wg_json_str(out, nz(e->node));
        fputs(",\"peer\":", out);
        wg_json_str(out, nz(e->peer));
        fputs(",\"event\":", out);
        wg_json_str(out, nz(e->event));
        fputs(",\"direction\":", out);
        wg_json_str(out, nz(e->direction));
        fprintf(out, ",\"sent\":%lld,\"received\":%lld,\"refused\":%lld",
                (long long)e->sent, (long long)e->received,
                (long long)e->refused);
        fputs(",\"result\":", out);
        wg_json_str(out, nz(e->result));
        fputs(",\"reason\":", out);
        wg_json_str(out, nz(e->reason));
        fputs(",\"peer_key\":", out);
        wg_json_str(out, nz(e->peer_key));
        fputs(",\"time_local\":", out);
        wg_json_str(out, iso[0] ? iso : nz(e->time));
        fputs(",\"peer_name\":", out);   /* as this node knows it */
        wg_json_str(out, peer);
        fputc('}', out);
    } else {
        char sent[24], recv[24], refused[24];
        snprintf(sent, sizeof sent, "%lld", (long long)e->sent);
        snprintf(recv, sizeof recv, "%lld", (long long)e->received);
        snprintf(refused, sizeof refused, "%lld", (long long)e->refused);
        const char *row[] = { human[0] ? human : nz(e->time), nz(e->node),
                              nz(e->event), peer, nz(e->direction), sent, recv,
                              refused, nz(e->result), nz(e->reason) };
        wg_tabout_row(l->tab, row);
    }
    l->first = 0;
    return 0;
}

int cmd_audit(wg_cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {
        { "verify", no_argument, NULL, 'v' },
        { "peer", required_argument, NULL, 'p' },
        { 0, 0, 0, 0 } };
    int help = 0, c, do_verify = 0;
    list_ctx l = { .cli = cli, .first = 1 };
    while ((c = wg_cli_getopt(cli, argc, argv, "", opts, &help)) != -1) {
        switch (c) {
        case 'v': do_verify = 1; break;
        case 'p': l.peer = optarg; break;
        case 'h': return wg_cli_help(cli, "audit", cli->out);
        default: return WG_EXIT_USAGE;
        }
    }
    if (optind < argc)
        return wg_cli_usage(cli, "audit", "unexpected argument '%s'",
                            argv[optind]);
    if (do_verify)
        return verify(cli);
    wg_store *st = NULL;
    int code = wg_cli_open_store(cli, &st);
    if (code)
        return code;
    if (!cli->json) {
        static const char *const head[] = { "time", "node", "event", "peer",
                                            "dir", "sent", "received",
                                            "refused", "result", "reason" };
        l.tab = wg_tabout_new(10);
        wg_tabout_row(l.tab, head);
    }
    wg_err err = { 0 };
    l.st = st;
    wg_rc rc = wg_store_audit_list(st, on_entry, &l, &err);
    if (rc)
        code = wg_cli_fail(cli, &err);
    else if (cli->json)
        fputs(l.first ? "[]\n" : "]\n", cli->out);
    else if (l.first)
        fputs("no sync history yet\n", cli->out);
    else
        wg_tabout_print(l.tab, cli->out);
    wg_tabout_destroy(&l.tab);
    wg_cli_close_store(cli, &st);
    return code;
}
