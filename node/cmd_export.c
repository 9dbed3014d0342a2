/*
 * cmd_export.c - `wings export TABLE [--out FILE] [--excel]`
 *
 * Plain: CSV that import reads on another node (field names, values as
 * stored). --excel: CSV that Excel and WPS open as a clerk expects: a UTF-8
 * byte order mark (else Excel reads the ANSI code page and shows
 * mojibake), CRLF, the Chinese column titles and enum labels, and id
 * numbers, record ids and phone numbers kept as text (a tab before them,
 * which Excel and WPS take as "this is text" and import trims). FILE
 * ending in .xlsx: a workbook written with libxlsxwriter, titles and labels
 * as --excel, every value a string or number cell in a Text format.
 *
 * In every form no cell runs as a formula: CSV cells starting = + - @,
 * tab or CR get an apostrophe (cells.c), which import takes off again; an
 * .xlsx holds them as string cells, which a spreadsheet never evaluates.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <xlsxwriter.h>

#include "wg_csv.h"
#include "wg_life.h"
#include "wg_node.h"

#define ID_TITLE "记录编号"

typedef struct export_ctx {
    FILE *out;
    int excel;
    lxw_worksheet *ws;
    lxw_format *text;
    lxw_row_t row;
    wg_err err;
    wg_rc rc;
} export_ctx;

/* Columns Excel would turn into numbers, losing digits or leading zeros. */
static int keep_as_text(const wg_field *f)
{
    return f->type == WG_FT_IDNUM || f->type == WG_FT_REF ||
           f->type == WG_FT_PHONE || !strcmp(f->name, "certificate_no");
}

/* The text a spreadsheet shows for value V of field F: its Chinese label
 * for an enum value that has one. */
static const char *shown(const wg_field *f, const char *v)
{
    const char *zh = f && v ? wg_schema_enum_title(f, v) : NULL;
    return zh ? zh : v;
}

static wg_rc excel_csv_row(export_ctx *x, const wg_table *t, const char *id,
                           char *const *values)
{
    const char *row[WG_MAX_FIELDS + 1];
    char *own[WG_MAX_FIELDS + 1] = { 0 };
    size_t ncells = 0;
    for (int i = 0; i <= t->nfields; i++) {
        const wg_field *f = i ? &t->fields[i - 1] : NULL;
        if (f && f->meta)
            continue;
        const char *v = i ? shown(f, values[i - 1]) : id;
        char *esc = wg_cell_escape(v);
        if (esc)
            v = esc;
        if (v && v[0] && (!f || keep_as_text(f))) {
            size_t n = strlen(v);
            char *s = wg_xmalloc(n + 2);
            s[0] = '\t';
            memcpy(s + 1, v, n + 1);
            free(esc);
            esc = s;
            v = s;
        }
        own[i] = esc;
        row[ncells++] = v;
    }
    wg_rc rc = wg_csv_write(x->out, row, ncells, &x->err);
    for (int i = 0; i <= t->nfields; i++)
        free(own[i]);
    return rc;
}

static wg_rc xlsx_cell(export_ctx *x, lxw_col_t col, const wg_field *f,
                       const char *v)
{
    lxw_error e;
    if (!v)
        return WG_OK;
    if (f && (f->type == WG_FT_INT || f->type == WG_FT_BOOL))
        e = worksheet_write_number(x->ws, x->row, col, strtod(v, NULL),
                                   x->text);
    else
        e = worksheet_write_string(x->ws, x->row, col, shown(f, v), x->text);
    if (e != LXW_NO_ERROR)
        return wg_err_set(&x->err, WG_ERR_INVALID, "cannot write cell: %s",
                          lxw_strerror(e));
    return WG_OK;
}

static int on_record(void *p, const wg_record *r)
{
    export_ctx *x = p;
    if (x->ws) {
        x->row++;
        x->rc = xlsx_cell(x, 0, NULL, r->id);
        lxw_col_t col = 1;
        for (int i = 0; x->rc == WG_OK && i < r->table->nfields; i++)
            if (!r->table->fields[i].meta)
                x->rc = xlsx_cell(x, col++, &r->table->fields[i],
                                  r->values[i]);
    } else if (x->excel) {
        x->rc = excel_csv_row(x, r->table, r->id, r->values);
    } else {
        x->rc = wg_cli_record_csv(x->out, r, &x->err);
    }
    return x->rc != WG_OK;
}

