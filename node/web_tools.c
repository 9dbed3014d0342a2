/*
 * web_tools.c - the pages beside the records: review, import, the report
 *
 * Each does what its command does, through the command itself or the same
 * call it makes: review lists what wg_store_duplicates() finds (as `wings
 * review`) and merges through wg_ops_merge() (as `wings merge`); import
 * runs `wings import` on the uploaded file, held in memory only (a memfd,
 * never a file on disk), so every row is checked the one way and nothing
 * is written unless every row holds; the chart and the workbook are what
 * `wings report --svg` and `--xlsx` write, served as an image and as a
 * download. Nothing from a record or an upload reaches a page but through
 * h_text(); the chart is an <img>, never markup inlined into the page.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wg_i18n.h"
#include "wg_validate.h"
#include "web_int.h"

#define REVIEW_MAX_ITEMS 200   /* groups shown; `wings review` lists all */
#define IMPORT_MAX_SHOWN 200   /* failing rows listed on the page */
#define REPORT_FILE_MAX (16u << 20)

static int zh(web_req *r)
{
    return !strcmp(r->lang, "zh_CN");
}

static int may_write(web_req *r)
{
    return r->sess->role != WG_USER_VIEWER;
}

static void note(web_req *r, const char *text)
{
    h_raw(&r->body, "<p class=\"note\" role=\"status\">");
    h_text(&r->body, text);
    h_raw(&r->body, "</p>");
}

/* ---- review ------------------------------------------------------------------ */

/* One item of the review list, whatever its kind: what `wings review
 * --json` prints as {"kind","table","ids","fields"}. */
typedef struct review_item {
    const char *kind;
    const wg_table *t;
    const char *const *ids;
    int nids;
    const char *const *names;    /* the fields that make it an item */
    const char *const *values;
    int nfields;
} review_item;

typedef struct review_ctx {
    wg_web_ctx *w;
    web_req *r;
    int n, more;
} review_ctx;

static const char *kind_text(const char *kind)
{
    if (!strcmp(kind, "duplicate"))
        return _("Held twice");
    if (!strcmp(kind, "overwritten"))
        return _("Edit overwritten");
    return kind;
}

static void review_render(review_ctx *c, const review_item *it)
{
    web_req *r = c->r;
    wg_buf *b = &r->body;
    const wg_table *t = it->t;
    int k = c->n;
    char line[600];
    h_printf(b, "<section class=\"review\" aria-labelledby=\"rv-%d\">"
                "<h2 id=\"rv-%d\">", k, k);
    h_text(b, kind_text(it->kind));
    h_text(b, zh(r) ? "：" : ": ");
    if (!strcmp(it->kind, "duplicate") && it->nfields == 1) {
        int f = wg_schema_field_index(t, it->names[0]);
        snprintf(line, sizeof line, _("%s held %d times under one %s"),
                 web_table_title(r, t, 0), it->nids,
                 f >= 0 ? web_field_label(r, &t->fields[f]) : it->names[0]);
        h_text(b, line);
    } else {
        h_text(b, web_table_title(r, t, 0));
    }
    h_raw(b, "</h2><dl class=\"record\">");
    for (int i = 0; i < it->nfields; i++) {
        int f = wg_schema_field_index(t, it->names[i]);
        h_raw(b, "<dt>");
        h_text(b, f >= 0 ? web_field_label(r, &t->fields[f]) : it->names[i]);
        h_raw(b, "</dt><dd>");
        if (f >= 0)
            web_value(r, &t->fields[f], it->values[i]);
        else
            h_text(b, it->values[i]);
        h_raw(b, "</dd>");
    }
    h_raw(b, "</dl>");
    /* Merging joins records held twice; other kinds are read here and
     * settled by editing the record. */
    int merge = !strcmp(it->kind, "duplicate") && may_write(r) && it->nids > 1;
    if (merge) {
        h_raw(b, "<form method=\"post\" action=\"/review/merge\">");
        web_csrf_field(r);
        h_raw(b, "<input type=\"hidden\" name=\"table\" value=\"");
        h_text(b, t->name);
        h_raw(b, "\"><input type=\"hidden\" name=\"ids\" value=\"");
        for (int i = 0; i < it->nids; i++) {
            if (i)
                h_raw(b, ",");
            h_text(b, it->ids[i]);
        }
        h_printf(b, "\"><fieldset><legend id=\"rvl-%d\">", k);
        h_text(b, _("Keep which record? The others' trainings and "
                    "placements move to it, and they are deleted; history "
                    "keeps both."));
        h_raw(b, "</legend>");
    }
    static const char *const cols[] = { "name", "gender", "birth_date",
                                        "county", "township",
                                        "registered_on" };
    int ncols = 0, idx[8];
    for (size_t i = 0; i < sizeof cols / sizeof cols[0]; i++) {
        int f = wg_schema_field_index(t, cols[i]);
        if (f >= 0)
            idx[ncols++] = f;
    }
    h_raw(b, "<table class=\"list\"><thead><tr>");
    if (merge) {
        h_raw(b, "<th scope=\"col\">");
        h_text(b, _("Keep"));
        h_raw(b, "</th>");
    }
    h_raw(b, "<th scope=\"col\">");
    h_text(b, _("Record"));
    h_raw(b, "</th>");
    for (int i = 0; i < ncols; i++) {
        h_raw(b, "<th scope=\"col\">");
        h_text(b, web_field_label(r, &t->fields[idx[i]]));
        h_raw(b, "</th>");
    }
    h_raw(b, "</tr></thead><tbody>");
    for (int i = 0; i < it->nids; i++) {
        wg_record rec;
        int have = wg_store_get(c->w->st, t, it->ids[i], &rec, NULL) == WG_OK;
        h_raw(b, "<tr>");
        if (merge) {
            h_printf(b, "<td><input type=\"radio\" name=\"keep\" "
                        "id=\"rv-%d-%d\" value=\"", k, i);
            h_text(b, it->ids[i]);
            h_printf(b, "\"%s><label class=\"visually-hidden\" "
                        "for=\"rv-%d-%d\">", i == 0 ? " checked" : "", k, i);
            snprintf(line, sizeof line, _("Keep %.8s"), it->ids[i]);
            h_text(b, line);
            h_raw(b, "</label></td>");
        }
        h_raw(b, "<th scope=\"row\"><a href=\"/");
        h_raw(b, t->name);
        h_raw(b, "/");
        h_text(b, it->ids[i]);
        h_raw(b, "\"><span class=\"id\">");
        h_text(b, it->ids[i]);
        h_raw(b, "</span></a></th>");
        for (int j = 0; j < ncols; j++) {
            h_raw(b, "<td>");
            if (have)
                web_value(r, &t->fields[idx[j]], rec.values[idx[j]]);
            h_raw(b, "</td>");
        }
        h_raw(b, "</tr>");
        if (have)
            wg_record_release(&rec);
    }
    h_raw(b, "</tbody></table>");
    if (merge) {
        h_raw(b, "</fieldset><div class=\"actions\"><button type=\"submit\">");
        h_text(b, _("Merge into the record kept"));
        h_raw(b, "</button></div></form>");
    }
    h_raw(b, "</section>");
}

