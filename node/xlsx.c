/*
 * xlsx.c - reading the first worksheet of an .xlsx workbook (wg_xlsx.h)
 *
 * An .xlsx file is a zip of XML parts (ECMA-376 / ISO 29500, SpreadsheetML):
 *
 *   xl/workbook.xml             <sheet r:id=...> in tab order, date1904
 *   xl/_rels/workbook.xml.rels  r:id -> the worksheet part's path
 *   xl/sharedStrings.xml        <si> strings that cells index (t="s")
 *   xl/styles.xml               <cellXfs><xf numFmtId=...>: which cells
 *                               hold dates (a date is a day number)
 *   xl/worksheets/sheetN.xml    <row r=N><c r="B3" t=.. s=..><v>..</v></c>
 *
 * libzip inflates each part into a buffer bounded by WG_XLSX_MAX_PART (the
 * header's size is not trusted: reading stops at the limit), and libxml2's
 * xmlTextReader walks it without building a tree, with no network, no DTD
 * loading and no entity substitution. The worksheet is walked lazily, one
 * <row> per wg_xlsx_read() call.
 */
#include "wg_xlsx.h"

#include <assert.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/xmlreader.h>
#include <zip.h>

#include "wg_buf.h"

#define XML_OPTIONS (XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING)
#define MAX_XFS 65536           /* cell formats in styles.xml */
#define MAX_ROW 1048576         /* Excel's last row */
#define MAX_PATH_BYTES 256
#define ROW_MAX_BYTES ((size_t)WG_XLSX_MAX_COLS * (WG_XLSX_MAX_CELL + 1))

struct wg_xlsx {
    zip_t *zip;
    int date1904;
    /* shared strings: NUL-terminated, one after another */
    wg_buf strings;
    size_t *str_off;
    size_t nstrings;
    /* styles: 1 when cell format i shows a date */
    unsigned char *xf_date;
    size_t nxf;
    /* the worksheet, and the reader walking it */
    char *sheet;
    size_t sheet_len;
    xmlTextReaderPtr rd;
    size_t last_row;
    /* the current row */
    wg_buf data;
    size_t off[WG_XLSX_MAX_COLS];
    char *cells[WG_XLSX_MAX_COLS + 1];
    wg_xlsx_kind kinds[WG_XLSX_MAX_COLS];
    wg_buf text;                /* one cell's text as it is collected */
    wg_rc failed;
    wg_err failure;
};

/* ---- zip parts ------------------------------------------------------------ */

/* Inflate part NAME into a new buffer (*OUT, *LEN; NUL-terminated). Returns
 * WG_ERR_NOTFOUND when there is no such part. */
static wg_rc read_part(wg_xlsx *x, const char *name, char **out, size_t *len,
                       wg_err *err)
{
    zip_int64_t idx = zip_name_locate(x->zip, name, ZIP_FL_NOCASE);
    if (idx < 0)
        return wg_err_set(err, WG_ERR_NOTFOUND, "no part %s", name);
    zip_file_t *f = zip_fopen_index(x->zip, (zip_uint64_t)idx, 0);
    if (!f)
        return wg_err_set(err, WG_ERR_INVALID, "cannot open part %s: %s",
                          name, zip_strerror(x->zip));
    /* Sized by what the zip says the part inflates to (a hint only: a
     * hostile file may lie, and the buffer still grows to the limit and
     * one step past it), so a small part costs a small buffer. */
    size_t cap = 1 << 12, n = 0;
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat_index(x->zip, (zip_uint64_t)idx, 0, &st) == 0 &&
        (st.valid & ZIP_STAT_SIZE) && st.size < WG_XLSX_MAX_PART)
        cap = st.size < 256 ? 256 : (size_t)st.size + 1;
    char *buf = wg_xmalloc(cap + 1);
    wg_rc rc = WG_OK;
    for (;;) {
        if (n == cap) {
            if (cap > WG_XLSX_MAX_PART) {
                rc = wg_err_set(err, WG_ERR_INVALID, "part %s inflates to "
                                "more than %u MiB", name,
                                WG_XLSX_MAX_PART >> 20);
                break;
            }
            cap *= 2;   /* up to the limit and one step past it */
            buf = wg_xrealloc(buf, cap + 1);
        }
        zip_int64_t got = zip_fread(f, buf + n, cap - n);
        if (got < 0) {
            rc = wg_err_set(err, WG_ERR_INVALID, "cannot inflate part %s: %s",
                            name, zip_file_strerror(f));
            break;
        }
        if (got == 0)
            break;
        n += (size_t)got;
    }
    zip_fclose(f);
    if (rc == WG_OK && n > WG_XLSX_MAX_PART)
        rc = wg_err_set(err, WG_ERR_INVALID, "part %s inflates to more than "
                        "%u MiB", name, WG_XLSX_MAX_PART >> 20);
    if (rc) {
        free(buf);
        return rc;
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return WG_OK;
}

