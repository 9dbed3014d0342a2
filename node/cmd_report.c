/*
 * cmd_report.c - `wings report`: the federation's figures as a table, CSV,
 * JSON, a workbook (--xlsx) or a chart (--svg)
 *
 * The figures and their definitions are store/'s (wg_store.h, "reports");
 * this file only lays them out. Names of areas and enum labels come from
 * records and peers: they are data, escaped for every output, never markup.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xlsxwriter.h>

#include "wg_csv.h"
#include "wg_i18n.h"
#include "wg_node.h"
#include "wg_validate.h"

/* ---- language ---------------------------------------------------------------- */

/* The language in use: the process's locale, or the caller's when the
 * daemon runs the command for another process or for the web page. */
static int chinese(void)
{
    return !strcmp(wg_i18n_current(), "zh_CN");
}

/* ---- columns ----------------------------------------------------------------- */

enum { C_PERSONS, C_WA, C_WAE, C_RATE, C_EMPLOYED, C_TRAINED, C_CERTIFIED,
       C_PLACEMENTS, C_MEDIAN, C_NEW_TRAINED, C_NEW_PLACED, C_ENDED, C_N };

static const struct {
    const char *name, *zh;
} figures[C_N] = {
    { "persons", "登记人数" },
    { "working_age", "就业年龄段人数" },
    { "working_age_employed", "就业年龄段就业人数" },
    { "employment_rate", "就业率(%)" },
    { "employed", "就业人数" },
    { "trained", "培训人数" },
    { "certified", "取证人数" },
    { "placements", "在岗岗位数" },
    { "median_monthly_income", "月收入中位数(元)" },
    { "newly_trained", "新增培训人数" },
    { "newly_placed", "新增就业人数" },
    { "placements_ended", "离岗数" },
};

static const char *const dim_zh[WG_DIM_COUNT] = {
    "县区", "乡镇", "性别", "残疾类别", "残疾等级", "城乡", "就业形式",
    "培训类别" };

static int ncols_of(const wg_report *r)
{
    return r->q.from[0] ? C_N : C_NEW_TRAINED;
}

/* The figure C of row R as text ("" for no median). */
static void figure(const wg_report_row *r, int c, char out[32])
{
    long v = 0;
    switch (c) {
    case C_PERSONS: v = r->persons; break;
    case C_WA: v = r->working_age; break;
    case C_WAE: v = r->working_age_employed; break;
    case C_EMPLOYED: v = r->employed; break;
    case C_TRAINED: v = r->trained; break;
    case C_CERTIFIED: v = r->certified; break;
    case C_PLACEMENTS: v = r->placements; break;
    case C_NEW_TRAINED: v = r->newly_trained; break;
    case C_NEW_PLACED: v = r->newly_placed; break;
    case C_ENDED: v = r->placements_ended; break;
    case C_RATE: snprintf(out, 32, "%.2f", r->rate); return;
    case C_MEDIAN:
        if (!r->has_median)
            out[0] = 0;
        else if (r->median == (double)(long long)r->median)
            snprintf(out, 32, "%lld", (long long)r->median);
        else {
            /* to the fen (half a fen rounds), no trailing zero: 2800.5 */
            snprintf(out, 32, "%.2f", r->median);
            size_t n = strlen(out);
            if (out[n - 1] == '0')
                out[n - 1] = 0;
        }
        return;
    }
    snprintf(out, 32, "%ld", v);
}

static double figure_num(const wg_report_row *r, int c)
{
    char v[32];
    figure(r, c, v);
    return strtod(v, NULL);
}

/* ---- keys and names ---------------------------------------------------------- */

typedef struct names {
    char (*code)[WG_COUNTY_CHARS + 1];
    char (*name)[WG_AREA_NAME_MAX + 1];
    size_t n, cap;
} names;

static int collect_name(void *ctx, const char *code, const char *name)
{
    names *nm = ctx;
    if (nm->n == nm->cap) {
        nm->cap = nm->cap ? nm->cap * 2 : 64;
        nm->code = wg_xrealloc(nm->code, nm->cap * sizeof *nm->code);
        nm->name = wg_xrealloc(nm->name, nm->cap * sizeof *nm->name);
    }
    snprintf(nm->code[nm->n], sizeof nm->code[nm->n], "%s", code);
    snprintf(nm->name[nm->n], sizeof nm->name[nm->n], "%s", name);
    nm->n++;
    return 0;
}