static int on_duplicate(void *p, const wg_table *t, const char *field,
                        const char *value, const char *const *ids, int n)
{
    review_ctx *c = p;
    if (c->n >= REVIEW_MAX_ITEMS) {
        c->more = 1;
        return 1;
    }
    const char *names[1] = { field }, *values[1] = { value };
    review_item it = { "duplicate", t, ids, n, names, values, 1 };
    review_render(c, &it);
    c->n++;
    return 0;
}

/* One field two writers changed at once: the value the last-writer rule
 * kept and the one it overwrote, each with clerk@node and its time, as
 * 'wings review' prints them. Settled by editing the record. */
static int on_overwrite(void *p, const wg_overwrite *o)
{
    review_ctx *c = p;
    if (c->n >= REVIEW_MAX_ITEMS) {
        c->more = 1;
        return 1;
    }
    web_req *r = c->r;
    wg_buf *b = &r->body;
    int k = c->n++;
    int f = wg_schema_field_index(o->table, o->field);
    h_printf(b, "<section class=\"review\" aria-labelledby=\"rv-%d\">"
                "<h2 id=\"rv-%d\">", k, k);
    h_text(b, kind_text("overwritten"));
    h_text(b, zh(r) ? "：" : ": ");
    h_text(b, web_table_title(r, o->table, 0));
    h_text(b, zh(r) ? "，" : ", ");
    h_text(b, f >= 0 ? web_field_label(r, &o->table->fields[f]) : o->field);
    h_raw(b, "</h2><dl class=\"record\"><dt>");
    h_text(b, _("Record"));
    h_raw(b, "</dt><dd><a href=\"/");
    h_raw(b, o->table->name);
    h_raw(b, "/");
    h_text(b, o->id);
    h_raw(b, "\"><span class=\"id\">");
    h_text(b, o->id);
    h_raw(b, "</span></a></dd>");
    for (int w = 0; w < 2; w++) {
        char who[WG_ACTOR_MAX + WG_NAME_MAX + 2], human[32], iso[40];
        wg_cli_writer(c->w->st, o->origin[w], o->clerk[w], who, sizeof who,
                      NULL, 0);
        wg_cli_local_time((int64_t)((o->hlc[w] >> 16) / 1000), human, iso);
        h_raw(b, "<dt>");
        h_text(b, w == 0 ? _("Kept") : _("Overwritten"));
        h_raw(b, "</dt><dd>");
        if (!o->value[w]) {
            h_raw(b, "<em>");
            h_text(b, _("cleared"));
            h_raw(b, "</em>");
        } else if (f >= 0) {
            web_value(r, &o->table->fields[f], o->value[w]);
        } else {
            h_text(b, o->value[w]);
        }
        h_raw(b, " <span class=\"who\">(");
        h_text(b, who);
        h_text(b, zh(r) ? "，" : ", ");
        h_text(b, human);
        h_raw(b, ")</span></dd>");
    }
    h_raw(b, "</dl><p>");
    h_text(b, _("To keep the overwritten value, edit the record."));
    h_raw(b, "</p></section>");
    return 0;
}

