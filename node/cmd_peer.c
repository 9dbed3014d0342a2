/*
 * cmd_peer.c - `wings peer add|set|list|remove|unfreeze`: whom this node
 * trusts, and the administrator's resolution of a feed frozen on an
 * equivocation
 */
#include <getopt.h>
#include <string.h>
#include <time.h>

#include "wg_node.h"

typedef struct list_ctx {
    wg_cli *cli;
    int first;
    wg_tabout *tab;
} list_ctx;

static void fmt_time(int64_t t, char out[WG_TIME_CHARS + 1])
{
    if (!t)
        strcpy(out, "never");
    else
        wg_ident_time_utc(t, out);
}

static int on_peer(void *p, const wg_peer *peer)
{
    list_ctx *l = p;
    char when[WG_TIME_CHARS + 1];
    fmt_time(peer->last_time, when);
    if (l->cli->json) {
        FILE *out = l->cli->out;
        fputs(l->first ? "[" : ",", out);
        fputs("{\"name\":", out);
        wg_json_str(out, peer->name);
        fputs(",\"key\":", out);
        wg_json_str(out, peer->key_hex);
        fputs(",\"endpoint\":", out);
        wg_json_str(out, peer->endpoint);
        fputs(",\"last_sync\":", out);
        if (peer->last_time)
            wg_json_str(out, when);
        else
            fputs("null", out);
        fputs(",\"last_result\":", out);
        if (peer->last_time)
            wg_json_str(out, peer->last_result);
        else
            fputs("null", out);
        fputs(",\"last_error\":", out);
        wg_json_str(out, peer->last_error);
        fprintf(out, ",\"sent\":%lld,\"received\":%lld}",
                (long long)peer->last_sent, (long long)peer->last_received);
    } else {
        char key[20];
        snprintf(key, sizeof key, "%.16s", peer->key_hex);
        const char *row[] = { peer->name, key, peer->endpoint, when,
                              peer->last_time ? peer->last_result : "",
                              peer->last_error };
        wg_tabout_row(l->tab, row);
    }
    l->first = 0;
    return 0;
}

int cmd_peer(wg_cli *cli, int argc, char **argv)
{
    int help = 0, c;
    while ((c = wg_cli_getopt(cli, argc, argv, "", NULL, &help)) != -1) {
        if (c == 'h')
            return wg_cli_help(cli, "peer", cli->out);
        return WG_EXIT_USAGE;
    }
    if (optind >= argc)
        return wg_cli_usage(cli, "peer", "peer needs add, set, list or "
                            "remove");
    const char *verb = argv[optind];
    int nargs = argc - optind - 1;
    char **args = argv + optind + 1;
    if (!strcmp(verb, "add") && nargs != 3)
        return wg_cli_usage(cli, "peer", "peer add needs NAME KEY ENDPOINT");
    if (!strcmp(verb, "set") && nargs != 2)
        return wg_cli_usage(cli, "peer", "peer set needs NAME ENDPOINT");
    if (!strcmp(verb, "remove") && nargs != 1)
        return wg_cli_usage(cli, "peer", "peer remove needs NAME");
    if (!strcmp(verb, "list") && nargs != 0)
        return wg_cli_usage(cli, "peer", "peer list takes no arguments");
    if (!strcmp(verb, "unfreeze") && (nargs < 1 || nargs > 2))
        return wg_cli_usage(cli, "peer", "peer unfreeze needs NAME|KEY "
                            "[PARTITION]");
    if (strcmp(verb, "add") && strcmp(verb, "remove") &&
        strcmp(verb, "list") && strcmp(verb, "set") &&
        strcmp(verb, "unfreeze"))
        return wg_cli_usage(cli, "peer", "unknown peer command '%s'", verb);

    wg_store *st = NULL;
    int code = wg_cli_open_store(cli, &st);
    if (code)
        return code;
    wg_err err = { 0 };
    wg_rc rc = WG_OK;
    if (!strcmp(verb, "add")) {
        rc = wg_store_peer_add(st, args[0], args[1], args[2], &err);
        if (rc == WG_OK)
            fprintf(cli->out, cli->json ? "{\"added\":\"%s\"}\n"
                                        : "added peer %s\n", args[0]);
    } else if (!strcmp(verb, "set")) {
        rc = wg_store_peer_set_endpoint(st, args[0], args[1], &err);
        if (rc == WG_OK) {
            if (cli->engine)
                wg_engine_peers_changed(cli->engine);
            if (cli->json) {
                fputs("{\"name\":", cli->out);
                wg_json_str(cli->out, args[0]);
                fputs(",\"endpoint\":", cli->out);
                wg_json_str(cli->out, args[1]);
                fputs("}\n", cli->out);
            } else {
                fprintf(cli->out, "peer %s now at %s\n", args[0], args[1]);
            }
        }
    } else if (!strcmp(verb, "remove")) {
        rc = wg_store_peer_remove(st, args[0], &err);
        if (rc == WG_OK) {
            if (cli->engine)
                wg_engine_peers_changed(cli->engine);
            fprintf(cli->out, cli->json ? "{\"removed\":\"%s\"}\n"
                                        : "removed peer %s\n", args[0]);
        }
    } else if (!strcmp(verb, "unfreeze")) {
        /* A peer's name, or any origin's key (a frozen feed may be of an
         * office this node never met). */
        uint8_t key[WG_SIGN_PK_BYTES];
        wg_peer peer;
        int n = 0;
        if (strlen(args[0]) == WG_KEY_HEX_CHARS &&
            wg_hex_decode(key, sizeof key, args[0], NULL) == WG_OK)
            rc = WG_OK;
        else if ((rc = wg_store_peer_get(st, args[0], &peer, &err)) == WG_OK)
            memcpy(key, peer.key, sizeof key);
        if (rc == WG_OK)
            rc = wg_store_unfreeze(st, key, nargs == 2 ? args[1] : NULL, &n,
                                   &err);
        if (rc == WG_OK)
            fprintf(cli->out, cli->json ? "{\"unfrozen\":%d}\n"
                                        : "unfrozen %d feed%s of %s\n", n,
                    n == 1 ? "" : "s", args[0]);
    } else {
        list_ctx l = { cli, 1, NULL };
        if (!cli->json) {
            static const char *const head[] = { "name", "key", "endpoint",
                                                "last sync", "result",
                                                "error" };
            l.tab = wg_tabout_new(6);
            wg_tabout_row(l.tab, head);
        }
        rc = wg_store_peers(st, on_peer, &l, &err);
        if (rc == WG_OK && cli->json)
            fputs(l.first ? "[]\n" : "]\n", cli->out);
        else if (rc == WG_OK && l.first)
            fputs("no peers: add one with 'wings peer add NAME KEY "
                  "ENDPOINT'\n", cli->out);
        else if (rc == WG_OK)
            wg_tabout_print(l.tab, cli->out);
        wg_tabout_destroy(&l.tab);
    }
    if (rc)
        code = wg_cli_fail(cli, &err);
    wg_cli_close_store(cli, &st);
    return code;
}