/* Sorted by code (wg_store_areas), so a binary search. */
static const char *name_of(const names *nm, const char *code)
{
    size_t lo = 0, hi = nm->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int d = strcmp(nm->code[mid], code);
        if (!d)
            return nm->name[mid];
        if (d < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

typedef struct ctx {
    wg_cli *cli;
    wg_store *st;
    names nm;
    int zh;
} ctx;

static int is_total(const wg_report_row *r, int d)
{
    return (r->total >> d) & 1;
}

/* The key of dimension D of row R for people: a label under Chinese, the
 * total and the empty row spelled out. */
static const char *key_text(const ctx *x, const wg_report *rep,
                            const wg_report_row *r, int d)
{
    if (is_total(r, d))
        return x->zh ? "合计" : "total";
    const char *k = r->key[d];
    if (!k[0])
        return x->zh ? "（无）" : "(none)";
    wg_report_dim dim = rep->q.dims[d];
    if (dim == WG_DIM_RURAL)
        return !strcmp(k, "1") ? (x->zh ? "农村" : "rural")
                               : (x->zh ? "城镇" : "urban");
    if (x->zh) {
        static const char *const field[WG_DIM_COUNT] = {
            NULL, NULL, "gender", "disability_category", NULL, NULL,
            "employment_type", "category" };
        const char *table = dim == WG_DIM_CATEGORY ? "training"
                            : dim == WG_DIM_EMPLOYMENT_TYPE ? "placement"
                                                            : "person";
        if (field[dim]) {
            const wg_table *t = wg_schema_table(table);
            int fi = t ? wg_schema_field_index(t, field[dim]) : -1;
            const char *zh = fi >= 0 ? wg_schema_enum_title(&t->fields[fi], k)
                                     : NULL;
            if (zh)
                return zh;
        }
    }
    return k;
}

/* The name shown for row R (county rows), or NULL. */
static const char *row_name(const ctx *x, const wg_report *rep,
                            const wg_report_row *r)
{
    for (int d = 0; d < rep->q.ndims; d++)
        if (rep->q.dims[d] == WG_DIM_COUNTY && !is_total(r, d))
            return name_of(&x->nm, r->key[d]);
    return NULL;
}

static int has_county(const wg_report *rep)
{
    for (int d = 0; d < rep->q.ndims; d++)
        if (rep->q.dims[d] == WG_DIM_COUNTY)
            return 1;
    return 0;
}

/* Copy S into OUT with control characters replaced: nothing from a record
 * reaches a terminal as an escape. */
static void clean(const char *s, char *out, size_t cap)
{
    size_t n = 0;
    for (; *s && n + 1 < cap; s++)
        out[n++] = (unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s;
    out[n] = 0;
}

/* ---- headers ----------------------------------------------------------------- */

/* The header cells of REP into H (English field names, or Chinese titles
 * when ZH); returns the count. */
static int header(const wg_report *rep, int zh, const char **h)
{
    int n = 0;
    for (int d = 0; d < rep->q.ndims; d++)
        h[n++] = zh ? dim_zh[rep->q.dims[d]]
                    : wg_report_dim_name(rep->q.dims[d]);
    if (has_county(rep))
        h[n++] = zh ? "名称" : "name";
    for (int c = 0; c < ncols_of(rep); c++)
        h[n++] = zh ? figures[c].zh : figures[c].name;
    return n;
}

#define MAXCOLS (WG_REPORT_MAX_DIMS + 1 + C_N)

/* ---- text, CSV and JSON ------------------------------------------------------- */

static int print_text(ctx *x, const wg_report *rep)
{
    FILE *out = x->cli->out;
    fprintf(out, x->zh ? "截至 %s（%s），就业年龄段 %d–%d 岁\n"
                       : "as of %s (%s), working age %d-%d\n",
            rep->date,
            rep->q.as_of[0] ? (x->zh ? "按记录日期" : "by the records' dates")
                            : (x->zh ? "记录现状" : "the records as they are"),
            rep->q.age_min, rep->q.age_max);
    if (rep->q.from[0])
        fprintf(out, x->zh ? "期间 %s 至 %s\n" : "period %s to %s\n",
                rep->q.from, rep->q.to);
    const char *h[MAXCOLS];
    int nc = header(rep, x->zh, h);
    wg_tabout *t = wg_tabout_new(nc);
    wg_tabout_row(t, h);
    char (*cellbuf)[WG_REPORT_KEY_MAX] = wg_xmalloc(MAXCOLS *
                                                    sizeof *cellbuf);
    for (size_t i = 0; i < rep->n; i++) {
        const wg_report_row *r = &rep->rows[i];
        const char *row[MAXCOLS];
        int k = 0;
        for (int d = 0; d < rep->q.ndims; d++, k++) {
            clean(key_text(x, rep, r, d), cellbuf[k], sizeof cellbuf[k]);
            row[k] = cellbuf[k];
        }
        if (has_county(rep)) {
            const char *nm = row_name(x, rep, r);
            clean(nm ? nm : "-", cellbuf[k], sizeof cellbuf[k]);
            row[k] = cellbuf[k];
            k++;
        }
        for (int c = 0; c < ncols_of(rep); c++, k++) {
            figure(r, c, cellbuf[k]);
            if (!cellbuf[k][0])   /* no median: a dash, for the eye */
                snprintf(cellbuf[k], sizeof cellbuf[k], "-");
            row[k] = cellbuf[k];
        }
        wg_tabout_row(t, row);
    }
    free(cellbuf);
    wg_tabout_print(t, out);
    wg_tabout_destroy(&t);
    return WG_EXIT_OK;
}

static int print_csv(ctx *x, const wg_report *rep)
{
    const char *h[MAXCOLS];
    int nc = header(rep, 0, h);
    wg_err err = { 0 };
    wg_rc rc = wg_csv_write(x->cli->out, h, (size_t)nc, &err);
    char v[C_N][32];
    for (size_t i = 0; rc == WG_OK && i < rep->n; i++) {
        const wg_report_row *r = &rep->rows[i];
        const char *row[MAXCOLS];
        int k = 0;
        for (int d = 0; d < rep->q.ndims; d++)
            row[k++] = is_total(r, d) ? "total" : r->key[d];
        if (has_county(rep))
            row[k++] = row_name(x, rep, r);
        for (int c = 0; c < ncols_of(rep); c++) {
            figure(r, c, v[c]);
            row[k++] = v[c];
        }
        rc = wg_csv_write(x->cli->out, row, (size_t)nc, &err);
    }
    return rc ? wg_cli_fail(x->cli, &err) : WG_EXIT_OK;
}

static int print_json(ctx *x, const wg_report *rep)
{
    FILE *out = x->cli->out;
    fputc('[', out);
    for (size_t i = 0; i < rep->n; i++) {
        const wg_report_row *r = &rep->rows[i];
        fputs(i ? ",{" : "{", out);
        for (int d = 0; d < rep->q.ndims; d++) {
            fprintf(out, "%s\"%s\":", d ? "," : "",
                    wg_report_dim_name(rep->q.dims[d]));
            if (is_total(r, d))
                fputs("\"total\"", out);
            else if (!r->key[d][0])
                fputs("null", out);
            else
                wg_json_str(out, r->key[d]);
        }
        if (has_county(rep)) {
            const char *nm = row_name(x, rep, r);
            fputs(",\"name\":", out);
            if (nm)
                wg_json_str(out, nm);
            else
                fputs("null", out);
        }
        for (int c = 0; c < ncols_of(rep); c++) {
            char v[32];
            figure(r, c, v);
            fprintf(out, ",\"%s\":%s", figures[c].name, v[0] ? v : "null");
        }
        fputc('}', out);
    }
    fputs("]\n", out);
    return WG_EXIT_OK;
}

/* ---- files ---------------------------------------------------------------------- */

/* Open a fresh temporary file beside PATH (O_EXCL, O_NOFOLLOW: never an
 * existing file or a planted link); its name into TMP. */
static FILE *open_beside(const char *path, char *tmp, size_t cap)
{
    for (int tries = 0; tries < 8; tries++) {
        uint8_t rnd[6];
        char hex[13];
        wg_random(rnd, sizeof rnd);
        wg_hex_encode(hex, rnd, sizeof rnd);
        if (snprintf(tmp, cap, "%s.%s.tmp", path, hex) >= (int)cap) {
            errno = ENAMETOOLONG;
            return NULL;
        }
        int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
                               O_CLOEXEC, 0644);
        if (fd >= 0) {
            FILE *f = fdopen(fd, "w");
            if (!f) {
                close(fd);
                unlink(tmp);
            }
            return f;
        }
        if (errno != EEXIST)
            return NULL;
    }
    return NULL;
}

/* Flush, sync and close F, then move TMP over PATH; on failure TMP goes. */
static int commit_file(wg_cli *cli, FILE *f, const char *tmp,
                       const char *path)
{
    int bad = fflush(f) != 0 || ferror(f) || fsync(fileno(f)) != 0;
    if (fclose(f) != 0)
        bad = 1;
    if (bad || rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return wg_cli_failf(cli, WG_EXIT_INTERNAL, "cannot write '%s': %s",
                            path, strerror(e));
    }
    return WG_EXIT_OK;
}

/* ---- the chart ------------------------------------------------------------------ */

static void xml_text(FILE *f, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&apos;", f); break;
        default:
            if (*p < 0x20 || *p == 0x7f)
                fputc('?', f);   /* not allowed in XML 1.0 */
            else
                fputc(*p, f);
        }
    }
}