static void review_page(wg_web_ctx *w, web_req *r, const char *error)
{
    wg_buf *b = &r->body;
    web_page_begin(w, r, _("Review"));
    h_raw(b, "<h1>");
    h_text(b, _("Review"));
    h_raw(b, "</h1>");
    if (error) {
        h_raw(b, "<div class=\"errors\" id=\"errors\" role=\"alert\" "
                 "tabindex=\"-1\"><p>");
        h_text(b, error);
        h_raw(b, "</p></div>");
    }
    const char *merged = web_arg(r, "merged");
    if (merged && strspn(merged, "0123456789") == strlen(merged) &&
        strlen(merged) < 4) {
        char line[200];
        snprintf(line, sizeof line, _("Merged: %s record(s) joined into the "
                                      "one kept."), merged);
        note(r, line);
    }
    h_raw(b, "<p>");
    h_text(b, _("What needs a person's eye: persons registered twice (at "
                "two offices before they synced), and edits that a later "
                "edit overwrote. The same list as 'wings review'."));
    h_raw(b, "</p>");
    review_ctx c = { w, r, 0, 0 };
    wg_err err = { 0 };
    wg_rc rc = WG_OK;
    const wg_table *t;
    for (int i = 0; rc == WG_OK && !c.more && (t = wg_schema_table_at(i)); i++)
        rc = wg_store_duplicates(w->st, t, on_duplicate, &c, &err);
    if (rc == WG_OK && !c.more)
        rc = wg_store_overwritten(w->st, on_overwrite, &c, &err);
    if (rc) {
        h_raw(b, "<p class=\"error\" role=\"alert\">");
        h_text(b, err.msg);
        h_raw(b, "</p>");
    } else if (!c.n) {
        h_raw(b, "<p id=\"review-empty\">");
        h_text(b, _("Nothing to review."));
        h_raw(b, "</p>");
    } else if (c.more) {
        char line[200];
        snprintf(line, sizeof line, _("The first %d are shown; 'wings "
                                      "review' lists every one."),
                 REVIEW_MAX_ITEMS);
        h_raw(b, "<p>");
        h_text(b, line);
        h_raw(b, "</p>");
    }
    web_page_end(r);
}

void page_review(wg_web_ctx *w, web_req *r)
{
    review_page(w, r, NULL);
}

/* 1 if live records A and B of T hold one value of a unique field: the
 * page merges only what review lists, never two records a forged form
 * names. */
static int held_twice(wg_web_ctx *w, const wg_table *t, const char *a,
                      const char *b)
{
    wg_record ra, rb;
    int same = 0;
    if (wg_store_get(w->st, t, a, &ra, NULL) != WG_OK)
        return 0;
    if (wg_store_get(w->st, t, b, &rb, NULL) == WG_OK) {
        for (int f = 0; f < t->nfields && !ra.deleted && !rb.deleted; f++)
            if (t->fields[f].unique && ra.values[f] && rb.values[f] &&
                !strcmp(ra.values[f], rb.values[f]))
                same = 1;
        wg_record_release(&rb);
    }
    wg_record_release(&ra);
    return same;
}

void page_review_merge(wg_web_ctx *w, web_req *r)
{
    if (!may_write(r)) {
        web_refuse(w, r, 403, _("Not allowed"),
                   _("Your account may read records but not change them."));
        return;
    }
    const char *tn = web_form(r, "table"), *keep = web_form(r, "keep");
    const char *ids = web_form(r, "ids");
    const wg_table *t = tn ? wg_schema_table(tn) : NULL;
    if (!t || !ids || strlen(ids) > 64 * (WG_ID_HEX_CHARS + 1)) {
        web_refuse(w, r, 400, _("Not merged"),
                   _("This form is not one this page made. Nothing was "
                     "changed."));
        return;
    }
    if (!keep || !wg_validate_record_id(keep) || !strstr(ids, keep)) {
        r->status = 422;
        review_page(w, r, _("Choose the record to keep, then merge."));
        return;
    }
    /* Every other id of the group into the one kept, each as `wings merge
     * TABLE KEEP DUPLICATE` does it. */
    int merged = 0;
    wg_err err = { 0 };
    char id[WG_ID_HEX_CHARS + 1];
    for (const char *p = ids; *p;) {
        size_t n = strcspn(p, ",");
        if (n == WG_ID_HEX_CHARS) {
            memcpy(id, p, n);
            id[n] = 0;
            int moved = 0;
            if (wg_validate_record_id(id) && strcmp(id, keep)) {
                if (!held_twice(w, t, keep, id)) {
                    r->status = 422;
                    review_page(w, r, _("These records do not share an ID "
                                        "number: they are not one person "
                                        "held twice. Nothing was merged."));
                    return;
                }
                if (wg_ops_merge(w->st, r->sess->user, t, keep, id, &moved,
                                 &err) != WG_OK) {
                    r->status = 422;
                    review_page(w, r, err.msg);
                    return;
                }
                merged++;
            }
        }
        p += n;
        if (*p == ',')
            p++;
    }
    char to[64];
    snprintf(to, sizeof to, "/review?merged=%d", merged);
    web_redirect(r, to);
}

