/*
 * cmd_import.c - `wings import TABLE FILE [--update] [--skip-invalid]
 * [--encoding auto|utf-8|gb18030] [--ignore-column NAME]...`
 *
 * FILE is CSV (UTF-8 with or without BOM, or GB18030/GBK: textin.c) or an
 * .xlsx workbook (xlsx.c). The header row names fields in English or by
 * the Chinese column titles export --excel writes. Cells are read as a
 * clerk's spreadsheet holds them: trimmed, Excel's date forms made
 * YYYY-MM-DD, Chinese enum labels and 是/否 mapped to values, the
 * apostrophe export puts before a formula-like cell taken off.
 *
 * A row with an id this node holds is compared with the record: identical
 * values are skipped (so a file imported twice writes nothing the second
 * time); other values are an error unless --update, which applies them.
 * Every row is checked inside one transaction; a row that fails changes
 * nothing and is listed (line, field, reason). Unless --skip-invalid, any
 * failure rolls the whole file back: nothing is written, exit 3.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wg_csv.h"
#include "wg_node.h"
#include "wg_validate.h"
#include "wg_xlsx.h"

#define IMPORT_CACHE_KIB (512 * 1024)   /* the page cache an import may use */
#define POOL_PER_BYTE 7                 /* store bytes per CSV byte, with room */
#define POOL_EXTRA ((size_t)8 << 20)    /* the pages an import reads */
#define ROW_BYTES 64                    /* a CSV row, about (for wg_store_bulk) */
#define MAX_LISTED 1000   /* failing rows listed; the rest are counted */
#define MAX_IGNORED 32
#define COL_ID (-1)
#define COL_IGNORED (-2)
#define ID_TITLE "记录编号"  /* the id column's title in Excel exports */

/* ---- where rows come from ------------------------------------------------- */

typedef struct source {
    FILE *fp;
    char *mem;
    wg_csv_reader *csv;
    wg_xlsx *xlsx;
    const char *encoding;
} source;

static int is_xlsx(const char *path)
{
    size_t n = strlen(path);
    if (n > 5 && !strcasecmp(path + n - 5, ".xlsx"))
        return 1;
    FILE *fp = fopen(path, "rb");
    unsigned char magic[4] = { 0 };
    int zip = fp && fread(magic, 1, 4, fp) == 4 && !memcmp(magic, "PK\3\4", 4);
    if (fp)
        fclose(fp);
    return zip;
}

static wg_rc source_open(source *s, const char *path, const char *encoding,
                         wg_err *err)
{
    memset(s, 0, sizeof *s);
    if (is_xlsx(path)) {
        s->encoding = "xlsx";
        return wg_xlsx_open_file(path, &s->xlsx, err);
    }
    wg_rc rc = wg_text_open(path, encoding, &s->fp, &s->mem, &s->encoding,
                            err);
    if (rc == WG_OK)
        s->csv = wg_csv_reader_new(s->fp);
    return rc;
}

static wg_rc source_read(source *s, char ***cells, const wg_xlsx_kind **kinds,
                         size_t *n, size_t *line, wg_err *err)
{
    if (s->xlsx)
        return wg_xlsx_read(s->xlsx, cells, kinds, n, line, err);
    *kinds = NULL;
    return wg_csv_read(s->csv, cells, n, line, err);
}

static void source_close(source *s)
{
    wg_csv_reader_destroy(&s->csv);
    wg_xlsx_close(&s->xlsx);
    if (s->fp)
        fclose(s->fp);
    free(s->mem);
}

/* ---- one cell as a clerk meant it --------------------------------------------- */

/* Bytes of blank at P: space, tab, CR, LF, U+00A0 or U+3000. */
static size_t blank_at(const char *p)
{
    const unsigned char *u = (const unsigned char *)p;
    if (*u == ' ' || *u == '\t' || *u == '\r' || *u == '\n')
        return 1;
    if (u[0] == 0xc2 && u[1] == 0xa0)
        return 2;
    if (u[0] == 0xe3 && u[1] == 0x80 && u[2] == 0x80)
        return 3;
    return 0;
}

/* V without blanks at either end, into OUT (SIZE bytes); 0 if too long. */
static int trim_into(const char *v, char *out, size_t size)
{
    size_t k, n;
    while ((k = blank_at(v)) != 0)
        v += k;
    n = strlen(v);
    for (;;) {
        if (n >= 1 && blank_at(v + n - 1) == 1)
            n--;
        else if (n >= 2 && blank_at(v + n - 2) == 2)
            n -= 2;
        else if (n >= 3 && blank_at(v + n - 3) == 3)
            n -= 3;
        else
            break;
    }
    if (n >= size)
        return 0;
    memcpy(out, v, n);
    out[n] = '\0';
    return 1;
}

