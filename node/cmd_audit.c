/*
 * cmd_audit.c - `wings audit`: sync history, and `audit --verify`
 */
#include <getopt.h>
#include <string.h>

#include "wg_crypto.h"
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
 * then, when the store opens, every feed's chain and signatures. */
static int verify(wg_cli *cli)
{
    wg_err err = { 0 };
    char *pass = NULL;
    size_t len = 0;
    long pages = 0, bad = 0, changes = 0, badfeeds = 0;
    verify_ctx v = { cli, 1 };
    wg_rc rc = wg_passphrase_get(cli, "passphrase: ", 0, &pass, &len, &err);
    if (rc == WG_OK) {
        if (cli->json)
            fputs("{\"problems\":[", cli->out);
        rc = wg_store_verify_pages(cli->dir, pass, len, on_problem, &v,
                                   &pages, &bad, &err);
    }
    if (rc == WG_OK && bad == 0) {
        wg_store *st = NULL;
        rc = wg_store_open(cli->dir, pass, len, &st, &err);
        if (rc == WG_OK)
            rc = wg_store_verify_feeds(st, on_problem, &v, &changes,
                                       &badfeeds, &err);
        wg_store_close(&st);
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

int cmd_audit(wg_cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {
        { "verify", no_argument, NULL, 'v' },
        { "peer", required_argument, NULL, 'p' },
        { 0, 0, 0, 0 } };
    int help = 0, c, do_verify = 0;
    while ((c = wg_cli_getopt(cli, argc, argv, "", opts, &help)) != -1) {
        switch (c) {
        case 'v': do_verify = 1; break;
        case 'p': break;
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
    /* No sync sessions exist yet: the history is empty. */
    if (cli->json)
        fputs("[]\n", cli->out);
    wg_store_close(&st);
    return WG_EXIT_OK;
}