/* ---- import ---------------------------------------------------------------------- */

/* The count after KEY ("\"added\":") in a JSON object, or 0. */
static long json_count(const char *json, const char *key)
{
    const char *p = json ? strstr(json, key) : NULL;
    return p ? strtol(p + strlen(key), NULL, 10) : 0;
}

/* S with every FROM replaced by TO, into OUT. */
static void replace_all(const char *s, const char *from, const char *to,
                        char *out, size_t cap)
{
    size_t n = 0, fl = strlen(from), tl = strlen(to);
    while (*s && n + 1 < cap) {
        if (fl && !strncmp(s, from, fl) && n + tl + 1 < cap) {
            memcpy(out + n, to, tl);
            n += tl;
            s += fl;
        } else {
            out[n++] = *s++;
        }
    }
    out[n] = 0;
}

/* The diagnostic on the line at P ("wings: " and what follows, to the end
 * of the line), or NULL: a progress line the command wrote to a terminal
 * may stand before it. */
static const char *diag_of(const char *p)
{
    size_t n = strcspn(p, "\n");
    for (const char *q = p; q && q < p + n; q++) {
        q = strstr(q, "wings: ");
        if (!q || q >= p + n)
            return NULL;
        if (q == p || q[-1] == '\r' || q[-1] == ')')
            return q + 7;
    }
    return NULL;
}

static void table_select(web_req *r, const char *chosen)
{
    wg_buf *b = &r->body;
    h_raw(b, "<div class=\"field\"><label for=\"f-table\">");
    h_text(b, _("What the file holds"));
    h_raw(b, "</label><select id=\"f-table\" name=\"table\">");
    for (int i = 0; wg_schema_table_at(i); i++) {
        const wg_table *t = wg_schema_table_at(i);
        h_raw(b, "<option value=\"");
        h_text(b, t->name);
        h_raw(b, chosen && !strcmp(chosen, t->name) ? "\" selected>" : "\">");
        h_text(b, web_table_title(r, t, 1));
        h_raw(b, "</option>");
    }
    h_raw(b, "</select></div>");
}

typedef struct import_result {
    int done;                  /* a run happened */
    int code;
    char *out, *errs;
    const char *fd_path;       /* to show as the file's name */
} import_result;

