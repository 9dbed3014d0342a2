/*
 * cmd_get.c - `wings get TABLE ID`
 */
#include <getopt.h>

#include "wg_node.h"

int cmd_get(wg_cli *cli, int argc, char **argv)
{
    int help = 0, c;
    while ((c = wg_cli_getopt(cli, argc, argv, "", NULL, &help)) != -1) {
        if (c == 'h')
            return wg_cli_help(cli, "get", cli->out);
        return WG_EXIT_USAGE;
    }
    if (argc - optind != 2)
        return wg_cli_usage(cli, "get", "get needs TABLE and ID");
    const wg_table *t = wg_cli_table(cli, "get", argv[optind]);
    if (!t)
        return WG_EXIT_NOTFOUND;
    wg_store *st = NULL;
    int code = wg_cli_open_store(cli, &st);
    if (code)
        return code;
    wg_err err = { 0 };
    wg_record r;
    char id[WG_ID_HEX_CHARS + 1];
    if ((code = wg_cli_record_id(cli, st, t, argv[optind + 1], id))) {
        wg_cli_close_store(cli, &st);
        return code;
    }
    wg_rc rc = wg_store_get(st, t, id, &r, &err);
    if (rc == WG_OK && r.deleted) {
        wg_record_release(&r);
        rc = wg_err_set(&err, WG_ERR_NOTFOUND, "%s %s is deleted (see 'wings "
                        "history')", t->name, id);
    }
    if (rc) {
        code = wg_cli_fail(cli, &err);
    } else {
        if (cli->json) {
            wg_cli_record_json(cli->out, &r);
            fputc('\n', cli->out);
        } else {
            wg_cli_record_text(cli->out, &r);
        }
        wg_record_release(&r);
    }
    wg_cli_close_store(cli, &st);
    return code;
}