static wg_rc header(export_ctx *x, const wg_table *t)
{
    const char *h[WG_MAX_FIELDS + 1];
    int n = 0;
    h[n++] = x->excel || x->ws ? ID_TITLE : "id";
    for (int i = 0; i < t->nfields; i++)
        if (!t->fields[i].meta)
            h[n++] = (x->excel || x->ws) && t->fields[i].title
                         ? t->fields[i].title : t->fields[i].name;
    if (x->ws) {
        for (int i = 0; i < n; i++) {
            lxw_error e = worksheet_write_string(x->ws, 0, (lxw_col_t)i, h[i],
                                                 x->text);
            if (e != LXW_NO_ERROR)
                return wg_err_set(&x->err, WG_ERR_INTERNAL, "cannot write "
                                  "header: %s", lxw_strerror(e));
        }
        worksheet_set_column(x->ws, 0, (lxw_col_t)(n - 1), 16, NULL);
        return WG_OK;
    }
    if (x->excel && fwrite("\xef\xbb\xbf", 1, 3, x->out) != 3)
        return wg_err_set(&x->err, WG_ERR_IO, "cannot write");
    return wg_csv_write(x->out, h, (size_t)n, &x->err);
}

static int ends_xlsx(const char *path)
{
    size_t n = path ? strlen(path) : 0;
    return n > 5 && !strcasecmp(path + n - 5, ".xlsx");
}

int cmd_export(wg_cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {
        { "out", required_argument, NULL, 'o' },
        { "excel", no_argument, NULL, 'x' },
        { 0, 0, 0, 0 } };
    const char *path = NULL;
    int help = 0, c, excel = 0;
    while ((c = wg_cli_getopt(cli, argc, argv, "o:", opts, &help)) != -1) {
        switch (c) {
        case 'o': path = optarg; break;
        case 'x': excel = 1; break;
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
    export_ctx x = { .out = cli->out, .excel = excel };
    char *tmp = NULL;
    int fd = -1;
    lxw_workbook *wb = NULL;
    wg_err err = { 0 };
    if (path) {
        /* Written to a fresh file beside the target (never one already
         * there, never through a link), then renamed: never a half file. */
        fd = wg_store_file_create(path, &tmp, &err);
        if (fd < 0) {
            wg_cli_close_store(cli, &st);
            return wg_cli_fail(cli, &err);
        }
        if (ends_xlsx(path)) {
            /* libxlsxwriter writes by name: into the file just made. */
            wb = workbook_new(tmp);
            x.ws = wb ? workbook_add_worksheet(wb, t->name) : NULL;
            if (x.ws) {
                x.text = workbook_add_format(wb);
                format_set_num_format_index(x.text, 49);   /* "@": Text */
            }
        } else {
            int d = dup(fd);
            x.out = d >= 0 ? fdopen(d, "wb") : NULL;
        }
        if (ends_xlsx(path) ? !x.ws : !x.out) {
            wg_store_file_abandon(fd, &tmp);
            wg_cli_close_store(cli, &st);
            return wg_cli_failf(cli, WG_EXIT_INTERNAL, "cannot write '%s': %m",
                                path);
        }
    }
    long n = 0;
    wg_rc rc = header(&x, t);
    if (rc)
        err = x.err;
    if (rc == WG_OK)
        rc = wg_store_list(st, t, NULL, NULL, 0, on_record, &x, &err);
    if (rc == WG_OK && x.rc) {
        rc = x.rc;
        err = x.err;
    }
    if (rc == WG_OK)
        rc = wg_store_count(st, t, &n, &err);
    if (wb) {
        lxw_error e = workbook_close(wb);
        if (rc == WG_OK && e != LXW_NO_ERROR)
            rc = wg_err_set(&err, WG_ERR_IO, "cannot write '%s': %s", path,
                            lxw_strerror(e));
    } else if (path) {
        if ((fflush(x.out) != 0 || ferror(x.out)) && rc == WG_OK)
            rc = wg_err_set(&err, WG_ERR_IO, "cannot write '%s'", path);
        fclose(x.out);
    }
    if (path) {
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