static void import_page(wg_web_ctx *w, web_req *r, const char *table,
                        int update, const char *file_error,
                        const import_result *res)
{
    wg_buf *b = &r->body;
    web_page_begin(w, r, _("Import records"));
    h_raw(b, "<h1>");
    h_text(b, _("Import records"));
    h_raw(b, "</h1>");
    const char *added = web_arg(r, "added");
    if (added) {
        char line[300];
        long a = strtol(added, NULL, 10);
        const char *u = web_arg(r, "updated"), *k = web_arg(r, "unchanged");
        snprintf(line, sizeof line, _("Imported: %ld record(s) added, %ld "
                                      "updated, %ld already held "
                                      "unchanged."), a < 0 ? 0 : a,
                 u ? labs(strtol(u, NULL, 10)) : 0,
                 k ? labs(strtol(k, NULL, 10)) : 0);
        note(r, line);
    }
    int nitems = 0;
    if (file_error || (res && res->done && res->code)) {
        const char *name = r->upload_name[0] ? r->upload_name : "?";
        h_raw(b, "<div class=\"errors\" id=\"errors\" role=\"alert\" "
                 "tabindex=\"-1\"><h2 id=\"errors-h\">");
        if (file_error) {
            h_text(b, _("Nothing was imported."));
            h_raw(b, "</h2><ul><li><a href=\"#f-file\">");
            h_text(b, file_error);
            h_raw(b, "</a></li></ul></div>");
        } else {
            /* Count the rows named, then say it before listing them. */
            long rows = 0;
            for (const char *p = res->errs; p && *p; p += strcspn(p, "\n"),
                 p += *p == '\n') {
                const char *d = diag_of(p);
                rows += d && !strncmp(d, "line ", 5) && strncmp(d, "line 1: ", 8);
            }
            char line[300];
            if (rows)
                snprintf(line, sizeof line, _("Nothing was written: %ld "
                                              "row(s) of %s failed. Correct "
                                              "them in the file and import it "
                                              "again."), rows, name);
            else
                snprintf(line, sizeof line, _("Nothing was written from "
                                              "%s."), name);
            h_text(b, line);
            h_raw(b, "</h2><ul class=\"lines\">");
            char msg[WG_ERR_MSG_BYTES * 2];
            for (const char *p = res->errs; p && *p;) {
                size_t n = strcspn(p, "\n");
                char one[WG_ERR_MSG_BYTES * 2];
                snprintf(one, sizeof one, "%.*s", (int)n, p);
                p += n;
                if (*p == '\n')
                    p++;
                const char *m = diag_of(one);
                if (!m)
                    continue;   /* not a diagnostic */
                char *end;
                long ln = !strncmp(m, "line ", 5) ? strtol(m + 5, &end, 10)
                                                  : 0;
                if (ln > 0 && !strncmp(end, ": ", 2)) {
                    if (rows && !strncmp(end + 2, "...", 3))
                        continue;
                    if (++nitems > IMPORT_MAX_SHOWN)
                        continue;
                    replace_all(end + 2, res->fd_path, name, msg, sizeof msg);
                    snprintf(one, sizeof one, _("Line %ld"), ln);
                    h_raw(b, "<li><span class=\"k\">");
                    h_text(b, one);
                    h_text(b, zh(r) ? "：" : ": ");
                    h_raw(b, "</span>");
                    h_text(b, msg);
                    h_raw(b, "</li>");
                } else if (!rows || !strstr(m, res->fd_path)) {
                    /* the file as a whole (the summary that names the
                     * file is said above when lines were listed) */
                    replace_all(m, res->fd_path, name, msg, sizeof msg);
                    h_raw(b, "<li>");
                    h_text(b, msg);
                    h_raw(b, "</li>");
                    nitems++;
                }
            }
            h_raw(b, "</ul>");
            if (nitems > IMPORT_MAX_SHOWN) {
                snprintf(line, sizeof line, _("... and %d more."),
                         nitems - IMPORT_MAX_SHOWN);
                h_raw(b, "<p>");
                h_text(b, line);
                h_raw(b, "</p>");
            }
            h_raw(b, "</div>");
        }
    }
    h_raw(b, "<p>");
    h_text(b, _("A CSV file or an Excel workbook (.xlsx) whose first row "
                "names the columns: the field names, or the Chinese column "
                "titles that an export for Excel has. Every row is checked "
                "first: if one fails, nothing is written and each failing "
                "line is listed. A file imported twice writes nothing the "
                "second time."));
    h_raw(b, "</p><form method=\"post\" action=\"/import\" "
             "enctype=\"multipart/form-data\" class=\"record-form\" "
             "novalidate>");
    web_csrf_field(r);
    table_select(r, table);
    h_raw(b, file_error ? "<div class=\"field has-error\">"
                        : "<div class=\"field\">");
    h_raw(b, "<label for=\"f-file\">");
    h_text(b, _("File"));
    h_raw(b, "</label><p class=\"hint\" id=\"h-file\">");
    h_text(b, _("CSV (UTF-8 or GBK, as Excel and WPS save it) or .xlsx, at "
                "most 16 MB."));
    h_raw(b, "</p>");
    if (file_error) {
        h_raw(b, "<p class=\"error\" id=\"e-file\"><span "
                 "class=\"visually-hidden\">");
        h_text(b, _("Error:"));
        h_raw(b, " </span>");
        h_text(b, file_error);
        h_raw(b, "</p>");
    }
    h_raw(b, "<input id=\"f-file\" name=\"file\" type=\"file\" "
             "accept=\".csv,.xlsx,text/csv\" aria-required=\"true\" ");
    h_raw(b, file_error ? "aria-invalid=\"true\" aria-describedby=\"e-file "
                          "h-file\">"
          : res && res->done && res->code ? "aria-describedby=\"errors-h "
                                            "h-file\">"
                                          : "aria-describedby=\"h-file\">");
    h_raw(b, "</div><div class=\"field check\"><input type=\"checkbox\" "
             "id=\"f-update\" name=\"update\" value=\"1\"");
    h_raw(b, update ? " checked>" : ">");
    h_raw(b, "<label for=\"f-update\">");
    h_text(b, _("Apply the file's values to records this node holds (an "
                "edited export coming back)"));
    h_raw(b, "</label></div><div class=\"actions\"><button type=\"submit\">");
    h_text(b, _("Import"));
    h_raw(b, "</button></div></form>");
    web_page_end(r);
}

