/*
 * cmd_history.c - `wings history TABLE ID`: every change, oldest first
 */
#include <getopt.h>
#include <string.h>

#include "wg_node.h"

typedef struct hist_ctx {
    wg_cli *cli;
    int first;
    const wg_node_info *self;
    const wg_table *table;
} hist_ctx;

static int numeric(const wg_table *t, const char *name)
{
    int i = wg_schema_field_index(t, name);
    return i >= 0 && (t->fields[i].type == WG_FT_INT ||
                      t->fields[i].type == WG_FT_BOOL);
}

static int on_entry(void *p, const wg_history_entry *e)
{
    hist_ctx *h = p;
    FILE *out = h->cli->out;
    if (h->cli->json) {
        fprintf(out, "%s{\"hlc\":%llu,\"time\":", h->first ? "[" : ",",
                (unsigned long long)e->hlc);
        wg_json_str(out, e->when);
        fputs(",\"origin\":", out);
        wg_json_str(out, e->origin_hex);
        fputs(",\"fields\":{", out);
        for (int i = 0; i < e->nfields; i++) {
            if (i)
                fputc(',', out);
            wg_json_str(out, e->names[i]);
            fputc(':', out);
            if (!e->values[i])
                fputs("null", out);
            else if (numeric(h->table, e->names[i]))
                fputs(e->values[i], out);
            else
                wg_json_str(out, e->values[i]);
        }
        fputc('}', out);
        if (e->deleted == 1)
            fputs(",\"deleted\":true", out);
        else if (e->deleted == 0)
            fputs(",\"deleted\":false", out);
        fputc('}', out);
    } else {
        /* Which node: this one by name, any other by its key's start. */
        if (!strcmp(e->origin_hex, h->self->key_hex))
            fprintf(out, "%s  %-16s  ", e->when, h->self->name);
        else
            fprintf(out, "%s  %.16s  ", e->when, e->origin_hex);
        if (e->deleted == 1)
            fputs("deleted", out);
        else if (e->deleted == 0)
            fputs("restored", out);
        for (int i = 0; i < e->nfields; i++) {
            fprintf(out, "%s%s=", i || e->deleted >= 0 ? " " : "",
                    e->names[i]);
            wg_term_put(out, e->values[i]);  /* values may come from peers */
        }
        fputc('\n', out);
    }
    h->first = 0;
    return 0;
}

int cmd_history(wg_cli *cli, int argc, char **argv)
{
    int help = 0, c;
    while ((c = wg_cli_getopt(cli, argc, argv, "", NULL, &help)) != -1) {
        if (c == 'h')
            return wg_cli_help(cli, "history", cli->out);
        return WG_EXIT_USAGE;
    }
    if (argc - optind != 2)
        return wg_cli_usage(cli, "history", "history needs TABLE and ID");
    const wg_table *t = wg_cli_table(cli, "history", argv[optind]);
    if (!t)
        return WG_EXIT_NOTFOUND;
    wg_store *st = NULL;
    int code = wg_cli_open_store(cli, &st);
    if (code)
        return code;
    wg_err err = { 0 };
    hist_ctx h = { cli, 1, wg_store_info(st), t };
    char id[WG_ID_HEX_CHARS + 1];
    if ((code = wg_cli_record_id(cli, st, t, argv[optind + 1], id))) {
        wg_cli_close_store(cli, &st);
        return code;
    }
    wg_rc rc = wg_store_history(st, t, id, on_entry, &h, &err);
    if (rc)
        code = wg_cli_fail(cli, &err);
    else if (cli->json)
        fputs("]\n", cli->out);
    wg_cli_close_store(cli, &st);
    return code;
}