/* ---- XML helpers ------------------------------------------------------------ */

static xmlTextReaderPtr xml_open(const char *buf, size_t len)
{
    return xmlReaderForMemory(buf, (int)len, NULL, NULL, XML_OPTIONS);
}

static int is_elem(xmlTextReaderPtr r, const char *local)
{
    const xmlChar *n = xmlTextReaderConstLocalName(r);
    return n && !strcmp((const char *)n, local);
}

/* The value of the attribute whose local name is LOCAL (any prefix), or
 * NULL. Caller owns; release with xmlFree(). */
static char *attr(xmlTextReaderPtr r, const char *local)
{
    char *v = NULL;
    if (xmlTextReaderMoveToFirstAttribute(r) != 1)
        return NULL;
    do {
        const xmlChar *n = xmlTextReaderConstLocalName(r);
        if (n && !strcmp((const char *)n, local)) {
            v = (char *)xmlTextReaderValue(r);
            break;
        }
    } while (xmlTextReaderMoveToNextAttribute(r) == 1);
    xmlTextReaderMoveToElement(r);
    return v;
}

/* Append the text of the element the reader is on to B, up to
 * WG_XLSX_MAX_CELL bytes, leaving the reader on the element's end. A <v> or
 * <t> is all text; in an <si> or <is> only the text of <t> runs counts, so
 * layout whitespace between runs and <rPh> phonetic guides are left out. */
static wg_rc collect_text(xmlTextReaderPtr r, wg_buf *b, wg_err *err)
{
    if (xmlTextReaderIsEmptyElement(r))
        return WG_OK;
    int depth = xmlTextReaderDepth(r);
    int t_depth = is_elem(r, "v") || is_elem(r, "t") ? depth : -1;
    int rph_depth = -1;
    for (;;) {
        if (xmlTextReaderRead(r) != 1)
            return wg_err_set(err, WG_ERR_INVALID, "malformed XML");
        int type = xmlTextReaderNodeType(r), d = xmlTextReaderDepth(r);
        if (type == XML_READER_TYPE_END_ELEMENT) {
            if (d == depth)
                return WG_OK;
            if (d == t_depth)
                t_depth = -1;
            if (d == rph_depth)
                rph_depth = -1;
            continue;
        }
        if (type == XML_READER_TYPE_ELEMENT) {
            if (xmlTextReaderIsEmptyElement(r))
                continue;
            if (rph_depth < 0 && is_elem(r, "rPh"))
                rph_depth = d;
            else if (t_depth < 0 && rph_depth < 0 && is_elem(r, "t"))
                t_depth = d;
            continue;
        }
        if (t_depth < 0 || rph_depth >= 0)
            continue;
        if (type == XML_READER_TYPE_TEXT || type == XML_READER_TYPE_CDATA ||
            type == XML_READER_TYPE_SIGNIFICANT_WHITESPACE ||
            type == XML_READER_TYPE_WHITESPACE) {
            const xmlChar *v = xmlTextReaderConstValue(r);
            size_t n = v ? strlen((const char *)v) : 0;
            if (b->len + n > WG_XLSX_MAX_CELL)
                return wg_err_set(err, WG_ERR_INVALID,
                                  "a cell is longer than %d bytes",
                                  WG_XLSX_MAX_CELL);
            wg_rc rc = wg_buf_append(b, v, n, err);
            if (rc)
                return rc;
        }
    }
}

/* ---- workbook, relationships, shared strings, styles ---------------------- */

