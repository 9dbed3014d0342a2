/*
 * cmd_area.c - `wings area set|import|list`: the names of areas
 *
 * An HQ names the counties (and itself) inside its scope; reports and the
 * chart show the names, and sync carries them to every node below. Each
 * name is checked like a record's text field.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wg_csv.h"
#include "wg_node.h"

typedef struct list_ctx {
    wg_cli *cli;
    int n;
    wg_tabout *tab;
} list_ctx;

static int on_area(void *p, const char *code, const char *name)
{
    list_ctx *l = p;
    if (l->cli->json) {
        fputs(l->n ? ",{\"code\":" : "[{\"code\":", l->cli->out);
        wg_json_str(l->cli->out, code);
        fputs(",\"name\":", l->cli->out);
        wg_json_str(l->cli->out, name);
        fputc('}', l->cli->out);
    } else {
        const char *row[] = { code, name };
        wg_tabout_row(l->tab, row);
    }
    l->n++;
    return 0;
}

static int area_list(wg_cli *cli, wg_store *st)
{
    list_ctx l = { .cli = cli };
    if (!cli->json) {
        l.tab = wg_tabout_new(2);
        const char *h[] = { "code", "name" };
        wg_tabout_row(l.tab, h);
    }
    wg_err err = { 0 };
    int code = WG_EXIT_OK;
    if (wg_store_areas(st, on_area, &l, &err) != WG_OK)
        code = wg_cli_fail(cli, &err);
    else if (cli->json)
        fputs(l.n ? "]\n" : "[]\n", cli->out);
    else
        wg_tabout_print(l.tab, cli->out);
    wg_tabout_destroy(&l.tab);
    return code;
}

/* Every row of FILE (CSV code,name; a header row "code,name" is skipped)
 * is checked before any is written; one transaction. */
static int area_import(wg_cli *cli, wg_store *st, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return wg_cli_failf(cli, WG_EXIT_INVALID, "cannot read '%s': %s",
                            path, strerror(errno));
    wg_csv_reader *r = wg_csv_reader_new(f);
    wg_err err = { 0 };
    int code = WG_EXIT_OK;
    long written = 0;
    if (wg_store_begin(st, &err) != WG_OK) {
        code = wg_cli_fail(cli, &err);
        goto out;
    }
    char **fields;
    size_t nf, line;
    wg_rc rc;
    while ((rc = wg_csv_read(r, &fields, &nf, &line, &err)) == WG_OK) {
        if (line == 1 && nf == 2 && !strcmp(fields[0], "code") &&
            !strcmp(fields[1], "name"))
            continue;
        if (nf != 2) {
            err.code = WG_ERR_INVALID;
            snprintf(err.msg, sizeof err.msg, "line %zu: expected code,name",
                     line);
            rc = WG_ERR_INVALID;
            break;
        }
        wg_err e2 = { 0 };
        if ((rc = wg_store_area_set(st, fields[0], fields[1], &e2))) {
            err.code = e2.code;
            snprintf(err.msg, sizeof err.msg, "line %zu: %.200s", line,
                     e2.msg);
            break;
        }
        written++;
    }
    if (rc != WG_ERR_NOTFOUND) {
        wg_store_rollback(st);
        code = wg_cli_fail(cli, &err);
    } else if (wg_store_commit(st, &err) != WG_OK) {
        code = wg_cli_fail(cli, &err);
    } else if (!cli->json) {
        fprintf(cli->out, "%ld area name%s written\n", written,
                written == 1 ? "" : "s");
    } else {
        fprintf(cli->out, "{\"written\":%ld}\n", written);
    }
out:
    wg_csv_reader_destroy(&r);
    fclose(f);
    return code;
}

int cmd_area(wg_cli *cli, int argc, char **argv)
{
    static const struct option opts[] = { { 0, 0, 0, 0 } };
    int help = 0, c;
    while ((c = wg_cli_getopt(cli, argc, argv, "", opts, &help)) != -1) {
        if (c == 'h')
            return wg_cli_help(cli, "area", cli->out);
        return WG_EXIT_USAGE;
    }
    int n = argc - optind;
    char **a = argv + optind;
    if (n < 1)
        return wg_cli_usage(cli, "area", "area needs set, import or list");
    int want = !strcmp(a[0], "set") ? 3 : !strcmp(a[0], "import") ? 2
               : !strcmp(a[0], "list") ? 1 : -1;
    if (want < 0)
        return wg_cli_usage(cli, "area", "unknown area command '%.32s'", a[0]);
    if (n != want)
        return wg_cli_usage(cli, "area", "area %s takes %s", a[0],
                            want == 3 ? "CODE NAME"
                            : want == 2 ? "FILE" : "no arguments");
    wg_store *st = NULL;
    int code = wg_cli_open_store(cli, &st);
    if (code)
        return code;
    wg_err err = { 0 };
    if (want == 1) {
        code = area_list(cli, st);
    } else if (want == 2) {
        code = area_import(cli, st, a[1]);
    } else if (wg_store_begin(st, &err) != WG_OK) {
        code = wg_cli_fail(cli, &err);
    } else if (wg_store_area_set(st, a[1], a[2], &err) != WG_OK) {
        wg_store_rollback(st);
        code = wg_cli_fail(cli, &err);
    } else if (wg_store_commit(st, &err) != WG_OK) {
        code = wg_cli_fail(cli, &err);
    } else if (cli->json) {
        fputs("{\"code\":", cli->out);
        wg_json_str(cli->out, a[1]);
        fputs(",\"name\":", cli->out);
        wg_json_str(cli->out, a[2]);
        fputs("}\n", cli->out);
    }
    wg_cli_close_store(cli, &st);
    return code;
}