/* Leading digits of P (at most 9) as a number in *V; their count. */
static size_t num_at(const char *p, int *v)
{
    size_t n = 0;
    *v = 0;
    while (p[n] >= '0' && p[n] <= '9' && n < 9)
        *v = *v * 10 + (p[n++] - '0');
    return n;
}

/* Excel's and WPS's ways of writing a date, made YYYY-MM-DD in place:
 * 1985/3/7, 1980-3-13, 1985.3.7, 1985年3月7日, 19850307, each perhaps with
 * a time after a space ("1985/3/7 0:00"). Anything else is left for the
 * validator to refuse. */
static int is_digits(const char *p, int n)
{
    for (int i = 0; i < n; i++)
        if (p[i] < '0' || p[i] > '9')
            return 0;
    return 1;
}

static void normalise_date(char *s)
{
    int y, m, d;
    size_t k;
    const char *p = s;
    /* Already YYYY-MM-DD (what export writes): as it is. */
    if (is_digits(s, 4) && s[4] == '-' && is_digits(s + 5, 2) &&
        s[7] == '-' && is_digits(s + 8, 2) && s[10] == '\0')
        return;
    if ((k = num_at(p, &y)) == 8 && (p[8] == '\0' || p[8] == ' ')) {
        m = y / 100 % 100;
        d = y % 100;
        y /= 10000;
        goto done;
    }
    if (k != 4)
        return;
    p += k;
    int cjk = !strncmp(p, "年", 3);
    char sep = *p;
    if (cjk)
        p += 3;
    else if (sep == '/' || sep == '-' || sep == '.')
        p++;
    else
        return;
    if ((k = num_at(p, &m)) < 1 || k > 2)
        return;
    p += k;
    if (cjk ? strncmp(p, "月", 3) : *p != sep)
        return;
    p += cjk ? 3 : 1;
    if ((k = num_at(p, &d)) < 1 || k > 2)
        return;
    p += k;
    if (cjk && !strncmp(p, "日", 3))
        p += 3;
    if (*p != '\0' && *p != ' ')
        return;
done:
    /* Digits only were read, so each part is whole and not negative; the
     * casts tell the compiler so (the date is checked after this). */
    snprintf(s, 11, "%04u-%02u-%02u", (unsigned)y % 10000u,
             (unsigned)m % 100u, (unsigned)d % 100u);
}

/* "4.50225E+17", or an id number an .xlsx holds as a number: a
 * spreadsheet's rounding has lost its last digits. */
static int mangled_id(const char *v, wg_xlsx_kind kind)
{
    if (kind == WG_XLSX_NUMBER)
        return 1;
    const char *p = v;
    if (*p < '0' || *p > '9')
        return 0;
    while (*p >= '0' && *p <= '9')
        p++;
    if (*p == '.')
        for (p++; *p >= '0' && *p <= '9'; p++)
            ;
    return (*p == 'E' || *p == 'e') && p[1] == '+';
}

/* The value cell RAW stands for in field F, into OUT (WG_FIELD_MAX_BYTES + 1
 * bytes). Fails naming the field. */
static wg_rc cell_value(const wg_field *f, const char *raw, wg_xlsx_kind kind,
                        int csv, char *out, wg_err *err)
{
    char tmp[WG_FIELD_MAX_BYTES + 1];
    if (!trim_into(raw, tmp, sizeof tmp))
        return wg_err_set(err, WG_ERR_INVALID, "%s: longer than %d bytes",
                          wg_validate_field_word(f), WG_FIELD_MAX_BYTES);
    /* The apostrophe export writes before a formula-like cell. */
    const char *v = csv ? wg_cell_unescape(tmp) : tmp;
    memmove(out, v, strlen(v) + 1);
    if (!out[0])
        return WG_OK;
    switch (f->type) {
    case WG_FT_IDNUM:
        if (mangled_id(out, kind))
            return wg_err_set(err, WG_ERR_INVALID,
                              "%s: '%.24s' is a number the spreadsheet made "
                              "of the id number, its last digits lost: format "
                              "the column as Text (设置单元格格式 > 文本) and "
                              "enter the numbers again",
                              wg_validate_field_word(f), out);
        break;
    case WG_FT_DATE:
        normalise_date(out);
        break;
    case WG_FT_ENUM:
        for (int i = 0; f->enum_titles && f->enum_values[i]; i++)
            if (f->enum_titles[i] && !strcmp(out, f->enum_titles[i])) {
                snprintf(out, WG_FIELD_MAX_BYTES + 1, "%s", f->enum_values[i]);
                break;
            }
        break;
    case WG_FT_BOOL:
        if (!strcmp(out, "是"))
            strcpy(out, "1");
        else if (!strcmp(out, "否"))
            strcpy(out, "0");
        break;
    default:
        break;
    }
    return WG_OK;
}