/* The path of the first worksheet: workbook.xml's first <sheet>, through
 * the workbook's relationships. Falls back to xl/worksheets/sheet1.xml. */
static wg_rc find_sheet(wg_xlsx *x, char path[MAX_PATH_BYTES], wg_err *err)
{
    char *buf = NULL, *rid = NULL;
    size_t len;
    snprintf(path, MAX_PATH_BYTES, "xl/worksheets/sheet1.xml");
    wg_rc rc = read_part(x, "xl/workbook.xml", &buf, &len, err);
    if (rc == WG_ERR_NOTFOUND)
        return wg_err_set(err, WG_ERR_INVALID, "no xl/workbook.xml: not a "
                          "spreadsheet");
    if (rc)
        return rc;
    xmlTextReaderPtr r = xml_open(buf, len);
    int ok;
    while (r && (ok = xmlTextReaderRead(r)) == 1) {
        if (xmlTextReaderNodeType(r) != XML_READER_TYPE_ELEMENT)
            continue;
        if (is_elem(r, "workbookPr")) {
            char *d = attr(r, "date1904");
            x->date1904 = d && (!strcmp(d, "1") || !strcmp(d, "true"));
            xmlFree(d);
        } else if (is_elem(r, "sheet") && !rid) {
            rid = attr(r, "id");
        }
    }
    xmlFreeTextReader(r);
    free(buf);
    if (!rid)
        return WG_OK;

    rc = read_part(x, "xl/_rels/workbook.xml.rels", &buf, &len, err);
    if (rc == WG_ERR_NOTFOUND) {
        xmlFree(rid);
        return WG_OK;
    }
    if (rc) {
        xmlFree(rid);
        return rc;
    }
    r = xml_open(buf, len);
    while (r && xmlTextReaderRead(r) == 1) {
        if (xmlTextReaderNodeType(r) != XML_READER_TYPE_ELEMENT ||
            !is_elem(r, "Relationship"))
            continue;
        char *id = attr(r, "Id");
        char *target = id && !strcmp(id, rid) ? attr(r, "Target") : NULL;
        if (target && strlen(target) < MAX_PATH_BYTES - 4) {
            if (target[0] == '/')
                snprintf(path, MAX_PATH_BYTES, "%s", target + 1);
            else
                snprintf(path, MAX_PATH_BYTES, "xl/%s", target);
        }
        xmlFree(id);
        if (target) {
            xmlFree(target);
            break;
        }
    }
    xmlFreeTextReader(r);
    free(buf);
    xmlFree(rid);
    return WG_OK;
}

static wg_rc load_strings(wg_xlsx *x, wg_err *err)
{
    char *buf;
    size_t len, cap = 0;
    wg_rc rc = read_part(x, "xl/sharedStrings.xml", &buf, &len, err);
    if (rc == WG_ERR_NOTFOUND)
        return WG_OK;   /* a workbook of numbers and inline strings */
    if (rc)
        return rc;
    xmlTextReaderPtr r = xml_open(buf, len);
    int ok = r ? 1 : -1;
    while (rc == WG_OK && r && (ok = xmlTextReaderRead(r)) == 1) {
        if (xmlTextReaderNodeType(r) != XML_READER_TYPE_ELEMENT ||
            !is_elem(r, "si"))
            continue;
        if (x->nstrings == WG_XLSX_MAX_STRINGS) {
            rc = wg_err_set(err, WG_ERR_INVALID, "more than %d shared "
                            "strings", WG_XLSX_MAX_STRINGS);
            break;
        }
        wg_buf_reset(&x->text);
        if ((rc = collect_text(r, &x->text, err)))
            break;
        if (x->nstrings == cap) {
            cap = cap ? cap * 2 : 1024;
            x->str_off = wg_xrealloc(x->str_off, cap * sizeof *x->str_off);
        }
        x->str_off[x->nstrings++] = x->strings.len;
        if ((rc = wg_buf_append(&x->strings, x->text.data, x->text.len, err)) ||
            (rc = wg_buf_append_u8(&x->strings, 0, err)))
            break;
    }
    if (rc == WG_OK && ok != 0)
        rc = wg_err_set(err, WG_ERR_INVALID, "xl/sharedStrings.xml: "
                        "malformed XML");
    xmlFreeTextReader(r);
    free(buf);
    return rc;
}

