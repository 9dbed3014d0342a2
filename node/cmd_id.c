/*
 * cmd_id.c - `wings id`: the identity line, and how it is printed
 */
#include <getopt.h>
#include <stdio.h>

#include "wg_node.h"

void wg_cli_print_identity(wg_cli *cli, const wg_node_info *info)
{
    const char *role = info->role == WG_ROLE_HQ ? "hq" : "office";
    if (!cli->json) {
        fprintf(cli->out, "%s %s %s\n", info->name, info->key_hex,
                info->endpoint);
        return;
    }
    fputs("{\"name\":", cli->out);
    wg_json_str(cli->out, info->name);
    fputs(",\"key\":", cli->out);
    wg_json_str(cli->out, info->key_hex);
    fputs(",\"endpoint\":", cli->out);
    wg_json_str(cli->out, info->endpoint);
    fputs(",\"county\":", cli->out);
    wg_json_str(cli->out, info->county);
    fputs(",\"role\":", cli->out);
    wg_json_str(cli->out, role);
    fputs("}\n", cli->out);
}

int cmd_id(wg_cli *cli, int argc, char **argv)
{
    int help = 0, c;
    while ((c = wg_cli_getopt(cli, argc, argv, "", NULL, &help)) != -1) {
        if (c == 'h')
            return wg_cli_help(cli, "id", cli->out);
        return WG_EXIT_USAGE;
    }
    if (optind < argc)
        return wg_cli_usage(cli, "id", "unexpected argument '%s'",
                            argv[optind]);
    wg_store *st = NULL;
    int code = wg_cli_open_store(cli, &st);
    if (code)
        return code;
    /* The endpoint in use: the daemon's (serve --listen), else init's. */
    wg_node_info me = *wg_store_info(st);
    if (cli->listen)
        snprintf(me.endpoint, sizeof me.endpoint, "%s", cli->listen);
    wg_cli_print_identity(cli, &me);
    wg_cli_close_store(cli, &st);
    return WG_EXIT_OK;
}