void page_import(wg_web_ctx *w, web_req *r)
{
    if (!may_write(r)) {
        web_refuse(w, r, 403, _("Not allowed"),
                   _("Your account may read records but not change them."));
        return;
    }
    if (!r->is_post) {
        import_page(w, r, web_arg(r, "table"), 0, NULL, NULL);
        return;
    }
    const char *tn = web_form(r, "table");
    const wg_table *t = tn ? wg_schema_table(tn) : NULL;
    int update = web_form(r, "update") != NULL;
    if (!t) {
        r->status = 422;
        import_page(w, r, NULL, update, _("Choose what the file holds."),
                    NULL);
        return;
    }
    if (!r->upload || !r->upload_len) {
        r->status = 422;
        import_page(w, r, tn, update, r->upload
                    ? _("The file chosen is empty.")
                    : _("Choose a file to import."), NULL);
        return;
    }
    /* The file in memory only: the import reads it by name as the
     * command line reads a file. */
    int fd = memfd_create("wings-import", MFD_CLOEXEC);
    size_t off = 0;
    while (fd >= 0 && off < r->upload_len) {
        ssize_t k = write(fd, r->upload + off, r->upload_len - off);
        if (k <= 0) {
            if (k < 0 && errno == EINTR)
                continue;
            close(fd);
            fd = -1;
            break;
        }
        off += (size_t)k;
    }
    if (fd < 0) {
        web_refuse(w, r, 500, _("Not imported"),
                   _("The file could not be held for checking. Nothing was "
                     "written."));
        return;
    }
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    char *argv[5] = { "import", (char *)t->name, path, "--update", NULL };
    import_result res = { .done = 1, .fd_path = path };
    res.code = web_run(w, r, update ? 4 : 3, argv, &res.out, &res.errs);
    close(fd);
    if (res.code == 0) {
        char to[200];
        snprintf(to, sizeof to, "/import?table=%s&added=%ld&updated=%ld&"
                 "unchanged=%ld", t->name, json_count(res.out, "\"added\":"),
                 json_count(res.out, "\"updated\":"),
                 json_count(res.out, "\"unchanged\":"));
        web_redirect(r, to);
    } else {
        r->status = res.code == WG_EXIT_INVALID ? 422 : 500;
        import_page(w, r, t->name, update, NULL, &res);
    }
    free(res.out);
    free(res.errs);
}

/* ---- the report --------------------------------------------------------------- */

typedef struct area_names {
    char (*code)[WG_COUNTY_CHARS + 1];
    char (*name)[WG_AREA_NAME_MAX + 1];
    size_t n, cap;
} area_names;

static int collect_area(void *p, const char *code, const char *name)
{
    area_names *a = p;
    if (a->n == a->cap) {
        a->cap = a->cap ? a->cap * 2 : 64;
        a->code = wg_xrealloc(a->code, a->cap * sizeof *a->code);
        a->name = wg_xrealloc(a->name, a->cap * sizeof *a->name);
    }
    snprintf(a->code[a->n], sizeof a->code[0], "%s", code);
    snprintf(a->name[a->n], sizeof a->name[0], "%s", name);
    a->n++;
    return 0;
}

static const char *area_name(const area_names *a, const char *code)
{
    for (size_t i = 0; i < a->n; i++)   /* a few hundred at most */
        if (!strcmp(a->code[i], code))
            return a->name[i];
    return NULL;
}

static const char *dim_label(wg_report_dim d)
{
    switch (d) {
    case WG_DIM_COUNTY: return _("County");
    case WG_DIM_TOWNSHIP: return _("Township");
    case WG_DIM_GENDER: return _("Gender");
    case WG_DIM_DISABILITY_CATEGORY: return _("Disability category");
    case WG_DIM_DISABILITY_GRADE: return _("Disability grade");
    case WG_DIM_RURAL: return _("Rural or urban");
    case WG_DIM_EMPLOYMENT_TYPE: return _("Employment type");
    case WG_DIM_CATEGORY: return _("Training category");
    default: return "";
    }
}

/* The key of dimension D of row R as people read it. */
static void key_html(web_req *r, const wg_report *rep, const wg_report_row *row,
                     int d)
{
    wg_buf *b = &r->body;
    if ((row->total >> d) & 1) {
        h_text(b, _("Total"));
        return;
    }
    const char *k = row->key[d];
    if (!k[0]) {
        h_text(b, _("(none)"));
        return;
    }
    wg_report_dim dim = rep->q.dims[d];
    if (dim == WG_DIM_RURAL) {
        h_text(b, !strcmp(k, "1") ? _("rural") : _("urban"));
        return;
    }
    static const char *const field[WG_DIM_COUNT] = {
        NULL, NULL, "gender", "disability_category", NULL, NULL,
        "employment_type", "category" };
    if (field[dim]) {
        const wg_table *t = wg_schema_table(
            dim == WG_DIM_CATEGORY ? "training"
            : dim == WG_DIM_EMPLOYMENT_TYPE ? "placement" : "person");
        int f = t ? wg_schema_field_index(t, field[dim]) : -1;
        if (f >= 0) {
            web_value(r, &t->fields[f], k);
            return;
        }
    }
    h_text(b, k);
}