/* Built-in number formats that show dates (ECMA-376 18.8.30, and the
 * East Asian ones Excel and WPS use for 年月日). */
static int builtin_date(long id)
{
    return (id >= 14 && id <= 22) || (id >= 27 && id <= 36) ||
           (id >= 45 && id <= 47) || (id >= 50 && id <= 58);
}

/* A custom format code shows a date when, outside quoted text, [..] and
 * \-escapes, it has a y or a d (yyyy"年"m"月"d"日", yyyy/m/d, d-mmm-yy). */
static int code_is_date(const char *code)
{
    for (const char *p = code; *p; p++) {
        if (*p == '"') {
            while (p[1] && p[1] != '"')
                p++;
            if (p[1])
                p++;
        } else if (*p == '[') {
            while (p[1] && p[1] != ']')
                p++;
        } else if (*p == '\\' && p[1]) {
            p++;
        } else if (*p == 'y' || *p == 'Y' || *p == 'd' || *p == 'D') {
            return 1;
        }
    }
    return 0;
}

static wg_rc load_styles(wg_xlsx *x, wg_err *err)
{
    char *buf;
    size_t len;
    wg_rc rc = read_part(x, "xl/styles.xml", &buf, &len, err);
    if (rc == WG_ERR_NOTFOUND)
        return WG_OK;
    if (rc)
        return rc;
    /* custom formats that are dates, by id (ids 164.. in practice) */
    long date_ids[256];
    size_t ndate = 0;
    int in_xfs = 0;
    size_t cap = 0;
    xmlTextReaderPtr r = xml_open(buf, len);
    while (r && xmlTextReaderRead(r) == 1) {
        int type = xmlTextReaderNodeType(r);
        if (type == XML_READER_TYPE_END_ELEMENT && is_elem(r, "cellXfs"))
            in_xfs = 0;
        if (type != XML_READER_TYPE_ELEMENT)
            continue;
        if (is_elem(r, "numFmt")) {
            char *id = attr(r, "numFmtId"), *code = attr(r, "formatCode");
            if (id && code && code_is_date(code) &&
                ndate < sizeof date_ids / sizeof date_ids[0])
                date_ids[ndate++] = strtol(id, NULL, 10);
            xmlFree(id);
            xmlFree(code);
        } else if (is_elem(r, "cellXfs")) {
            in_xfs = !xmlTextReaderIsEmptyElement(r);
        } else if (in_xfs && is_elem(r, "xf")) {
            if (x->nxf == MAX_XFS)
                break;
            char *id = attr(r, "numFmtId");
            long n = id ? strtol(id, NULL, 10) : 0;
            xmlFree(id);
            int date = builtin_date(n);
            for (size_t i = 0; i < ndate && !date; i++)
                date = date_ids[i] == n;
            if (x->nxf == cap) {
                cap = cap ? cap * 2 : 64;
                x->xf_date = wg_xrealloc(x->xf_date, cap);
            }
            x->xf_date[x->nxf++] = (unsigned char)date;
        }
    }
    xmlFreeTextReader(r);
    free(buf);
    return WG_OK;   /* unreadable styles only lose date detection */
}

/* ---- opening ---------------------------------------------------------------- */

static wg_rc open_zip(wg_xlsx *x, wg_err *err)
{
    char path[MAX_PATH_BYTES];
    wg_rc rc = find_sheet(x, path, err);
    if (rc == WG_OK)
        rc = load_strings(x, err);
    if (rc == WG_OK)
        rc = load_styles(x, err);
    if (rc == WG_OK) {
        rc = read_part(x, path, &x->sheet, &x->sheet_len, err);
        if (rc == WG_ERR_NOTFOUND)
            rc = wg_err_set(err, WG_ERR_INVALID, "no worksheet %s", path);
    }
    if (rc == WG_OK) {
        x->rd = xml_open(x->sheet, x->sheet_len);
        if (!x->rd)
            rc = wg_err_set(err, WG_ERR_INVALID, "cannot read %s", path);
    }
    return rc;
}

