/*
 * cmd_backup.c - `wings backup FILE`: a consistent, sealed copy of the node
 *
 * Taken from the open store, so consistent whether or not `serve` runs: when
 * it runs, the command is carried out by the daemon, which holds the store
 * (daemon.c). The file is as protected as the node: see store/backup.c.
 */
#include <getopt.h>
#include <time.h>

#include "wg_life.h"
#include "wg_node.h"

static const char *role_name(wg_role r)
{
    return r == WG_ROLE_HQ ? "hq" : "office";
}

void wg_cli_print_backup(wg_cli *cli, const wg_backup_info *bi,
                         const char *file, const char *verb)
{
    FILE *out = cli->out;
    char when[32];
    time_t t = (time_t)bi->taken;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    if (cli->json) {
        fputs("{\"file\":", out);
        wg_json_str(out, file);
        fputs(",\"name\":", out);
        wg_json_str(out, bi->node.name);
        fputs(",\"key\":", out);
        wg_json_str(out, bi->node.key_hex);
        fputs(",\"county\":", out);
        wg_json_str(out, bi->node.county);
        fprintf(out, ",\"role\":\"%s\",\"taken\":\"%s\",\"records\":{",
                role_name(bi->node.role), when);
        for (int i = 0; i < bi->ntables; i++) {
            fputs(i ? "," : "", out);
            wg_json_str(out, bi->table[i]);
            fprintf(out, ":%llu", (unsigned long long)bi->records[i]);
        }
        fprintf(out, "},\"feeds\":%llu,\"changes\":%llu,\"bytes\":%llu",
                (unsigned long long)bi->feeds,
                (unsigned long long)bi->changes,
                (unsigned long long)bi->file_bytes);
        return; /* the caller closes the object */
    }
    fprintf(out, "%s %s (%s, county %s, key %s), taken %s\n", verb,
            bi->node.name, role_name(bi->node.role), bi->node.county,
            bi->node.key_hex, when);
    fputs("records:", out);
    for (int i = 0; i < bi->ntables; i++)
        fprintf(out, "%s %llu %s", i ? "," : "",
                (unsigned long long)bi->records[i], bi->table[i]);
    fprintf(out, "\nfeeds: %llu (%llu changes)\n",
            (unsigned long long)bi->feeds, (unsigned long long)bi->changes);
}

int cmd_backup(wg_cli *cli, int argc, char **argv)
{
    int help = 0, c;
    while ((c = wg_cli_getopt(cli, argc, argv, "", NULL, &help)) != -1) {
        if (c == 'h')
            return wg_cli_help(cli, "backup", cli->out);
        return WG_EXIT_USAGE;
    }
    if (optind + 1 != argc)
        return wg_cli_usage(cli, "backup", optind < argc
                            ? "backup takes one FILE" : "backup needs a FILE");
    const char *file = argv[optind];
    wg_store *st = NULL;
    int code = wg_cli_open_store(cli, &st);
    if (code)
        return code;
    wg_err err = { 0 };
    wg_backup_info bi;
    wg_rc rc = wg_store_backup(st, file, &bi, &err);
    wg_cli_close_store(cli, &st);
    if (rc)
        return wg_cli_failf(cli, wg_exit_code(rc), "cannot back up '%s' to "
                            "'%s': %s", cli->dir, file, err.msg);
    wg_cli_print_backup(cli, &bi, file, "backup of");
    if (cli->json)
        fputs("}\n", cli->out);
    else
        fprintf(cli->out, "written to %s: %llu bytes, every page sealed as "
                "on the node; restoring it needs this node's passphrase\n",
                file, (unsigned long long)bi.file_bytes);
    return WG_EXIT_OK;
}
