/*
 * cmd_delete.c - `wings delete TABLE ID`
 */
#include <getopt.h>

#include "wg_node.h"

int cmd_delete(wg_cli *cli, int argc, char **argv)
{
    int help = 0, c;
    while ((c = wg_cli_getopt(cli, argc, argv, "", NULL, &help)) != -1) {
        if (c == 'h')
            return wg_cli_help(cli, "delete", cli->out);
        return WG_EXIT_USAGE;
    }
    if (argc - optind != 2)
        return wg_cli_usage(cli, "delete", "delete needs TABLE and ID");
    const wg_table *t = wg_cli_table(cli, "delete", argv[optind]);
    if (!t)
        return WG_EXIT_NOTFOUND;
    const char *id = argv[optind + 1];
    wg_store *st = NULL;
    int code = wg_cli_open_store(cli, &st);
    if (code)
        return code;
    wg_err err = { 0 };
    wg_rc rc = wg_store_begin(st, &err);
    if (rc == WG_OK && (rc = wg_store_delete(st, t, id, &err)) != WG_OK)
        wg_store_rollback(st);
    else if (rc == WG_OK)
        rc = wg_store_commit(st, &err);
    if (rc)
        code = wg_cli_fail(cli, &err);
    else if (cli->json)
        fprintf(cli->out, "{\"id\":\"%s\",\"deleted\":true}\n", id);
    else
        fprintf(cli->out, "deleted %s %s\n", t->name, id);
    wg_cli_close_store(cli, &st);
    return code;
}