static wg_xlsx *xlsx_new(void)
{
    wg_xlsx *x = wg_xcalloc(1, sizeof *x);
    wg_buf_init(&x->strings, WG_XLSX_MAX_PART);
    wg_buf_init(&x->data, ROW_MAX_BYTES);
    wg_buf_init(&x->text, WG_XLSX_MAX_CELL + 1);
    return x;
}

wg_rc wg_xlsx_open_file(const char *path, wg_xlsx **out, wg_err *err)
{
    int ze = 0;
    zip_t *z = zip_open(path, ZIP_RDONLY, &ze);
    if (!z) {
        zip_error_t e;
        zip_error_init_with_code(&e, ze);
        wg_rc rc = ze == ZIP_ER_NOENT || ze == ZIP_ER_OPEN
                       ? wg_err_set(err, WG_ERR_NOTFOUND, "cannot read '%s': "
                                    "%s", path, zip_error_strerror(&e))
                       : wg_err_set(err, WG_ERR_INVALID, "'%s' is not an "
                                    ".xlsx workbook: %s", path,
                                    zip_error_strerror(&e));
        zip_error_fini(&e);
        return rc;
    }
    wg_xlsx *x = xlsx_new();
    x->zip = z;
    wg_rc rc = open_zip(x, err);
    if (rc) {
        wg_xlsx_close(&x);
        return rc;
    }
    *out = x;
    return WG_OK;
}

wg_rc wg_xlsx_open_buffer(const void *data, size_t len, wg_xlsx **out,
                          wg_err *err)
{
    zip_error_t e;
    zip_error_init(&e);
    zip_source_t *src = zip_source_buffer_create(data, len, 0, &e);
    zip_t *z = src ? zip_open_from_source(src, ZIP_RDONLY, &e) : NULL;
    if (!z) {
        wg_rc rc = wg_err_set(err, WG_ERR_INVALID, "not an .xlsx workbook: "
                              "%s", zip_error_strerror(&e));
        zip_source_free(src);
        zip_error_fini(&e);
        return rc;
    }
    zip_error_fini(&e);
    wg_xlsx *x = xlsx_new();
    x->zip = z;
    wg_rc rc = open_zip(x, err);
    if (rc) {
        wg_xlsx_close(&x);
        return rc;
    }
    *out = x;
    return WG_OK;
}

void wg_xlsx_close(wg_xlsx **xp)
{
    if (!xp || !*xp)
        return;
    wg_xlsx *x = *xp;
    if (x->rd)
        xmlFreeTextReader(x->rd);
    if (x->zip)
        zip_discard(x->zip);
    free(x->sheet);
    free(x->str_off);
    free(x->xf_date);
    wg_buf_release(&x->strings);
    wg_buf_release(&x->data);
    wg_buf_release(&x->text);
    free(x);
    *xp = NULL;
}

/* ---- rows --------------------------------------------------------------------- */

/* Column index (0-based) from a cell reference's letters ("B3" -> 1), or
 * -1 when malformed or past WG_XLSX_MAX_COLS. */
static long ref_col(const char *ref)
{
    long c = 0;
    const char *p = ref;
    while (*p >= 'A' && *p <= 'Z' && c <= WG_XLSX_MAX_COLS) {
        c = c * 26 + (*p - 'A' + 1);
        p++;
    }
    if (p == ref || c > WG_XLSX_MAX_COLS || *p < '1' || *p > '9')
        return -1;
    return c - 1;
}

/* Days since 1970-01-01 -> civil date (H. Hinnant's days_from_civil,
 * inverted). */
static void civil(long z, int *y, int *m, int *d)
{
    z += 719468;
    long era = (z >= 0 ? z : z - 146096) / 146097;
    long doe = z - era * 146097;
    long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long yy = yoe + era * 400;
    long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    long mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yy + (*m <= 2));
}

/* A date cell's day number as YYYY-MM-DD into OUT; 0 if out of range.
 * The 1900 system counts the 29th of February 1900 that never was (day
 * 60), so days after it are one too many. */