/* Thousands separated: 40050 -> "40,050". */
static void grouped(long v, char out[32])
{
    char d[32];
    int n = snprintf(d, sizeof d, "%ld", v < 0 ? -v : v), k = 0;
    if (v < 0)
        out[k++] = '-';
    for (int i = 0; i < n; i++) {
        if (i && (n - i) % 3 == 0)
            out[k++] = ',';
        out[k++] = d[i];
    }
    out[k] = 0;
}

/* Rough width in pixels of S at 13 px: CJK about a full em. */
static int text_px(const char *s)
{
    int w = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p < 0x80)
            w += 7;
        else if (*p >= 0xc0)
            w += 13;
    }
    return w;
}

static int by_rate(const void *a, const void *b)
{
    const wg_report_row *x = *(const wg_report_row *const *)a;
    const wg_report_row *y = *(const wg_report_row *const *)b;
    if (x->rate != y->rate)
        return x->rate < y->rate ? 1 : -1;
    return strcmp(x->key[0], y->key[0]);
}

static int write_svg(ctx *x, const wg_report *rep, const char *path)
{
    size_t n = rep->n - 1;   /* the areas; the last row is the total */
    const wg_report_row **order = wg_xmalloc((n + 1) * sizeof *order);
    for (size_t i = 0; i < n; i++)
        order[i] = &rep->rows[i];
    qsort(order, n, sizeof *order, by_rate);
    order[n] = &rep->grand;

    int label_w = 120;
    char (*labels)[WG_REPORT_KEY_MAX + WG_AREA_NAME_MAX + 8] =
        wg_xmalloc((n + 1) * sizeof *labels);
    for (size_t i = 0; i <= n; i++) {
        const wg_report_row *r = order[i];
        const char *nm = i < n ? row_name(x, rep, r) : NULL;
        snprintf(labels[i], sizeof labels[i], "%s",
                 nm ? nm : key_text(x, rep, r, 0));
        int w = text_px(labels[i]) + 16;
        label_w = w > label_w ? w : label_w;
    }
    if (label_w > 360)
        label_w = 360;
    const int bar_w = 400, row_h = 24, top = 78, note_w = 210;
    int width = label_w + bar_w + note_w + 20;
    int rows_h = (int)(n + 1) * row_h + 8;
    int height = top + rows_h + 76;

    char tmp[PATH_MAX + 64];
    FILE *f = open_beside(path, tmp, sizeof tmp);
    if (!f) {
        free(order);
        free(labels);
        return wg_cli_failf(x->cli, WG_EXIT_INTERNAL, "cannot write '%s': %s",
                            path, strerror(errno));
    }
    const wg_node_info *me = wg_store_info(x->st);
    const char *dim = wg_report_dim_name(rep->q.dims[0]);
    char title[256], caption[512], defn[256];
    if (x->zh) {
        snprintf(title, sizeof title, "就业年龄段（%d–%d岁）持证残疾人就业率，按%s",
                 rep->q.age_min, rep->q.age_max, dim_zh[rep->q.dims[0]]);
        snprintf(caption, sizeof caption, "截至 %s。数据来源：节点 %s（公钥 %.8s…）",
                 rep->date, me->name, me->key_hex);
        snprintf(defn, sizeof defn, "就业率 = 就业年龄段就业人数 ÷ 就业年龄段人数；"
                 "n = 就业年龄段人数");
    } else {
        snprintf(title, sizeof title, "Employment rate of persons of working "
                 "age (%d-%d), by %s", rep->q.age_min, rep->q.age_max, dim);
        snprintf(caption, sizeof caption, "As of %s. Source: node %s "
                 "(key %.8s...)", rep->date, me->name, me->key_hex);
        snprintf(defn, sizeof defn, "Rate = employed persons of working age "
                 "/ persons of working age; n = persons of working age");
    }
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
               "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
               "height=\"%d\" viewBox=\"0 0 %d %d\" "
               "font-family=\"'Noto Sans CJK SC', 'Noto Sans', sans-serif\" "
               "font-size=\"13\">\n<title>", width, height, width, height);
    xml_text(f, title);
    fputs("</title>\n<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n",
          f);
    fprintf(f, "<text x=\"10\" y=\"26\" font-size=\"16\" font-weight=\"bold\">");
    xml_text(f, title);
    fputs("</text>\n", f);
    /* The scale: 0-100 %, light dashed lines a grey printer keeps. */
    for (int p = 0; p <= 100; p += 25) {
        int gx = label_w + p * bar_w / 100;
        fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" "
                   "stroke=\"#999999\" stroke-dasharray=\"3,3\"/>"
                   "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" "
                   "fill=\"#000000\">%d%%</text>\n",
                gx, top - 6, gx, top + rows_h, gx, top - 12, p);
    }
    for (size_t i = 0; i <= n; i++) {
        const wg_report_row *r = order[i];
        int y = top + (int)i * row_h + (i == n ? 8 : 0);
        int bw = (int)(r->rate * bar_w / 100.0 + 0.5);
        char e[32], w[32];
        grouped(r->working_age_employed, e);
        grouped(r->working_age, w);
        fprintf(f, "<g class=\"%s\"", i < n ? "bar" : "total-bar");
        if (i < n) {
            fputs(" data-key=\"", f);
            xml_text(f, r->key[0]);
            fputc('"', f);
        }
        fputs(">", f);
        fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\"%s>",
                label_w - 8, y + 16, i == n ? " font-weight=\"bold\"" : "");
        xml_text(f, labels[i]);
        fprintf(f, "</text><rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" "
                   "fill=\"%s\" stroke=\"#000000\" stroke-width=\"0.6\"/>",
                label_w, y + 4, bw, row_h - 8,
                i < n ? "#595959" : "#d9d9d9");
        fprintf(f, "<text x=\"%d\" y=\"%d\" class=\"count\">%.2f%% "
                   "(%s / n = %s)</text></g>\n",
                label_w + bw + 6, y + 16, r->rate, e, w);
    }
    int cy = top + rows_h + 24;
    fprintf(f, "<text x=\"10\" y=\"%d\" font-size=\"12\">", cy);
    xml_text(f, caption);
    fprintf(f, "</text>\n<text x=\"10\" y=\"%d\" font-size=\"12\">", cy + 18);
    xml_text(f, defn);
    fputs("</text>\n</svg>\n", f);
    free(order);
    free(labels);
    return commit_file(x->cli, f, tmp, path);
}