/* ---- the header ------------------------------------------------------------------ */

typedef struct importer {
    wg_cli *cli;
    wg_store *st;
    const wg_table *t;
    int update, csv;
    int col[WG_CSV_MAX_FIELDS];    /* field index, COL_ID or COL_IGNORED */
    size_t ncols;
    long added, updated, unchanged;
    char vals[WG_MAX_FIELDS + 1][WG_FIELD_MAX_BYTES + 1];  /* one row's */
} importer;

/* Print the one line naming the unknown columns and the valid ones. */
static int unknown_columns(importer *im, char **bad, size_t nbad)
{
    FILE *e = im->cli->errf;
    const wg_table *t = im->t;
    fputs("wings: line 1: ", e);
    for (size_t i = 0; i < nbad; i++) {
        fputs(i ? ", '" : nbad > 1 ? "columns '" : "column '", e);
        wg_term_put(e, bad[i]);
        fputc('\'', e);
    }
    fprintf(e, " %s of %s; the columns are id", nbad > 1 ? "are not fields"
            : "is not a field", t->name);
    for (int f = 0; f < t->nfields; f++)
        if (!t->fields[f].meta)
            fprintf(e, ", %s", t->fields[f].name);
    fputs(" (or their titles: " ID_TITLE, e);
    for (int f = 0; f < t->nfields; f++)
        if (t->fields[f].title && !t->fields[f].meta)
            fprintf(e, ", %s", t->fields[f].title);
    fputs("); remove it or add --ignore-column", e);
    for (size_t i = 0; i < nbad; i++) {
        fputs(" '", e);
        wg_term_put(e, bad[i]);
        fputc('\'', e);
    }
    fputc('\n', e);
    return WG_EXIT_INVALID;
}

/* Map the header's cells to fields. Returns 0 or the exit code, having
 * printed why. */
static int read_header(importer *im, char **cells, size_t n,
                       char **ignore, int nignore)
{
    char name[WG_FIELD_MAX_BYTES + 1];
    char *bad[WG_CSV_MAX_FIELDS];
    size_t nbad = 0;
    int seen_id = 0, seen[WG_MAX_FIELDS] = { 0 };
    if (n > WG_CSV_MAX_FIELDS)
        return wg_cli_failf(im->cli, WG_EXIT_INVALID, "line 1: too many "
                            "columns");
    for (size_t i = 0; i < n; i++) {
        int f;
        if (!trim_into(cells[i], name, sizeof name))
            name[0] = '\0';
        const char *h = im->csv ? wg_cell_unescape(name) : name;
        int ignored = 0;
        for (int k = 0; k < nignore; k++)
            ignored |= !strcmp(ignore[k], h);
        if (ignored) {
            f = COL_IGNORED;
        } else if (!strcmp(h, "id") || !strcmp(h, ID_TITLE)) {
            if (seen_id++)
                return wg_cli_failf(im->cli, WG_EXIT_INVALID, "line 1: "
                                    "column id appears twice");
            f = COL_ID;
        } else if (wg_schema_shown(im->t,
                                   f = wg_schema_field_index(im->t, h)) ||
                   wg_schema_shown(im->t,
                                   f = wg_schema_field_by_title(im->t, h))) {
            if (seen[f]++)
                return wg_cli_failf(im->cli, WG_EXIT_INVALID, "line 1: "
                                    "column %s appears twice",
                                    im->t->fields[f].name);
        } else if (!h[0]) {
            f = COL_IGNORED;   /* an empty title: Excel's trailing column */
        } else {
            bad[nbad++] = cells[i];
            continue;
        }
        im->col[im->ncols++] = f;
    }
    if (nbad)
        return unknown_columns(im, bad, nbad);
    return 0;
}

/* ---- one row ------------------------------------------------------------------------ */

enum outcome { ADDED, UPDATED, UNCHANGED };