static int serial_date(const char *v, int date1904, char out[11])
{
    char *end;
    double s = strtod(v, &end);
    if (end == v || *end || !isfinite(s) || s < 1 || s > 2958465)
        return 0;
    long day = (long)floor(s);
    long unix_days;
    if (date1904)
        unix_days = day - 24107;            /* 1904-01-01 is day 0 */
    else if (day == 60)
        return 0;
    else
        unix_days = day - (day > 60 ? 25569 : 25568);
    int y, m, d;
    civil(unix_days, &y, &m, &d);
    snprintf(out, 11, "%04d-%02d-%02d", y, m, d);
    return 1;
}

static wg_rc row_fail(wg_xlsx *x, wg_rc rc, wg_err *e, wg_err *err)
{
    x->failed = rc;
    x->failure = *e;
    if (err)
        *err = *e;
    return rc;
}

/* Append an empty cell, or cell VALUE of KIND, as the next column. */
static wg_rc push_cell(wg_xlsx *x, size_t *ncols, const char *v, size_t n,
                       wg_xlsx_kind kind, wg_err *err)
{
    x->off[*ncols] = x->data.len;
    x->kinds[*ncols] = kind;
    (*ncols)++;
    wg_rc rc = wg_buf_append(&x->data, v, n, err);
    return rc ? rc : wg_buf_append_u8(&x->data, 0, err);
}

/* One <c> element: its text and kind into X->text / *KIND. */
static wg_rc read_cell(wg_xlsx *x, size_t row, wg_xlsx_kind *kind,
                       wg_err *err)
{
    xmlTextReaderPtr r = x->rd;
    char *t = attr(r, "t"), *s = attr(r, "s");
    long style = s ? strtol(s, NULL, 10) : 0;
    int have_v = 0;
    wg_rc rc = WG_OK;
    char vbuf[64];
    wg_buf_reset(&x->text);
    *kind = WG_XLSX_EMPTY;
    if (!xmlTextReaderIsEmptyElement(r)) {
        int depth = xmlTextReaderDepth(r), ok;
        while ((ok = xmlTextReaderRead(r)) == 1) {
            int type = xmlTextReaderNodeType(r);
            if (type == XML_READER_TYPE_END_ELEMENT &&
                xmlTextReaderDepth(r) == depth)
                break;
            if (type != XML_READER_TYPE_ELEMENT)
                continue;
            if (is_elem(r, "v") || is_elem(r, "is")) {
                wg_buf_reset(&x->text);
                if ((rc = collect_text(r, &x->text, err)))
                    goto out;
                have_v = 1;
            }
        }
        if (ok != 1) {
            rc = wg_err_set(err, WG_ERR_INVALID, "row %zu: malformed XML",
                            row);
            goto out;
        }
    }
    if (!have_v)
        goto out;
    if (t && !strcmp(t, "s")) {
        char *end;
        wg_buf_append_u8(&x->text, 0, NULL);
        unsigned long long i = strtoull((char *)x->text.data, &end, 10);
        if (end == (char *)x->text.data || *end || i >= x->nstrings) {
            rc = wg_err_set(err, WG_ERR_INVALID, "row %zu: shared string "
                            "index out of range", row);
            goto out;
        }
        const char *str = (const char *)x->strings.data + x->str_off[i];
        wg_buf_reset(&x->text);
        rc = wg_buf_append(&x->text, str, strlen(str), err);
        *kind = WG_XLSX_TEXT;
    } else if (t && (!strcmp(t, "inlineStr") || !strcmp(t, "str") ||
                     !strcmp(t, "e") || !strcmp(t, "d"))) {
        *kind = WG_XLSX_TEXT;
    } else if (t && !strcmp(t, "b")) {
        *kind = WG_XLSX_BOOL;
    } else {
        /* A number: a date when its format says so. */
        size_t n = x->text.len < sizeof vbuf - 1 ? x->text.len
                                                 : sizeof vbuf - 1;
        char day[11];
        memcpy(vbuf, x->text.data, n);
        vbuf[n] = '\0';
        *kind = WG_XLSX_NUMBER;
        if (style >= 0 && (size_t)style < x->nxf && x->xf_date[style] &&
            serial_date(vbuf, x->date1904, day)) {
            wg_buf_reset(&x->text);
            rc = wg_buf_append(&x->text, day, 10, err);
            *kind = WG_XLSX_DATE;
        }
    }
out:
    xmlFree(t);
    xmlFree(s);
    return rc;
}