/* ---- the workbook ------------------------------------------------------------- */

static const char *const definitions_en[] = {
    "Definitions:",
    "persons: live person records (with --as-of: registered on or before the "
    "report date).",
    "working_age: persons aged MIN-MAX in full years on the report date.",
    "employed: persons holding an active placement on the report date.",
    "employment_rate: working_age_employed / working_age, in percent, two "
    "decimals.",
    "trained / certified: persons with a training completed or certified.",
    "Each person is counted once in every table; the total row is the sum of "
    "the rows.",
    NULL };
static const char *const definitions_zh[] = {
    "指标说明：",
    "登记人数：现存持证残疾人记录（指定截至日期时为该日及以前登记者）。",
    "就业年龄段人数：报告日期时周岁年龄在 MIN-MAX 岁之间的人数。",
    "就业人数：报告日期时有在岗就业记录的人数。",
    "就业率：就业年龄段就业人数 ÷ 就业年龄段人数 × 100%，保留两位小数。",
    "培训人数／取证人数：培训已结业或取得证书的人数。",
    "每张表中每人只计一次；合计行等于各行之和。",
    NULL };

static int sheet_of(ctx *x, lxw_workbook *wb, const wg_report *rep,
                    lxw_format *bold, lxw_format *two)
{
    char sheet[32];
    snprintf(sheet, sizeof sheet, "%s", wg_report_dim_name(rep->q.dims[0]));
    if (rep->q.ndims == 2) {
        snprintf(sheet, sizeof sheet, "%.15s,%.15s",
                 wg_report_dim_name(rep->q.dims[0]),
                 wg_report_dim_name(rep->q.dims[1]));
    }
    lxw_worksheet *ws = workbook_add_worksheet(wb, sheet);
    if (!ws)
        return -1;
    const wg_node_info *me = wg_store_info(x->st);
    char line[512];
    snprintf(line, sizeof line, x->zh ? "截至 %s；就业年龄段 %d–%d 岁；数据来源：节点 %s"
                                      : "As of %s; working age %d-%d; "
                                        "source: node %s",
             rep->date, rep->q.age_min, rep->q.age_max, me->name);
    worksheet_write_string(ws, 0, 0, line, bold);
    lxw_row_t row = 1;
    if (rep->q.from[0]) {
        snprintf(line, sizeof line, x->zh ? "期间 %s 至 %s" : "Period %s to %s",
                 rep->q.from, rep->q.to);
        worksheet_write_string(ws, row++, 0, line, NULL);
    }
    row++;
    const char *h[MAXCOLS];
    int nc = header(rep, 0, h);
    for (int c = 0; c < nc; c++)
        worksheet_write_string(ws, row, (lxw_col_t)c, h[c], bold);
    row++;
    for (size_t i = 0; i < rep->n; i++, row++) {
        const wg_report_row *r = &rep->rows[i];
        int k = 0;
        for (int d = 0; d < rep->q.ndims; d++, k++)
            worksheet_write_string(ws, row, (lxw_col_t)k,
                                   is_total(r, d) ? "total" : r->key[d],
                                   NULL);
        if (has_county(rep)) {
            const char *nm = row_name(x, rep, r);
            if (nm)
                worksheet_write_string(ws, row, (lxw_col_t)k, nm, NULL);
            k++;
        }
        for (int c = 0; c < ncols_of(rep); c++, k++) {
            if (c == C_MEDIAN && !r->has_median)
                continue;
            worksheet_write_number(ws, row, (lxw_col_t)k, figure_num(r, c),
                                   c == C_RATE ? two : NULL);
        }
    }
    row++;
    const char *const *def = x->zh ? definitions_zh : definitions_en;
    for (int i = 0; def[i]; i++, row++) {
        /* the working-age line names the ages this report used */
        char l[512];
        const char *at = strstr(def[i], "MIN-MAX");
        if (at)
            snprintf(l, sizeof l, "%.*s%d-%d%s", (int)(at - def[i]), def[i],
                     rep->q.age_min, rep->q.age_max, at + 7);
        else
            snprintf(l, sizeof l, "%s", def[i]);
        worksheet_write_string(ws, row, 0, l, i ? NULL : bold);
    }
    worksheet_set_column(ws, 0, (lxw_col_t)(nc - 1), 14, NULL);
    return 0;
}

