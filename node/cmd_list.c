/*
 * cmd_list.c - `wings list TABLE [--where FIELD=VALUE]... [--search TEXT]
 * [--sort FIELD] [--limit N] [--csv]`
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wg_node.h"

typedef struct list_ctx {
    wg_cli *cli;
    int csv;
    int tty;           /* stdout is a terminal */
    int first;
    wg_tabout *tab;
    wg_err err;
    wg_rc rc;
} list_ctx;

static int on_record(void *p, const wg_record *r)
{
    list_ctx *l = p;
    if (l->cli->json) {
        fputs(l->first ? "[" : ",", l->cli->out);
        wg_cli_record_json(l->cli->out, r);
    } else if (l->csv && l->tty) {
        /* CSV on a terminal: the cells made safe to show, too. */
        wg_record safe = *r;
        char *own[WG_MAX_FIELDS] = { 0 };
        for (int i = 0; i < r->table->nfields; i++)
            if (r->values[i])
                safe.values[i] = own[i] = wg_term_safe(r->values[i]);
        l->rc = wg_cli_record_csv(l->cli->out, &safe, &l->err);
        for (int i = 0; i < r->table->nfields; i++)
            free(own[i]);
        if (l->rc)
            return 1;
    } else if (l->csv) {
        l->rc = wg_cli_record_csv(l->cli->out, r, &l->err);
        if (l->rc)
            return 1;
    } else {
        const char *row[WG_MAX_FIELDS + 1];
        char cells[WG_MAX_FIELDS][32];
        int n = 0;
        row[n++] = r->id;
        for (int i = 0; i < r->table->nfields; i++)
            if (!r->table->fields[i].meta)
                row[n++] = wg_cli_cell(r, i, cells[i]);
        wg_tabout_row(l->tab, row);
    }
    l->first = 0;
    return 0;
}

int cmd_list(wg_cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {
        { "where", required_argument, NULL, 'w' },
        { "csv", no_argument, NULL, 'c' },
        { "search", required_argument, NULL, 's' },
        { "sort", required_argument, NULL, 'o' },
        { "limit", required_argument, NULL, 'l' },
        { "offset", required_argument, NULL, 'f' },
        { 0, 0, 0, 0 } };
    wg_list_opts o = { 0 };
    const char *names[WG_MAX_FIELDS + 1], *values[WG_MAX_FIELDS + 1];
    int nwhere = 0, help = 0, c;
    list_ctx l = { .cli = cli, .first = 1 };
    while ((c = wg_cli_getopt(cli, argc, argv, "", opts, &help)) != -1) {
        switch (c) {
        case 'w':
            if (nwhere > WG_MAX_FIELDS)
                return wg_cli_usage(cli, "list", "too many --where");
            if (wg_cli_assignments(cli, "list", 1, &optarg, &names[nwhere],
                                   &values[nwhere], 1) < 0)
                return WG_EXIT_USAGE;
            nwhere++;
            break;
        case 'c': l.csv = 1; break;
        case 's': o.search = optarg; break;
        case 'o':
            o.desc = optarg[0] == '-';
            o.sort = optarg + o.desc;
            break;
        case 'l':
        case 'f': {
            char *end;
            long v = strtol(optarg, &end, 10);
            if (*optarg < '0' || *optarg > '9' || *end || v < 0)
                return wg_cli_usage(cli, "list", "--%s needs a whole number",
                                    c == 'l' ? "limit" : "offset");
            *(c == 'l' ? &o.limit : &o.offset) = v;
            break;
        }
        case 'h': return wg_cli_help(cli, "list", cli->out);
        default: return WG_EXIT_USAGE;
        }
    }
    if (argc - optind != 1)
        return wg_cli_usage(cli, "list", "list needs TABLE");
    const wg_table *t = wg_cli_table(cli, "list", argv[optind]);
    if (!t)
        return WG_EXIT_NOTFOUND;
    wg_store *st = NULL;
    int code = wg_cli_open_store(cli, &st);
    if (code)
        return code;
    if (!cli->json && !l.csv) {
        const char *head[WG_MAX_FIELDS + 1];
        int n = 0;
        head[n++] = "id";
        for (int i = 0; i < t->nfields; i++)
            if (!t->fields[i].meta)
                head[n++] = t->fields[i].name;
        l.tab = wg_tabout_new(n);
        wg_tabout_row(l.tab, head);
    }
    wg_err err = { 0 };
    l.tty = isatty(fileno(cli->out));
    if (l.csv && (l.rc = wg_cli_record_csv_header(cli->out, t, &l.err)))
        err = l.err;
    o.names = names;
    o.values = values;
    o.n = nwhere;
    wg_rc rc = l.rc ? l.rc : wg_store_list_opts(st, t, &o, on_record, &l, &err);
    if (rc == WG_OK && l.rc) {
        rc = l.rc;
        err = l.err;
    }
    if (rc) {
        code = wg_cli_fail(cli, &err);
    } else if (cli->json) {
        fputs(l.first ? "[]\n" : "]\n", cli->out);
    } else if (l.tab) {
        wg_tabout_print(l.tab, cli->out);
    }
    wg_tabout_destroy(&l.tab);
    wg_cli_close_store(cli, &st);
    return code;
}