/* 1 if every given (name, value) pair equals record R's value. */
static int same_values(const wg_table *t, const wg_record *r,
                       const char *const *names, const char *const *values,
                       int n)
{
    for (int i = 0; i < n; i++) {
        int f = wg_schema_field_index(t, names[i]);
        const char *cur = r->values[f];
        char canon[WG_FIELD_MAX_BYTES + 1];
        if (!values[i][0]) {
            if (cur)
                return 0;
            continue;
        }
        int fi = wg_schema_fen_of(t, f);
        if (fi >= 0 && strchr(values[i], '.')) {
            /* an amount with decimals: the same to the fen (a record from
             * before the fen field counts its whole yuan); whole yuan are
             * compared as whole yuan, as an export writes them */
            int64_t fen;
            char want[32], had[32];
            const char *have = r->values[fi];
            if (!have && cur) {
                snprintf(had, sizeof had, "%lld", strtoll(cur, NULL, 10) * 100);
                have = had;
            }
            if (wg_validate_yuan(&t->fields[f], values[i], &fen, NULL) !=
                WG_OK)
                return 0;
            snprintf(want, sizeof want, "%lld", (long long)fen);
            if (!have || strcmp(want, have))
                return 0;
            continue;
        }
        if (!cur || wg_validate_value(&t->fields[f], values[i], canon,
                                      sizeof canon, NULL) != WG_OK ||
            strcmp(canon, cur))
            return 0;
    }
    return 1;
}

static wg_rc import_row(importer *im, char **cells,
                        const wg_xlsx_kind *kinds, size_t n,
                        enum outcome *out, wg_err *err)
{
    const wg_table *t = im->t;
    const char *names[WG_MAX_FIELDS + 2], *values[WG_MAX_FIELDS + 2];
    char id[WG_FIELD_MAX_BYTES + 1] = "";
    char birth[11];
    int nv = 0;
    if (n > im->ncols) {
        for (size_t i = im->ncols; i < n; i++)
            if (cells[i][0])
                return wg_err_set(err, WG_ERR_INVALID, "has %zu fields, the "
                                  "header has %zu", n, im->ncols);
        n = im->ncols;
    }
    for (size_t i = 0; i < n; i++) {
        int f = im->col[i];
        wg_xlsx_kind kind = kinds ? kinds[i] : WG_XLSX_TEXT;
        if (f == COL_IGNORED)
            continue;
        if (f == COL_ID) {
            if (!trim_into(cells[i], id, sizeof id))
                return wg_err_set(err, WG_ERR_INVALID, "id: too long");
            continue;
        }
        wg_rc rc = cell_value(&t->fields[f], cells[i], kind, im->csv,
                              im->vals[nv], err);
        if (rc)
            return rc;
        /* An empty county is the node's own: leave it out. */
        if (!im->vals[nv][0] && t->fields[f].type == WG_FT_COUNTY)
            continue;
        names[nv] = t->fields[f].name;
        values[nv] = im->vals[nv];
        nv++;
    }
    /* An empty birth date is left out: a new record takes the id
     * number's, an update keeps its own. */
    for (int i = 0; i < nv; i++)
        if (!strcmp(names[i], "birth_date") && !values[i][0]) {
            names[i] = names[nv - 1];
            values[i] = values[nv - 1];
            nv--;
            break;
        }