/* Write the tables REPS into the workbook PATH. libxlsxwriter names its
 * own output file, so it writes inside a fresh private folder (mkdtemp,
 * mode 0700) made beside PATH, and the result is renamed over PATH. */
static int write_xlsx(ctx *x, const wg_report *reps, int nreps,
                      const char *path)
{
    char dirbuf[PATH_MAX], tmpdir[PATH_MAX + 32], file[PATH_MAX + 64];
    snprintf(dirbuf, sizeof dirbuf, "%s", path);
    const char *dir = dirname(dirbuf);
    if (snprintf(tmpdir, sizeof tmpdir, "%s/.wings-xlsx-XXXXXX", dir) >=
            (int)sizeof tmpdir || !mkdtemp(tmpdir))
        return wg_cli_failf(x->cli, WG_EXIT_INTERNAL, "cannot write '%s': %s",
                            path, strerror(errno));
    snprintf(file, sizeof file, "%s/report.xlsx", tmpdir);
    lxw_workbook *wb = workbook_new(file);
    int code = WG_EXIT_OK;
    if (!wb) {
        code = wg_cli_failf(x->cli, WG_EXIT_INTERNAL, "cannot write '%s'",
                            path);
    } else {
        lxw_format *bold = workbook_add_format(wb);
        format_set_bold(bold);
        lxw_format *two = workbook_add_format(wb);
        format_set_num_format(two, "0.00");
        for (int i = 0; i < nreps; i++)
            if (sheet_of(x, wb, &reps[i], bold, two) != 0)
                code = WG_EXIT_INTERNAL;
        lxw_error e = workbook_close(wb);
        if (e != LXW_NO_ERROR || code)
            code = wg_cli_failf(x->cli, WG_EXIT_INTERNAL,
                                "cannot write '%s': %s", path,
                                lxw_strerror(e));
        else if (rename(file, path) != 0)
            code = wg_cli_failf(x->cli, WG_EXIT_INTERNAL,
                                "cannot write '%s': %s", path,
                                strerror(errno));
    }
    unlink(file);
    rmdir(tmpdir);
    return code;
}

