/*
 * cmd_update.c - `wings update TABLE ID FIELD=VALUE...`
 */
#include <getopt.h>

#include "wg_node.h"

int cmd_update(wg_cli *cli, int argc, char **argv)
{
    int help = 0, c;
    while ((c = wg_cli_getopt(cli, argc, argv, "", NULL, &help)) != -1) {
        if (c == 'h')
            return wg_cli_help(cli, "update", cli->out);
        return WG_EXIT_USAGE;
    }
    if (argc - optind < 3)
        return wg_cli_usage(cli, "update",
                            "update needs TABLE, ID and FIELD=VALUE");
    const wg_table *t = wg_cli_table(cli, "update", argv[optind]);
    if (!t)
        return WG_EXIT_NOTFOUND;
    char id[WG_ID_HEX_CHARS + 1];
    const char *names[WG_MAX_FIELDS + 1], *values[WG_MAX_FIELDS + 1];
    int n = wg_cli_assignments(cli, "update", argc - optind - 2,
                               argv + optind + 2, names, values,
                               WG_MAX_FIELDS + 1);
    if (n < 0)
        return WG_EXIT_USAGE;
    int bad = wg_cli_known_fields(cli, t, names, n);
    if (bad)
        return bad;
    wg_store *st = NULL;
    int code = wg_cli_open_store(cli, &st);
    if (code)
        return code;
    if ((code = wg_cli_record_id(cli, st, t, argv[optind + 1], id))) {
        wg_cli_close_store(cli, &st);
        return code;
    }
    wg_err err = { 0 };
    wg_rc rc = wg_store_begin(st, &err);
    if (rc == WG_OK &&
        (rc = wg_store_update(st, t, id, names, values, n, &err)) != WG_OK)
        wg_store_rollback(st);
    else if (rc == WG_OK)
        rc = wg_store_commit(st, &err);
    if (rc) {
        code = wg_cli_fail(cli, &err);
    } else if (cli->json) {
        wg_record r;
        if (wg_store_get(st, t, id, &r, &err) == WG_OK) {
            wg_cli_record_json(cli->out, &r);
            fputc('\n', cli->out);
            wg_record_release(&r);
        }
    } else {
        fprintf(cli->out, "updated %s %s\n", t->name, id);
    }
    wg_cli_close_store(cli, &st);
    return code;
}
