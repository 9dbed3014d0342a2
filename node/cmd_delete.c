/*
 * cmd_delete.c - `wings delete TABLE ID` and its inverse, `wings undelete
 * TABLE ID`: one write of the record's `deleted` field each
 */
#include <getopt.h>

#include "wg_node.h"

static int set_deleted(wg_cli *cli, int argc, char **argv, int deleted)
{
    const char *name = deleted ? "delete" : "undelete";
    int help = 0, c;
    while ((c = wg_cli_getopt(cli, argc, argv, "", NULL, &help)) != -1) {
        if (c == 'h')
            return wg_cli_help(cli, name, cli->out);
        return WG_EXIT_USAGE;
    }
    if (argc - optind != 2)
        return wg_cli_usage(cli, name, "%s needs TABLE and ID", name);
    const wg_table *t = wg_cli_table(cli, name, argv[optind]);
    if (!t)
        return WG_EXIT_NOTFOUND;
    char id[WG_ID_HEX_CHARS + 1];
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
        (rc = deleted ? wg_store_delete(st, t, id, &err)
                      : wg_store_undelete(st, t, id, &err)) != WG_OK)
        wg_store_rollback(st);
    else if (rc == WG_OK)
        rc = wg_store_commit(st, &err);
    if (rc)
        code = wg_cli_fail(cli, &err);
    else if (cli->json)
        fprintf(cli->out, "{\"id\":\"%s\",\"deleted\":%s}\n", id,
                deleted ? "true" : "false");
    else
        fprintf(cli->out, "%sd %s %s\n", name, t->name, id);
    wg_cli_close_store(cli, &st);
    return code;
}

int cmd_delete(wg_cli *cli, int argc, char **argv)
{
    return set_deleted(cli, argc, argv, 1);
}

int cmd_undelete(wg_cli *cli, int argc, char **argv)
{
    return set_deleted(cli, argc, argv, 0);
}
