/*
 * cmd_report.c - `wings report [--by county|employment_type|category]
 * [--csv] [--svg FILE]`: aggregates over the records this node holds
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wg_csv.h"
#include "wg_life.h"
#include "wg_node.h"

static const char *const by_names[] = { "county", "employment_type",
                                        "category" };

/* Column names per grouping, in output order. */
static const char *const cols_county[] = { "county", "persons", "employed",
    "employment_rate", "trained", "certified", "median_monthly_income" };
static const char *const cols_type[] = { "employment_type", "persons",
    "placements", "median_monthly_income" };
static const char *const cols_cat[] = { "category", "persons", "trained",
    "certified" };

static void cell(const wg_report_row *r, const char *col, char out[32])
{
    if (!strcmp(col, "persons")) snprintf(out, 32, "%ld", r->persons);
    else if (!strcmp(col, "employed")) snprintf(out, 32, "%ld", r->employed);
    else if (!strcmp(col, "placements")) snprintf(out, 32, "%ld", r->placements);
    else if (!strcmp(col, "trained")) snprintf(out, 32, "%ld", r->trained);
    else if (!strcmp(col, "certified")) snprintf(out, 32, "%ld", r->certified);
    else if (!strcmp(col, "employment_rate")) snprintf(out, 32, "%.1f", r->rate);
    else if (!strcmp(col, "median_monthly_income")) {
        if (!r->has_median)
            out[0] = 0;
        else if (r->median == (double)(long long)r->median)
            snprintf(out, 32, "%lld", (long long)r->median);
        else
            snprintf(out, 32, "%.1f", r->median);
    } else
        snprintf(out, 32, "%s", r->key);
}

static void print_json_row(FILE *out, const wg_report_row *r,
                           const char *const *cols, int ncols)
{
    fputc('{', out);
    for (int i = 0; i < ncols; i++) {
        char v[32];
        cell(r, cols[i], v);
        fprintf(out, "%s\"%s\":", i ? "," : "", cols[i]);
        if (i == 0)
            wg_json_str(out, v);
        else if (!v[0])
            fputs("null", out);
        else
            fputs(v, out);
    }
    fputc('}', out);
}

/* A bar chart of employment rate per county and the total. */
static int write_svg(wg_cli *cli, const char *path, const wg_report_row *rows,
                     size_t n, const wg_report_row *total)
{
    /* A fresh file beside the target (never one already there), renamed
     * over it when whole. */
    wg_err err = { 0 };
    char *tmp = NULL;
    int fd = wg_store_file_create(path, &tmp, &err);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f) {
        wg_store_file_abandon(fd, &tmp);
        return wg_cli_failf(cli, WG_EXIT_INTERNAL, "cannot write '%s': %s",
                            path, err.msg);
    }
    const int bar = 36, gap = 18, left = 60, top = 60, h = 240;
    int width = left + (int)(n + 1) * (bar + gap) + 40;
    if (width < 360)
        width = 360;
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
               "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
               "height=\"%d\" viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" "
               "font-size=\"12\">\n", width, top + h + 70, width, top + h + 70);
    fprintf(f, "<title>Employment rate by county</title>\n"
               "<rect width=\"100%%\" height=\"100%%\" fill=\"#ffffff\"/>\n"
               "<text x=\"%d\" y=\"28\" font-size=\"16\" font-weight=\"bold\">"
               "Employment rate by county (%%)</text>\n", left);
    for (int p = 0; p <= 100; p += 25) {
        int y = top + h - p * h / 100;
        fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" "
                   "stroke=\"#dddddd\"/>\n<text x=\"%d\" y=\"%d\" "
                   "text-anchor=\"end\" fill=\"#555555\">%d</text>\n",
                left - 6, y, width - 20, y, left - 10, y + 4, p);
    }
    for (size_t i = 0; i <= n; i++) {
        const wg_report_row *r = i < n ? &rows[i] : total;
        int x = left + (int)i * (bar + gap) + gap / 2;
        int bh = (int)(r->rate * h / 100.0 + 0.5);
        const char *color = i < n ? "#2b7bb9" : "#e07b24";
        fprintf(f, "<g class=\"bar\" data-county=\"%s\"><rect x=\"%d\" y=\"%d\" "
                   "width=\"%d\" height=\"%d\" fill=\"%s\"><title>%s: %.1f%% "
                   "(%ld of %ld)</title></rect>\n", i < n ? r->key : "total",
                x, top + h - bh, bar, bh, color, r->key, r->rate, r->employed,
                r->persons);
        fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">%.1f</text>\n"
                   "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">%s</text></g>\n",
                x + bar / 2, top + h - bh - 6, r->rate, x + bar / 2,
                top + h + 18, i < n ? r->key : "total");
    }
    fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#333333\"/>\n"
               "</svg>\n", left - 6, top + h, width - 20, top + h);
    int bad = fflush(f) != 0 || ferror(f);
    fd = dup(fileno(f));
    fclose(f);
    if (bad || fd < 0) {
        wg_store_file_abandon(fd, &tmp);
        return wg_cli_failf(cli, WG_EXIT_INTERNAL, "cannot write '%s'", path);
    }
    if (wg_store_file_commit(fd, &tmp, path, &err) != WG_OK)
        return wg_cli_failf(cli, WG_EXIT_INTERNAL, "cannot write '%s': %s",
                            path, err.msg);
    return WG_EXIT_OK;
}

