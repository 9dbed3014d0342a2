/*
 * cmd_export.c - `wings export TABLE [--out FILE]`: CSV that import reads
 */
#include <getopt.h>
#include <stdio.h>
#include <unistd.h>

#include "wg_csv.h"
#include "wg_life.h"
#include "wg_node.h"

typedef struct export_ctx {
    FILE *out;
    wg_err err;
    wg_rc rc;
} export_ctx;

static int on_record(void *p, const wg_record *r)
{
    export_ctx *x = p;
    x->rc = wg_cli_record_csv(x->out, r, &x->err);
    return x->rc != WG_OK;
}

int cmd_export(wg_cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {
        { "out", required_argument, NULL, 'o' },
        { 0, 0, 0, 0 } };
    const char *path = NULL;
    int help = 0, c;
    while ((c = wg_cli_getopt(cli, argc, argv, "o:", opts, &help)) != -1) {
        switch (c) {
        case 'o': path = optarg; break;
        case 'h': return wg_cli_help(cli, "export", cli->out);
        default: return WG_EXIT_USAGE;
        }
    }
    if (argc - optind != 1)
        return wg_cli_usage(cli, "export", "export needs TABLE");
    const wg_table *t = wg_cli_table(cli, "export", argv[optind]);
    if (!t)
        return WG_EXIT_NOTFOUND;
    wg_store *st = NULL;
    int code = wg_cli_open_store(cli, &st);
    if (code)
        return code;
    export_ctx x = { .out = cli->out };
    char *tmp = NULL;
    wg_err err = { 0 };
    if (path) {
        /* Written to a fresh file beside the target (never one already
         * there), then renamed: never a half file. */
        int fd = wg_store_file_create(path, &tmp, &err);
        x.out = fd >= 0 ? fdopen(fd, "wb") : NULL;
        if (!x.out) {
            wg_store_file_abandon(fd, &tmp);
            wg_cli_close_store(cli, &st);
            return wg_cli_failf(cli, WG_EXIT_INTERNAL, "cannot write '%s': %s",
                                path, err.msg);
        }
    }
    long n = 0;
    wg_rc rc = wg_cli_record_csv_header(x.out, t, &err);
    if (rc == WG_OK)
        rc = wg_store_list(st, t, NULL, NULL, 0, on_record, &x, &err);
    if (rc == WG_OK && x.rc) {
        rc = x.rc;
        err = x.err;
    }
    if (rc == WG_OK)
        rc = wg_store_count(st, t, &n, &err);
    if (path) {
        if ((fflush(x.out) != 0 || ferror(x.out)) && rc == WG_OK)
            rc = wg_err_set(&err, WG_ERR_IO, "cannot write '%s'", path);
        int fd = rc == WG_OK ? dup(fileno(x.out)) : -1;
        fclose(x.out);
        if (rc == WG_OK && fd < 0)
            rc = wg_err_set(&err, WG_ERR_IO, "cannot write '%s'", path);
        if (rc)
            wg_store_file_abandon(fd, &tmp);
        else
            rc = wg_store_file_commit(fd, &tmp, path, &err);
    }
    if (rc)
        code = wg_cli_fail(cli, &err);
    else if (path)
        fprintf(cli->json ? stderr : cli->out, "exported %ld %s rows to %s\n",
                n, t->name, path);
    wg_cli_close_store(cli, &st);
    return code;
}
