/*
 * cmd_restore.c - `wings restore FILE`: a backup into an empty --dir
 *
 * The backup is authenticated whole before anything is kept (store/backup.c);
 * then the restored node is verified as `audit --verify` does: every page
 * and frame authenticated, every feed's chain and signatures rechecked.
 */
#include <getopt.h>
#include <string.h>

#include "wg_i18n.h"
#include "wg_life.h"
#include "wg_node.h"

static void on_problem(void *ctx, const char *what)
{
    wg_cli *cli = ctx;
    fprintf(cli->errf, "wings: restored store: %s\n", what);
}

int cmd_restore(wg_cli *cli, int argc, char **argv)
{
    int help = 0, c;
    while ((c = wg_cli_getopt(cli, argc, argv, "", NULL, &help)) != -1) {
        if (c == 'h')
            return wg_cli_help(cli, "restore", cli->out);
        return WG_EXIT_USAGE;
    }
    if (optind + 1 != argc)
        return wg_cli_usage(cli, "restore", optind < argc
                            ? "restore takes one FILE" : "restore needs a FILE");
    const char *file = argv[optind];
    wg_err err = { 0 };
    char *pass = NULL;
    size_t len = 0;
    wg_rc rc = wg_passphrase_get(cli, "passphrase of the backed-up node: ", 0,
                                 &pass, &len, &err);
    if (rc) {
        wg_secret_free(pass);
        return wg_cli_failf(cli, WG_EXIT_STORE, "%s", err.msg);
    }
    wg_backup_info bi;
    rc = wg_store_restore(file, cli->dir, pass, len, &bi, &err);
    long pages = 0, bad = 0, changes = 0, badfeeds = 0;
    wg_store *st = NULL;
    if (rc == WG_OK)
        rc = wg_store_verify_pages(cli->dir, pass, len, on_problem, cli,
                                   &pages, &bad, &err);
    if (rc == WG_OK && bad == 0)
        rc = wg_store_open(cli->dir, pass, len, &st, &err);
    if (rc == WG_OK && bad == 0)
        rc = wg_store_verify_feeds(st, on_problem, cli, &changes, &badfeeds,
                                   &err);
    /* Its first open holds local writes until its peers have synced. */
    wg_life_state ls;
    memset(&ls, 0, sizeof ls);
    if (rc == WG_OK && bad == 0)
        rc = wg_store_life_state(st, &ls, &err);
    wg_store_close(&st);
    wg_secret_free(pass);
    if (rc)
        return wg_cli_failf(cli, wg_exit_code(rc), "cannot restore '%s' into "
                            "'%s': %s", file, cli->dir, err.msg);
    if (bad || badfeeds)
        return wg_cli_failf(cli, WG_EXIT_STORE, "the store restored into '%s' "
                            "failed verification (%ld pages, %ld feed "
                            "problems)", cli->dir, bad, badfeeds);
    wg_cli_print_backup(cli, &bi, file, "restored");
    if (cli->json) {
        fputs(",\"dir\":", cli->out);
        wg_json_str(cli->out, cli->dir);
        fprintf(cli->out, ",\"verified\":true,\"pages_checked\":%ld,"
                "\"changes_checked\":%ld}\n", pages, changes);
    } else {
        fprintf(cli->out, "into %s; verified: %ld pages and frames "
                "authentic, %ld changes chained and signed\n", cli->dir,
                pages, changes);
        if (ls.held)
            fprintf(cli->out, _("what is written here is held until these "
                                "peers have synced with it: %s\n"),
                    ls.waiting);
    }
    return WG_EXIT_OK;
}