static void report_row(web_req *r, const wg_report *rep,
                       const area_names *names, const wg_report_row *row,
                       int with_name)
{
    wg_buf *b = &r->body;
    h_raw(b, row->total == (1u << rep->q.ndims) - 1 ? "<tr class=\"total\">"
                                                   : "<tr>");
    for (int d = 0; d < rep->q.ndims; d++) {
        h_raw(b, d == 0 ? "<th scope=\"row\">" : "<td>");
        key_html(r, rep, row, d);
        h_raw(b, d == 0 ? "</th>" : "</td>");
    }
    if (with_name) {
        h_raw(b, "<td>");
        if (!(row->total & 1))
            h_text(b, area_name(names, row->key[0]));
        h_raw(b, "</td>");
    }
    h_printf(b, "<td class=\"n\">%ld</td><td class=\"n\">%ld</td>"
                "<td class=\"n\">%ld</td><td class=\"n\">%.2f</td>"
                "<td class=\"n\">%ld</td><td class=\"n\">%ld</td>"
                "<td class=\"n\">%ld</td><td class=\"n\">",
             row->persons, row->working_age, row->working_age_employed,
             row->rate, row->employed, row->trained, row->certified);
    if (row->has_median)   /* yuan, to the fen as the records show them */
        h_printf(b, row->median == (double)(long long)row->median ? "%.0f"
                                                                  : "%.2f",
                 row->median);
    h_raw(b, "</td></tr>");
}

/* ?by= as a dimension; county when absent or unknown. */
static wg_report_dim by_arg(web_req *r)
{
    const char *by = web_arg(r, "by");
    int d = by ? wg_report_dim_parse(by) : -1;
    return d >= 0 && d < WG_DIM_COUNT ? (wg_report_dim)d : WG_DIM_COUNTY;
}

void page_report(wg_web_ctx *w, web_req *r)
{
    wg_buf *b = &r->body;
    wg_report_dim dim = by_arg(r);
    wg_report_query q;
    wg_report_query_init(&q);
    q.dims[0] = dim;
    q.ndims = 1;
    wg_report rep;
    wg_err err = { 0 };
    area_names names = { 0 };
    wg_rc rc = wg_store_areas(w->st, collect_area, &names, &err);
    if (rc == WG_OK)
        rc = wg_store_report(w->st, &q, &rep, &err);
    web_page_begin(w, r, _("Report"));
    h_raw(b, "<h1>");
    h_text(b, _("Report"));
    h_raw(b, "</h1>");
    if (rc) {
        h_raw(b, "<p class=\"error\" role=\"alert\">");
        h_text(b, err.msg);
        h_raw(b, "</p>");
        free(names.code);
        free(names.name);
        web_page_end(r);
        return;
    }
    char line[300];
    snprintf(line, sizeof line, _("The records this node holds, as of %s; "
                                  "working age %d to %d. The same figures "
                                  "as 'wings report'."), rep.date,
             rep.q.age_min, rep.q.age_max);
    h_raw(b, "<p>");
    h_text(b, line);
    h_raw(b, "</p><form method=\"get\" action=\"/report\" class=\"search\">"
             "<label for=\"f-by\">");
    h_text(b, _("Group by"));
    h_raw(b, "</label><div class=\"row\"><select id=\"f-by\" name=\"by\">");
    for (int d = 0; d < WG_DIM_COUNT; d++) {
        h_raw(b, "<option value=\"");
        h_text(b, wg_report_dim_name((wg_report_dim)d));
        h_raw(b, d == (int)dim ? "\" selected>" : "\">");
        h_text(b, dim_label((wg_report_dim)d));
        h_raw(b, "</option>");
    }
    h_raw(b, "</select><button type=\"submit\">");
    h_text(b, _("Show"));
    h_raw(b, "</button></div></form>");
    h_raw(b, "<p><a class=\"button\" href=\"/report.xlsx\" download>");
    h_text(b, _("Download the workbook (.xlsx, every table)"));
    h_raw(b, "</a></p>");
    /* The chart: the image `report --svg` draws, never markup here. */
    h_raw(b, "<figure class=\"chart\"><img src=\"/report.svg?by=");
    h_text(b, wg_report_dim_name(dim));
    h_raw(b, "\" alt=\"");
    snprintf(line, sizeof line, _("Bar chart: employment rate by %s. The "
                                  "table below holds the same figures."),
             dim_label(dim));
    h_text(b, line);
    h_raw(b, "\"><figcaption>");
    snprintf(line, sizeof line, _("Employment rate by %s"), dim_label(dim));
    h_text(b, line);
    h_raw(b, "</figcaption></figure>");
    int with_name = dim == WG_DIM_COUNTY;
    h_raw(b, "<div class=\"scroll\" tabindex=\"0\" role=\"region\" "
             "aria-labelledby=\"cap-report\"><table class=\"list report\">"
             "<caption id=\"cap-report\">");
    snprintf(line, sizeof line, _("Figures by %s"), dim_label(dim));
    h_text(b, line);
    h_raw(b, "</caption><thead><tr><th scope=\"col\">");
    h_text(b, dim_label(dim));
    h_raw(b, "</th>");
    if (with_name) {
        h_raw(b, "<th scope=\"col\">");
        h_text(b, _("Name"));
        h_raw(b, "</th>");
    }
    const char *heads[] = { _("Persons registered"), _("Of working age"),
                            _("Employed, of working age"),
                            _("Employment rate (%)"), _("Employed"),
                            _("Trained"), _("Certified"),
                            _("Median monthly income (yuan)") };
    for (size_t i = 0; i < sizeof heads / sizeof heads[0]; i++) {
        h_raw(b, "<th scope=\"col\" class=\"n\">");
        h_text(b, heads[i]);
        h_raw(b, "</th>");
    }
    h_raw(b, "</tr></thead><tbody>");
    for (size_t i = 0; i < rep.n; i++)
        report_row(r, &rep, &names, &rep.rows[i], with_name);
    h_raw(b, "</tbody></table></div>");
    wg_report_release(&rep);
    free(names.code);
    free(names.name);
    web_page_end(r);
}