/* ---- the command -------------------------------------------------------------- */

static int parse_date(wg_cli *cli, const char *opt, const char *v, char *out)
{
    if (strlen(v) != WG_REPORT_DATE_CHARS ||
        !wg_validate_date(v, NULL, NULL, NULL))
        return wg_cli_usage(cli, "report", "%s takes a date YYYY-MM-DD, not "
                            "'%.32s'", opt, v);
    memcpy(out, v, WG_REPORT_DATE_CHARS + 1);
    return 0;
}

static int parse_by(wg_cli *cli, const char *v, wg_report_query *q)
{
    char buf[128];
    if (strlen(v) >= sizeof buf)
        return wg_cli_usage(cli, "report", "--by: too long");
    snprintf(buf, sizeof buf, "%s", v);
    q->ndims = 0;
    char *save = NULL;
    for (char *t = strtok_r(buf, ",", &save); t;
         t = strtok_r(NULL, ",", &save)) {
        int d = wg_report_dim_parse(t);
        if (d < 0)
            return wg_cli_usage(cli, "report", "--by takes county, township, "
                                "gender, disability_category, "
                                "disability_grade, rural, employment_type or "
                                "category, not '%.40s'", t);
        if (q->ndims == WG_REPORT_MAX_DIMS)
            return wg_cli_usage(cli, "report", "--by takes at most two "
                                "dimensions");
        if (q->ndims == 1 && q->dims[0] == (wg_report_dim)d)
            return wg_cli_usage(cli, "report", "--by names %s twice", t);
        q->dims[q->ndims++] = (wg_report_dim)d;
    }
    if (!q->ndims)
        return wg_cli_usage(cli, "report", "--by needs a dimension");
    return 0;
}

