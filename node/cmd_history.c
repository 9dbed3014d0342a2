/*
 * cmd_history.c - `wings history TABLE ID`: every change, oldest first
 *
 * Each change is shown with its time in the machine's zone (TZ honoured)
 * and its writer: CLERK@NODE when a clerk made it on the page, else the
 * node, by the name this node knows it by (its own, a peer's, a
 * membership certificate's), else the start of its key. --json keeps the
 * contract's keys (hlc, time in UTC, origin, fields, deleted) and adds
 * time_local (ISO 8601 with the offset), node (the name, or null) and
 * clerk (or null).
 */
#include <getopt.h>
#include <string.h>

#include "wg_node.h"

typedef struct hist_ctx {
    wg_cli *cli;
    int first;
    wg_store *st;
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
    char who[WG_ACTOR_MAX + WG_NAME_MAX + 2], node[WG_NAME_MAX + 1];
    char human[32], iso[40];
    wg_cli_writer(h->st, e->origin, e->clerk, who, sizeof who, node,
                  sizeof node);
    wg_cli_local_time((int64_t)((e->hlc >> 16) / 1000), human, iso);
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
        fputs(",\"time_local\":", out);
        wg_json_str(out, iso);
        fputs(",\"node\":", out);
        if (node[0])
            wg_json_str(out, node);
        else
            fputs("null", out);
        fputs(",\"clerk\":", out);
        if (e->clerk[0])
            wg_json_str(out, e->clerk);
        else
            fputs("null", out);
        fputc('}', out);
    } else {
        /* When, in local time, and who: CLERK@NODE, or the node. */
        fprintf(out, "%s  ", human);
        wg_term_put(out, who);
        fprintf(out, "%*s  ", (int)(strlen(who) < 16 ? 16 - strlen(who) : 0),
                "");
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
    hist_ctx h = { cli, 1, st, t };
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