wg_rc wg_xlsx_read(wg_xlsx *x, char ***cells, const wg_xlsx_kind **kinds,
                   size_t *n, size_t *row, wg_err *err)
{
    assert(x && cells && n);
    if (x->failed) {
        if (err)
            *err = x->failure;
        return x->failed;
    }
    wg_err e = { 0 };
    xmlTextReaderPtr r = x->rd;
    for (;;) {
        int ok;
        while ((ok = xmlTextReaderRead(r)) == 1 &&
               !(xmlTextReaderNodeType(r) == XML_READER_TYPE_ELEMENT &&
                 is_elem(r, "row")))
            ;
        if (ok == 0)
            return wg_err_set(err, WG_ERR_NOTFOUND, "end of worksheet");
        if (ok != 1) {
            wg_err_set(&e, WG_ERR_INVALID, "row %zu: malformed XML",
                       x->last_row + 1);
            return row_fail(x, WG_ERR_INVALID, &e, err);
        }
        char *rn = attr(r, "r");
        size_t this_row = x->last_row + 1;
        if (rn) {
            char *end;
            unsigned long long v = strtoull(rn, &end, 10);
            int bad = *end || end == rn;
            xmlFree(rn);
            if (bad || v <= x->last_row || v > MAX_ROW) {
                wg_err_set(&e, WG_ERR_INVALID, "row %zu: row numbers out of "
                           "order", this_row);
                return row_fail(x, WG_ERR_INVALID, &e, err);
            }
            this_row = (size_t)v;
        }
        x->last_row = this_row;
        if (xmlTextReaderIsEmptyElement(r))
            continue;
        int depth = xmlTextReaderDepth(r);
        size_t ncols = 0;
        int any = 0;
        wg_buf_reset(&x->data);
        while ((ok = xmlTextReaderRead(r)) == 1) {
            int type = xmlTextReaderNodeType(r);
            if (type == XML_READER_TYPE_END_ELEMENT &&
                xmlTextReaderDepth(r) == depth)
                break;
            if (type != XML_READER_TYPE_ELEMENT || !is_elem(r, "c"))
                continue;
            char *ref = attr(r, "r");
            long col = ref ? ref_col(ref) : (long)ncols;
            xmlFree(ref);
            if (col < 0 || (size_t)col < ncols) {
                wg_err_set(&e, WG_ERR_INVALID, "row %zu: a cell reference "
                           "is malformed, out of order or past column %d",
                           this_row, WG_XLSX_MAX_COLS);
                return row_fail(x, WG_ERR_INVALID, &e, err);
            }
            if (col >= WG_XLSX_MAX_COLS) {
                wg_err_set(&e, WG_ERR_INVALID, "row %zu: more than %d "
                           "columns", this_row, WG_XLSX_MAX_COLS);
                return row_fail(x, WG_ERR_INVALID, &e, err);
            }
            wg_xlsx_kind kind;
            wg_rc rc = read_cell(x, this_row, &kind, &e);
            while (rc == WG_OK && ncols < (size_t)col)
                rc = push_cell(x, &ncols, "", 0, WG_XLSX_EMPTY, &e);
            if (rc == WG_OK)
                rc = push_cell(x, &ncols, (const char *)x->text.data,
                               x->text.len, kind, &e);
            if (rc) {
                if (strncmp(e.msg, "row ", 4)) {
                    wg_err inner = e;
                    wg_err_set(&e, WG_ERR_INVALID, "row %zu: %s", this_row,
                               inner.msg);
                }
                return row_fail(x, WG_ERR_INVALID, &e, err);
            }
            any |= x->text.len > 0;
        }
        if (ok != 1) {
            wg_err_set(&e, WG_ERR_INVALID, "row %zu: malformed XML",
                       this_row);
            return row_fail(x, WG_ERR_INVALID, &e, err);
        }
        if (!any)
            continue;
        for (size_t i = 0; i < ncols; i++)
            x->cells[i] = (char *)x->data.data + x->off[i];
        x->cells[ncols] = NULL;
        *cells = x->cells;
        if (kinds)
            *kinds = x->kinds;
        *n = ncols;
        if (row)
            *row = this_row;
        return WG_OK;
    }
}