int cmd_report(wg_cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {
        { "by", required_argument, NULL, 'b' },
        { "csv", no_argument, NULL, 'c' },
        { "svg", required_argument, NULL, 's' },
        { 0, 0, 0, 0 } };
    int help = 0, c, csv = 0;
    wg_report_by by = WG_REPORT_COUNTY;
    const char *svg = NULL;
    while ((c = wg_cli_getopt(cli, argc, argv, "", opts, &help)) != -1) {
        switch (c) {
        case 'b':
            if (!strcmp(optarg, "county")) by = WG_REPORT_COUNTY;
            else if (!strcmp(optarg, "employment_type"))
                by = WG_REPORT_EMPLOYMENT_TYPE;
            else if (!strcmp(optarg, "category")) by = WG_REPORT_CATEGORY;
            else
                return wg_cli_usage(cli, "report", "--by takes county, "
                                    "employment_type or category, not '%s'",
                                    optarg);
            break;
        case 'c': csv = 1; break;
        case 's': svg = optarg; break;
        case 'h': return wg_cli_help(cli, "report", cli->out);
        default: return WG_EXIT_USAGE;
        }
    }
    if (optind < argc)
        return wg_cli_usage(cli, "report", "unexpected argument '%s'",
                            argv[optind]);
    if (svg && by != WG_REPORT_COUNTY)
        return wg_cli_usage(cli, "report", "--svg draws the report by county");
    wg_store *st = NULL;
    int code = wg_cli_open_store(cli, &st);
    if (code)
        return code;
    wg_err err = { 0 };
    wg_report_row *rows = NULL, total;
    size_t n = 0;
    if (wg_store_report(st, by, &rows, &n, &total, &err) != WG_OK) {
        code = wg_cli_fail(cli, &err);
        wg_cli_close_store(cli, &st);
        return code;
    }
    const char *const *cols = by == WG_REPORT_COUNTY ? cols_county
                              : by == WG_REPORT_EMPLOYMENT_TYPE ? cols_type
                                                                 : cols_cat;
    int ncols = by == WG_REPORT_COUNTY ? 7 : 4;
    (void)by_names;
    if (svg) {
        code = write_svg(cli, svg, rows, n, &total);
        if (!code && !cli->json)
            fprintf(cli->out, "wrote %s: employment rate of %zu counties and "
                    "the total\n", svg, n);
    } else if (cli->json) {
        fputc('[', cli->out);
        for (size_t i = 0; i <= n; i++) {
            if (i)
                fputc(',', cli->out);
            print_json_row(cli->out, i < n ? &rows[i] : &total, cols, ncols);
        }
        fputs("]\n", cli->out);
    } else if (csv) {
        wg_rc rc = wg_csv_write(cli->out, cols, (size_t)ncols, &err);
        for (size_t i = 0; rc == WG_OK && i <= n; i++) {
            char v[8][32];
            const char *row[8];
            for (int k = 0; k < ncols; k++) {
                cell(i < n ? &rows[i] : &total, cols[k], v[k]);
                row[k] = v[k];
            }
            rc = wg_csv_write(cli->out, row, (size_t)ncols, &err);
        }
        if (rc)
            code = wg_cli_fail(cli, &err);
    } else {
        wg_tabout *t = wg_tabout_new(ncols);
        wg_tabout_row(t, cols);
        for (size_t i = 0; i <= n; i++) {
            char v[8][32];
            const char *row[8];
            for (int k = 0; k < ncols; k++) {
                cell(i < n ? &rows[i] : &total, cols[k], v[k]);
                row[k] = v[k];
            }
            wg_tabout_row(t, row);
        }
        wg_tabout_print(t, cli->out);
        wg_tabout_destroy(&t);
    }
    free(rows);
    wg_cli_close_store(cli, &st);
    return code;
}
