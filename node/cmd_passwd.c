/*
 * cmd_passwd.c - `wings passwd`: rewrap the data key under a new passphrase,
 * or (--rekey) re-encrypt the store under a new data key as well
 */
#include <getopt.h>

#include "wg_crypto.h"
#include "wg_life.h"
#include "wg_node.h"

int cmd_passwd(wg_cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {
        { "rekey", no_argument, NULL, 'r' },
        { 0, 0, 0, 0 } };
    int help = 0, c, rekey = 0;
    while ((c = wg_cli_getopt(cli, argc, argv, "", opts, &help)) != -1) {
        if (c == 'r') {
            rekey = 1;
            continue;
        }
        if (c == 'h')
            return wg_cli_help(cli, "passwd", cli->out);
        return WG_EXIT_USAGE;
    }
    if (optind < argc)
        return wg_cli_usage(cli, "passwd", "unexpected argument '%s'",
                            argv[optind]);
    wg_err err = { 0 };
    char *old = NULL, *new = NULL;
    size_t oldlen = 0, newlen = 0;
    int code = WG_EXIT_OK;
    wg_rc rc = wg_passphrase_get(cli, "current passphrase: ", 0, &old,
                                 &oldlen, &err);
    if (rc) {
        code = wg_cli_failf(cli, WG_EXIT_STORE, "%s", err.msg);
        goto out;
    }
    rc = wg_passphrase_get_new(cli, &new, &newlen, &err);
    if (rc) {
        code = wg_cli_failf(cli, WG_EXIT_INVALID, "%s", err.msg);
        goto out;
    }
    rc = rekey ? wg_store_rekey(cli->dir, old, oldlen, new, newlen, &err)
               : wg_store_passwd(cli->dir, old, oldlen, new, newlen, &err);
    if (rc) {
        code = wg_cli_failf(cli, rc == WG_ERR_IO || rc == WG_ERR_NOSPACE
                                     ? WG_EXIT_INTERNAL : WG_EXIT_STORE,
                            "cannot change the passphrase of '%s': %s",
                            cli->dir, err.msg);
        goto out;
    }
    if (!cli->json)
        fprintf(cli->out, rekey ? "passphrase changed; store re-encrypted "
                "under a new data key\n" : "passphrase changed\n");
    else
        fprintf(cli->out, "{\"ok\":true,\"rekeyed\":%s}\n",
                rekey ? "true" : "false");
out:
    wg_secret_free(old);
    wg_secret_free(new);
    return code;
}