    /* A row without an id is the record this node holds under its unique
     * field (a person's id number), if any: the same file imported twice
     * writes nothing. */
    int by = -1;   /* the unique field the record was found by */
    char by_value[WG_FIELD_MAX_BYTES + 1];
    for (int i = 0; !id[0] && i < nv; i++) {
        char canon[WG_FIELD_MAX_BYTES + 1];
        int f = wg_schema_field_index(t, names[i]);
        if (!t->fields[f].unique ||
            wg_validate_value(&t->fields[f], values[i], canon, sizeof canon,
                              NULL) != WG_OK)
            continue;
        wg_rc got = wg_store_find_unique(im->st, t, f, canon, NULL, id, err);
        if (got != WG_OK && got != WG_ERR_NOTFOUND)
            return got;
        if (got != WG_OK) {
            id[0] = '\0';
        } else {
            by = f;
            memcpy(by_value, canon, sizeof canon);
        }
    }
    if (id[0]) {
        wg_record cur;
        wg_err gerr;
        wg_rc got = wg_validate_record_id(id)
                        ? wg_store_get(im->st, t, id, &cur, &gerr)
                        : WG_ERR_NOTFOUND;
        if (got == WG_OK) {
            int deleted = cur.deleted;
            int same = !deleted && same_values(t, &cur, names, values, nv);
            wg_record_release(&cur);
            if (deleted)
                return wg_err_set(err, WG_ERR_INVALID, "id: %s %s was "
                                  "deleted on this node", t->name, id);
            if (same) {
                *out = UNCHANGED;
                return WG_OK;
            }
            if (!im->update && by >= 0)
                return wg_err_set(err, WG_ERR_INVALID, "%s: %.32s is already "
                                  "registered here as %s %s, with other "
                                  "values; use --update to apply the file's",
                                  t->fields[by].name, by_value, t->name, id);
            if (!im->update)
                return wg_err_set(err, WG_ERR_INVALID, "id: this node holds "
                                  "%s %s with other values; use --update to "
                                  "apply the file's", t->name, id);
            *out = UPDATED;
            return wg_store_update(im->st, t, id, names, values, nv, err);
        }
        if (got != WG_ERR_NOTFOUND) {
            if (err)
                *err = gerr;
            return got;
        }
        names[nv] = "id";
        values[nv] = id;
        nv++;
    }
    /* A new record's birth date not given is the one its id number
     * encodes (an update keeps the birth date it has). */
    nv = wg_cli_fill_birth(t, names, values, nv, birth);
    *out = ADDED;
    return wg_store_add(im->st, t, names, values, nv, NULL, err);
}

/* ---- the command ------------------------------------------------------------------- */