/* Read the file PATH (at most REPORT_FILE_MAX bytes) into the answer. */
static int read_into(web_req *r, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    char buf[65536];
    size_t n, total = 0;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
        total += n;
        if (total > REPORT_FILE_MAX ||
            wg_buf_append(&r->body, buf, n, NULL) != WG_OK) {
            fclose(f);
            return -1;
        }
    }
    fclose(f);
    return 0;
}

void page_report_file(wg_web_ctx *w, web_req *r, int xlsx)
{
    /* The command writes a file: into a folder of our own, removed at
     * once. */
    const char *tmp = getenv("TMPDIR");
    char dir[512], path[600];
    snprintf(dir, sizeof dir, "%s/wings-report.XXXXXX",
             tmp && *tmp && strlen(tmp) < 400 ? tmp : "/tmp");
    if (!mkdtemp(dir)) {
        web_refuse(w, r, 500, _("Not available"),
                   _("The chart or workbook could not be made here."));
        return;
    }
    snprintf(path, sizeof path, "%s/%s", dir, xlsx ? "report.xlsx"
                                                   : "chart.svg");
    char *argv[6] = { "report", xlsx ? "--xlsx" : "--svg", path, NULL, NULL,
                      NULL };
    int argc = 3;
    if (!xlsx) {
        argv[3] = "--by";
        argv[4] = (char *)wg_report_dim_name(by_arg(r));
        argc = 5;
    }
    char *out = NULL, *errs = NULL;
    int code = web_run(w, r, argc, argv, &out, &errs);
    wg_buf_reset(&r->body);
    int bad = code != 0 || read_into(r, path) != 0;
    unlink(path);
    /* a temporary file the command left behind on failure */
    DIR *dp = opendir(dir);
    struct dirent *de;
    while (dp && (de = readdir(dp))) {
        char p2[900];
        if (de->d_name[0] == '.')
            continue;
        snprintf(p2, sizeof p2, "%s/%s", dir, de->d_name);
        unlink(p2);
    }
    if (dp)
        closedir(dp);
    rmdir(dir);
    if (bad) {
        char msg[WG_ERR_MSG_BYTES];
        snprintf(msg, sizeof msg, "%s", errs && !strncmp(errs, "wings: ", 7)
                                            ? errs + 7 : "");
        msg[strcspn(msg, "\n")] = 0;
        free(out);
        free(errs);
        web_refuse(w, r, 500, _("Not available"),
                   msg[0] ? msg : _("The chart or workbook could not be "
                                    "made here."));
        return;
    }
    free(out);
    free(errs);
    r->no_cache = 1;
    if (xlsx) {
        r->ctype = "application/vnd.openxmlformats-officedocument."
                   "spreadsheetml.sheet";
        char date[16];
        time_t now = time(NULL);
        struct tm tm;
        strftime(date, sizeof date, "%Y-%m-%d", localtime_r(&now, &tm));
        snprintf(r->disposition, sizeof r->disposition,
                 "attachment; filename=\"wings-report-%s.xlsx\"", date);
    } else {
        r->ctype = "image/svg+xml";
    }
}
