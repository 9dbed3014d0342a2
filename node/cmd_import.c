/*
 * cmd_import.c - `wings import TABLE FILE [--skip-invalid]`
 *
 * Every row is checked inside one transaction; a row that fails changes
 * nothing and is listed (line, field, reason). Unless --skip-invalid, any
 * failure rolls the whole file back: nothing is written, exit 3.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wg_csv.h"
#include "wg_node.h"

#define MAX_LISTED 1000   /* failing rows listed; the rest are counted */

int cmd_import(wg_cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {
        { "skip-invalid", no_argument, NULL, 's' },
        { 0, 0, 0, 0 } };
    int skip = 0, help = 0, c;
    while ((c = wg_cli_getopt(cli, argc, argv, "", opts, &help)) != -1) {
        switch (c) {
        case 's': skip = 1; break;
        case 'h': return wg_cli_help(cli, "import", cli->out);
        default: return WG_EXIT_USAGE;
        }
    }
    if (argc - optind != 2)
        return wg_cli_usage(cli, "import", "import needs TABLE and FILE");
    const wg_table *t = wg_cli_table(cli, "import", argv[optind]);
    if (!t)
        return WG_EXIT_NOTFOUND;
    const char *path = argv[optind + 1];
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return wg_cli_failf(cli, WG_EXIT_NOTFOUND, "cannot read '%s': %m",
                            path);
    struct stat sb;
    long long total = fstat(fileno(fp), &sb) == 0 ? (long long)sb.st_size : 0;
    int progress = isatty(STDERR_FILENO) && !cli->json;

    wg_store *st = NULL;
    int code = wg_cli_open_store(cli, &st);
    if (code) {
        fclose(fp);
        return code;
    }
    wg_csv_reader *r = wg_csv_reader_new(fp);
    wg_err err = { 0 };
    char **row;
    size_t nf, line;
    long written = 0, failed = 0, rows = 0;
    char *header[WG_MAX_FIELDS + 1] = { 0 };
    size_t nheader = 0;
    wg_rc rc = wg_csv_read(r, &row, &nf, &line, &err);
    if (rc == WG_ERR_NOTFOUND) {
        rc = wg_err_set(&err, WG_ERR_INVALID, "'%s' is empty: no header row",
                        path);
        goto out;
    }
    if (rc)
        goto out;
    if (nf > WG_MAX_FIELDS + 1) {
        rc = wg_err_set(&err, WG_ERR_INVALID, "line 1: too many columns");
        goto out;
    }
    for (size_t i = 0; i < nf; i++) {
        if (strcmp(row[i], "id") && wg_schema_field_index(t, row[i]) < 0) {
            rc = wg_err_set(&err, WG_ERR_INVALID,
                            "line 1: column '%.64s' is not a field of %s",
                            row[i], t->name);
            goto out;
        }
        header[nheader++] = wg_xstrdup(row[i]);
    }
    if ((rc = wg_store_begin(st, &err)))
        goto out;
    for (;;) {
        rc = wg_csv_read(r, &row, &nf, &line, &err);
        if (rc == WG_ERR_NOTFOUND) {
            rc = WG_OK;
            break;
        }
        if (rc)
            break;
        rows++;
        wg_err rowerr = { 0 };
        wg_rc rr;
        if (nf != nheader) {
            rr = wg_err_set(&rowerr, WG_ERR_INVALID,
                            "has %zu fields, the header has %zu", nf, nheader);
        } else {
            rr = wg_store_add(st, t, (const char *const *)header,
                              (const char *const *)row, (int)nf, NULL,
                              &rowerr);
        }
        if (rr == WG_OK) {
            written++;
        } else if (rr == WG_ERR_INVALID) {
            if (++failed <= MAX_LISTED)
                fprintf(cli->errf, "wings: line %zu: %s\n", line, rowerr.msg);
        } else {
            rc = rr;
            err = rowerr;
            break;
        }
        if (progress && rows % 1000 == 0)
            fprintf(cli->errf, "\rimporting %s: %ld rows (%lld%%)", path, rows,
                    total ? (long long)wg_csv_reader_bytes(r) * 100 / total
                          : 0);
    }
    if (progress && rows >= 1000)
        fputc('\n', cli->errf);
    if (rc == WG_OK && failed && !skip) {
        wg_store_rollback(st);
        if (failed > MAX_LISTED)
            fprintf(cli->errf, "wings: ... and %ld more failing rows\n",
                    failed - MAX_LISTED);
        rc = wg_err_set(&err, WG_ERR_INVALID,
                        "%ld of %ld rows of '%s' failed validation; nothing "
                        "was written (fix them, or use --skip-invalid)",
                        failed, rows, path);
        goto out;
    }
    if (rc == WG_OK)
        rc = wg_store_commit(st, &err);
    else
        wg_store_rollback(st);
out:
    if (rc) {
        code = wg_cli_fail(cli, &err);
    } else if (cli->json) {
        fprintf(cli->out, "{\"written\":%ld,\"skipped\":%ld}\n", written,
                failed);
    } else {
        fprintf(cli->out, "imported %ld %s rows", written, t->name);
        if (failed)
            fprintf(cli->out, "; skipped %ld invalid rows", failed);
        fputc('\n', cli->out);
    }
    for (size_t i = 0; i < nheader; i++)
        free(header[i]);
    wg_csv_reader_destroy(&r);
    fclose(fp);
    wg_cli_close_store(cli, &st);
    return code;
}
