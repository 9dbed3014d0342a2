/*
 * cmd_init.c - `wings init`: create a node
 */
#include <getopt.h>
#include <string.h>

#include "wg_crypto.h"
#include "wg_node.h"

int cmd_init(wg_cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {
        { "name", required_argument, NULL, 'n' },
        { "county", required_argument, NULL, 'c' },
        { "role", required_argument, NULL, 'r' },
        { "listen", required_argument, NULL, 'l' },
        { "kdf", required_argument, NULL, 'k' },
        { "root", no_argument, NULL, 'R' },
        { 0, 0, 0, 0 } };
    int root = 0;
    const char *name = NULL, *county = NULL, *role = "office";
    const char *listen = "tcp://127.0.0.1:7400", *kdfname = "moderate";
    int help = 0, c;
    while ((c = wg_cli_getopt(cli, argc, argv, "", opts, &help)) != -1) {
        switch (c) {
        case 'n': name = optarg; break;
        case 'c': county = optarg; break;
        case 'r': role = optarg; break;
        case 'l': listen = optarg; break;
        case 'k': kdfname = optarg; break;
        case 'R': root = 1; break;
        case 'h': return wg_cli_help(cli, "init", cli->out);
        default: return WG_EXIT_USAGE;
        }
    }
    if (optind < argc)
        return wg_cli_usage(cli, "init", "unexpected argument '%s'",
                            argv[optind]);
    if (!name || !county)
        return wg_cli_usage(cli, "init", "init needs --name and --county");

    wg_err err = { 0 };
    wg_node_info info;
    memset(&info, 0, sizeof info);
    wg_kdf kdf;
    if (wg_kdf_parse(kdfname, &kdf, &err) != WG_OK)
        return wg_cli_usage(cli, "init", "%s", err.msg);
    if (!strcmp(role, "hq"))
        info.role = WG_ROLE_HQ;
    else if (strcmp(role, "office") != 0)
        return wg_cli_usage(cli, "init", "role must be office or hq, not '%s'",
                            role);
    if (root && info.role != WG_ROLE_HQ)
        return wg_cli_usage(cli, "init", "--root needs --role hq");
    if (strlen(name) > WG_NAME_MAX || strlen(county) > WG_COUNTY_CHARS ||
        strlen(listen) > WG_ENDPOINT_MAX)
        return wg_cli_failf(cli, WG_EXIT_INVALID,
                            "name, county or endpoint is too long");
    strcpy(info.name, name);
    strcpy(info.county, county);
    strcpy(info.endpoint, listen);

    char *pass = NULL;
    size_t len = 0;
    wg_rc rc = wg_passphrase_get(cli, "new passphrase: ", 1, &pass, &len, &err);
    if (rc)
        return wg_cli_failf(cli, rc == WG_ERR_INVALID ? WG_EXIT_INVALID
                                                      : WG_EXIT_STORE,
                            "%s", err.msg);
    if (len == 0)
        rc = wg_err_set(&err, WG_ERR_INVALID, "the passphrase is empty");
    else
        rc = wg_store_create(cli->dir, pass, len, kdf, &info, &err);
    if (rc == WG_OK && root) {
        /* The network's root authority: a self-signed certificate. */
        wg_store *st = NULL;
        rc = wg_store_open(cli->dir, pass, len, &st, &err);
        if (rc == WG_OK)
            rc = wg_member_make_root(st, &err);
        wg_store_close(&st);
    }
    wg_secret_free(pass);
    if (rc)
        return wg_cli_fail(cli, &err);
    wg_cli_print_identity(cli, &info);
    return WG_EXIT_OK;
}