int cmd_import(wg_cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {
        { "skip-invalid", no_argument, NULL, 's' },
        { "update", no_argument, NULL, 'u' },
        { "encoding", required_argument, NULL, 'e' },
        { "ignore-column", required_argument, NULL, 'i' },
        { 0, 0, 0, 0 } };
    int skip = 0, help = 0, c, nignore = 0;
    char *ignore[MAX_IGNORED];
    const char *encoding = "auto";
    importer im = { .cli = cli };
    while ((c = wg_cli_getopt(cli, argc, argv, "", opts, &help)) != -1) {
        switch (c) {
        case 's': skip = 1; break;
        case 'u': im.update = 1; break;
        case 'e': encoding = optarg; break;
        case 'i':
            if (nignore == MAX_IGNORED)
                return wg_cli_usage(cli, "import", "at most %d --ignore-column",
                                    MAX_IGNORED);
            ignore[nignore++] = optarg;
            break;
        case 'h': return wg_cli_help(cli, "import", cli->out);
        default: return WG_EXIT_USAGE;
        }
    }
    if (argc - optind != 2)
        return wg_cli_usage(cli, "import", "import needs TABLE and FILE");
    if (strcmp(encoding, "auto") && strcasecmp(encoding, "utf-8") &&
        strcasecmp(encoding, "utf8") && strcasecmp(encoding, "gb18030") &&
        strcasecmp(encoding, "gbk"))
        return wg_cli_usage(cli, "import", "--encoding takes auto, utf-8 or "
                            "gb18030, not '%s'", encoding);
    const wg_table *t = wg_cli_table(cli, "import", argv[optind]);
    if (!t)
        return WG_EXIT_NOTFOUND;
    im.t = t;
    const char *path = argv[optind + 1];
    struct stat sb;
    long long total = stat(path, &sb) == 0 ? (long long)sb.st_size : 0;
    int progress = isatty(STDERR_FILENO) && !cli->json;

    wg_err err = { 0 };
    source src;
    wg_rc rc = source_open(&src, path, encoding, &err);
    if (rc) {
        source_close(&src);
        return wg_cli_fail(cli, &err);
    }
    im.csv = src.csv != NULL;
    /* The pages this import will write, about: a store takes some 6 bytes
     * per byte of CSV (the record, its signed change, the indexes), and an
     * .xlsx holds a quarter of its text. */
    size_t guess = (size_t)total * (im.csv ? POOL_PER_BYTE
                                           : 4 * POOL_PER_BYTE) +
                   POOL_EXTRA;
    wg_store_reserve_cache(guess < (size_t)IMPORT_CACHE_KIB * 1024
                               ? guess : (size_t)IMPORT_CACHE_KIB * 1024);
    int code = wg_cli_open_store(cli, &im.st);
    if (code) {
        source_close(&src);
        return code;
    }
    char **row;
    const wg_xlsx_kind *kinds;
    size_t nf, line;
    long failed = 0, rows = 0;
    rc = source_read(&src, &row, &kinds, &nf, &line, &err);
    if (rc == WG_ERR_NOTFOUND) {
        rc = wg_err_set(&err, WG_ERR_INVALID, "'%s' is empty: no header row",
                        path);
        goto out;
    }
    if (rc)
        goto out;
    if ((code = read_header(&im, row, nf, ignore, nignore)) != 0)
        goto done;
    /* One transaction writes the whole file: a page cache that holds it
     * keeps SQLite from spilling pages into the WAL halfway and reading
     * them back (pages are taken as used; given back when this process
     * closes the store). */
    if ((rc = wg_store_set_cache(im.st, IMPORT_CACHE_KIB, &err)) ||
        (rc = wg_store_begin(im.st, &err)))
        goto out;
    if ((rc = wg_store_bulk(im.st, t, (long)(total / (im.csv ? ROW_BYTES
                                                           : ROW_BYTES / 4)),
                            &err))) {
        wg_store_rollback(im.st);
        goto out;
    }
    for (;;) {
        rc = source_read(&src, &row, &kinds, &nf, &line, &err);
        if (rc == WG_ERR_NOTFOUND) {
            rc = WG_OK;
            break;
        }
        if (rc)
            break;
        int blank = 1;
        for (size_t i = 0; i < nf && blank; i++)
            blank = row[i][0] == '\0';
        if (blank)
            continue;   /* Excel's ",,,,," rows */
        rows++;
        wg_err rowerr = { 0 };
        enum outcome what = ADDED;
        wg_rc rr = import_row(&im, row, kinds, nf, &what, &rowerr);
        if (rr == WG_ERR_NOTFOUND)
            rr = WG_ERR_INVALID;   /* an update of a record gone meanwhile */
        if (rr == WG_OK) {
            im.added += what == ADDED;
            im.updated += what == UPDATED;
            im.unchanged += what == UNCHANGED;
        } else if (rr == WG_ERR_INVALID || rr == WG_ERR_EXISTS) {
            if (++failed <= MAX_LISTED) {
                fprintf(cli->errf, "wings: line %zu: ", line);
                wg_term_put(cli->errf, rowerr.msg);
                fputc('\n', cli->errf);
            }
        } else {
            rc = rr;
            err = rowerr;
            break;
        }
        if (progress && rows % 1000 == 0)
            fprintf(cli->errf, "\rimporting %s: %ld rows (%lld%%)", path, rows,
                    total && src.csv ? (long long)wg_csv_reader_bytes(src.csv)
                                           * 100 / total
                                     : 0);
    }
    if (progress && rows >= 1000)
        fputc('\n', cli->errf);
    if (rc == WG_OK && failed && !skip) {
        wg_store_rollback(im.st);
        if (failed > MAX_LISTED)
            fprintf(cli->errf, "wings: ... and %ld more failing rows\n",
                    failed - MAX_LISTED);
        rc = wg_err_set(&err, WG_ERR_INVALID,
                        "%ld of %ld rows of '%s' failed validation; nothing "
                        "was written (fix them, or use --skip-invalid)",
                        failed, rows, path);
        goto out;
    }
    if (rc == WG_OK && im.added + im.updated == 0)
        wg_store_rollback(im.st);   /* nothing new: write nothing */
    else if (rc == WG_OK)
        rc = wg_store_commit(im.st, &err);
    else
        wg_store_rollback(im.st);
out:
    if (rc) {
        code = wg_cli_fail(cli, &err);
    } else if (cli->json) {
        fprintf(cli->out, "{\"written\":%ld,\"skipped\":%ld,\"added\":%ld,"
                "\"updated\":%ld,\"unchanged\":%ld,\"encoding\":\"%s\"}\n",
                im.added + im.updated, failed, im.added, im.updated,
                im.unchanged, src.encoding);
    } else {
        fprintf(cli->out, "imported %ld %s rows", im.added + im.updated,
                t->name);
        if (im.updated)
            fprintf(cli->out, "; %ld of them updates", im.updated);
        if (im.unchanged)
            fprintf(cli->out, "; %ld unchanged (already held)",
                    im.unchanged);
        if (failed)
            fprintf(cli->out, "; skipped %ld invalid rows", failed);
        fputc('\n', cli->out);
    }
done:
    source_close(&src);
    if (im.st)   /* a daemon's handle lives on: its usual cache again */
        wg_store_set_cache(im.st, WG_STORE_CACHE_KIB, NULL);
    wg_cli_close_store(cli, &im.st);
    return code;
}
