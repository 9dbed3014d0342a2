/*
 * cmd_review.c - `wings review` and `wings merge TABLE KEEP DUPLICATE`
 *
 * review lists what needs a person's eye: records that hold one unique
 * value twice (a person registered at two offices before they synced).
 * merge joins two of them: references move to the one kept, the other is
 * deleted (review.c).
 */
#include <getopt.h>
#include <string.h>

#include "wg_node.h"

typedef struct review_ctx {
    wg_cli *cli;
    wg_store *st;
    int n;
} review_ctx;

static int one_duplicate(void *vctx, const wg_table *t, const char *field,
                         const char *value, const char *const *ids, int n)
{
    review_ctx *x = vctx;
    FILE *out = x->cli->out;
    if (x->cli->json) {
        fputs(x->n ? "," : "[", out);
        fputs("{\"kind\":\"duplicate\",\"table\":", out);
        wg_json_str(out, t->name);
        fputs(",\"ids\":[", out);
        for (int i = 0; i < n; i++) {
            if (i)
                fputc(',', out);
            wg_json_str(out, ids[i]);
        }
        fputs("],\"fields\":{", out);
        wg_json_str(out, field);
        fputc(':', out);
        wg_json_str(out, value);
        fputs("}}", out);
    } else {
        fprintf(out, "%s held %d times with %s=%s:\n", t->name, n, field,
                value);
        int name = wg_schema_field_index(t, "name");
        int county = wg_schema_partition(t);
        for (int i = 0; i < n; i++) {
            wg_record r;
            if (wg_store_get(x->st, t, ids[i], &r, NULL) == WG_OK) {
                fprintf(out, "  %s  ", ids[i]);
                wg_json_str(out, name >= 0 && r.values[name]
                                          ? r.values[name] : "");
                fprintf(out, "  %s\n", county >= 0 && r.values[county]
                                           ? r.values[county] : "");
                wg_record_release(&r);
            }
        }
        fprintf(out, "  keep one: wings merge %s KEEP DUPLICATE\n", t->name);
    }
    x->n++;
    return 0;
}

int cmd_review(wg_cli *cli, int argc, char **argv)
{
    int help = 0, c;
    while ((c = wg_cli_getopt(cli, argc, argv, "", NULL, &help)) != -1) {
        if (c == 'h')
            return wg_cli_help(cli, "review", cli->out);
        return WG_EXIT_USAGE;
    }
    if (argc - optind != 0)
        return wg_cli_usage(cli, "review", "review takes no arguments");
    wg_store *st = NULL;
    int code = wg_cli_open_store(cli, &st);
    if (code)
        return code;
    review_ctx x = { cli, st, 0 };
    wg_err err = { 0 };
    wg_rc rc = WG_OK;
    const wg_table *t;
    for (int i = 0; rc == WG_OK && (t = wg_schema_table_at(i)); i++)
        rc = wg_store_duplicates(st, t, one_duplicate, &x, &err);
    if (rc)
        code = wg_cli_fail(cli, &err);
    else if (cli->json)
        fputs(x.n ? "]\n" : "[]\n", cli->out);
    else if (!x.n)
        fputs("nothing to review\n", cli->out);
    wg_cli_close_store(cli, &st);
    return code;
}

int cmd_merge(wg_cli *cli, int argc, char **argv)
{
    int help = 0, c;
    while ((c = wg_cli_getopt(cli, argc, argv, "", NULL, &help)) != -1) {
        if (c == 'h')
            return wg_cli_help(cli, "merge", cli->out);
        return WG_EXIT_USAGE;
    }
    if (argc - optind != 3)
        return wg_cli_usage(cli, "merge", "merge needs TABLE, KEEP and "
                            "DUPLICATE");
    const wg_table *t = wg_cli_table(cli, "merge", argv[optind]);
    if (!t)
        return WG_EXIT_NOTFOUND;
    char keep[WG_ID_HEX_CHARS + 1], dup[WG_ID_HEX_CHARS + 1];
    wg_store *st = NULL;
    int code = wg_cli_open_store(cli, &st);
    if (code)
        return code;
    if ((code = wg_cli_record_id(cli, st, t, argv[optind + 1], keep)) ||
        (code = wg_cli_record_id(cli, st, t, argv[optind + 2], dup))) {
        wg_cli_close_store(cli, &st);
        return code;
    }
    wg_err err = { 0 };
    int moved;
    wg_rc rc = wg_ops_merge(st, cli->actor, t, keep, dup, &moved, &err);
    if (rc)
        code = wg_cli_fail(cli, &err);
    else if (cli->json)
        fprintf(cli->out, "{\"kept\":\"%s\",\"deleted\":\"%s\",\"moved\":%d}\n",
                keep, dup, moved);
    else
        fprintf(cli->out, "merged %s %s into %s (%d record%s moved)\n",
                t->name, dup, keep, moved, moved == 1 ? "" : "s");
    wg_cli_close_store(cli, &st);
    return code;
}