static int parse_ages(wg_cli *cli, const char *v, wg_report_query *q)
{
    int a, b, used = 0;
    if (sscanf(v, "%3d-%3d%n", &a, &b, &used) != 2 || v[used] || a < 0 ||
        b > 150 || a > b)
        return wg_cli_usage(cli, "report", "--ages takes MIN-MAX (e.g. "
                            "16-59), not '%.32s'", v);
    q->age_min = a;
    q->age_max = b;
    return 0;
}

int cmd_report(wg_cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {
        { "by", required_argument, NULL, 'b' },
        { "csv", no_argument, NULL, 'c' },
        { "svg", required_argument, NULL, 's' },
        { "xlsx", required_argument, NULL, 'x' },
        { "as-of", required_argument, NULL, 'a' },
        { "from", required_argument, NULL, 'f' },
        { "to", required_argument, NULL, 't' },
        { "ages", required_argument, NULL, 'g' },
        { "recount", no_argument, NULL, 'r' },
        { 0, 0, 0, 0 } };
    int help = 0, c, csv = 0, by_given = 0;
    wg_report_query q;
    wg_report_query_init(&q);
    const char *svg = NULL, *xlsx = NULL;
    while ((c = wg_cli_getopt(cli, argc, argv, "", opts, &help)) != -1) {
        int bad = 0;
        switch (c) {
        case 'b': bad = parse_by(cli, optarg, &q); by_given = 1; break;
        case 'c': csv = 1; break;
        case 's': svg = optarg; break;
        case 'x': xlsx = optarg; break;
        case 'a': bad = parse_date(cli, "--as-of", optarg, q.as_of); break;
        case 'f': bad = parse_date(cli, "--from", optarg, q.from); break;
        case 't': bad = parse_date(cli, "--to", optarg, q.to); break;
        case 'g': bad = parse_ages(cli, optarg, &q); break;
        case 'r': q.recount = 1; break;
        case 'h': return wg_cli_help(cli, "report", cli->out);
        default: return WG_EXIT_USAGE;
        }
        if (bad)
            return bad;
    }
    if (optind < argc)
        return wg_cli_usage(cli, "report", "unexpected argument '%s'",
                            argv[optind]);
    if (!q.from[0] != !q.to[0])
        return wg_cli_usage(cli, "report", "--from and --to go together");
    if (q.from[0] && strcmp(q.from, q.to) > 0)
        return wg_cli_usage(cli, "report", "--from %s is after --to %s",
                            q.from, q.to);
    if (svg && q.ndims != 1)
        return wg_cli_usage(cli, "report", "--svg draws a report by one "
                            "dimension");
    if (svg && xlsx)
        return wg_cli_usage(cli, "report", "--svg and --xlsx: one file at a "
                            "time");
    ctx x = { .cli = cli, .zh = chinese() };
    int code = wg_cli_open_store(cli, &x.st);
    if (code)
        return code;
    wg_err err = { 0 };
    if (wg_store_areas(x.st, collect_name, &x.nm, &err) != WG_OK) {
        code = wg_cli_fail(cli, &err);
        goto out;
    }
    /* A workbook without --by holds every table, one sheet each. */
    int nreps = xlsx && !by_given ? WG_DIM_COUNT : 1;
    wg_report *reps = wg_xcalloc((size_t)nreps, sizeof *reps);
    for (int i = 0; i < nreps && !code; i++) {
        wg_report_query qi = q;
        if (nreps > 1) {
            qi.ndims = 1;
            qi.dims[0] = (wg_report_dim)i;
        }
        if (wg_store_report(x.st, &qi, &reps[i], &err) != WG_OK)
            code = wg_cli_fail(cli, &err);
    }
    if (code) {
    } else if (svg) {
        code = write_svg(&x, &reps[0], svg);
        if (!code && !cli->json)
            fprintf(cli->out, x.zh ? "已写入 %s：%zu 个%s的就业率及合计\n"
                                   : "wrote %s: employment rate of %zu %s "
                                     "rows and the total\n",
                    svg, reps[0].n - 1,
                    x.zh ? dim_zh[q.dims[0]] : wg_report_dim_name(q.dims[0]));
    } else if (xlsx) {
        code = write_xlsx(&x, reps, nreps, xlsx);
        if (!code && !cli->json)
            fprintf(cli->out, x.zh ? "已写入 %s：%d 张表\n"
                                   : "wrote %s: %d table%s\n",
                    xlsx, nreps, nreps == 1 ? "" : "s");
    } else if (cli->json) {
        code = print_json(&x, &reps[0]);
    } else if (csv) {
        code = print_csv(&x, &reps[0]);
    } else {
        code = print_text(&x, &reps[0]);
    }
    for (int i = 0; i < nreps; i++)
        wg_report_release(&reps[i]);
    free(reps);
out:
    free(x.nm.code);
    free(x.nm.name);
    wg_cli_close_store(cli, &x.st);
    return code;
}
