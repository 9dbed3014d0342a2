/*
 * cmd_review.c - `wings review` and `wings merge TABLE KEEP DUPLICATE`
 *
 * review lists what needs a person's eye: records that hold one unique
 * value twice (a person registered at two offices before they synced),
 * and fields where two offices edited one value concurrently and the
 * last-writer rule kept one (overwritten.c finds them on merge): both
 * values, both writers (CLERK@NODE), the one kept first.
 * merge joins two of them: references move to the one kept, the other is
 * deleted (review.c).
 */
#include <getopt.h>
#include <string.h>

#include "wg_i18n.h"
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

static int one_overwrite(void *vctx, const wg_overwrite *o)
{
    review_ctx *x = vctx;
    FILE *out = x->cli->out;
    char who[2][WG_ACTOR_MAX + WG_NAME_MAX + 2], node[2][WG_NAME_MAX + 1];
    char human[2][32], iso[2][40];
    for (int w = 0; w < 2; w++) {
        wg_cli_writer(x->st, o->origin[w], o->clerk[w], who[w], sizeof who[w],
                      node[w], sizeof node[w]);
        wg_cli_local_time((int64_t)((o->hlc[w] >> 16) / 1000), human[w],
                          iso[w]);
    }
    if (x->cli->json) {
        fputs(x->n ? "," : "[", out);
        fputs("{\"kind\":\"overwritten\",\"table\":", out);
        wg_json_str(out, o->table->name);
        fputs(",\"ids\":[", out);
        wg_json_str(out, o->id);
        fputs("],\"fields\":{", out);
        wg_json_str(out, o->field);
        fputc(':', out);
        if (o->value[0])
            wg_json_str(out, o->value[0]);
        else
            fputs("null", out);
        fputs("},\"edits\":[", out);
        for (int w = 0; w < 2; w++) {
            fputs(w ? ",{\"kept\":false" : "{\"kept\":true", out);
            fputs(",\"value\":", out);
            if (o->value[w])
                wg_json_str(out, o->value[w]);
            else
                fputs("null", out);
            char hex[WG_KEY_HEX_CHARS + 1];
            wg_hex_encode(hex, o->origin[w], WG_SIGN_PK_BYTES);
            fprintf(out, ",\"hlc\":%llu,\"time_local\":",
                    (unsigned long long)o->hlc[w]);
            wg_json_str(out, iso[w]);
            fputs(",\"origin\":", out);
            wg_json_str(out, hex);
            fputs(",\"node\":", out);
            if (node[w][0])
                wg_json_str(out, node[w]);
            else
                fputs("null", out);
            fputs(",\"clerk\":", out);
            if (o->clerk[w])
                wg_json_str(out, o->clerk[w]);
            else
                fputs("null", out);
            fputs(",\"by\":", out);
            wg_json_str(out, who[w]);
            fputc('}', out);
        }
        fputs("]}", out);
    } else {
        fprintf(out, _("%s %s: %s edited at two places at once; kept:\n"),
                o->table->name, o->id, o->field);
        for (int w = 0; w < 2; w++) {
            if (w)
                fputs(_("  overwritten:\n"), out);
            fputs("    ", out);
            wg_term_put(out, o->value[w] ? o->value[w] : "");
            fprintf(out, "  %s  ", human[w]);
            wg_term_put(out, who[w]);
            fputc('\n', out);
        }
        fprintf(out, _("  to keep the other value: wings update %s %s "
                       "%s=VALUE\n"), o->table->name, o->id, o->field);
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
    if (rc == WG_OK)
        rc = wg_store_overwritten(st, one_overwrite, &x, &err);
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
