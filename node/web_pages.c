/*
 * web_pages.c - the pages: persons, a record, a record's form, sync status
 *
 * Every value from a record, a peer or a form goes through h_text(); labels
 * are the schema's Chinese titles (English ones here), errors the
 * validators' own messages, placed beside the field they name.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wg_i18n.h"
#include "wg_validate.h"
#include "web_int.h"

static int zh(web_req *r)
{
    return !strcmp(r->lang, "zh_CN");
}

/* English labels of the fields (the Chinese ones are in the schema). */
static const struct { const char *name, *label; } en_labels[] = {
    { "name", "Name" }, { "gender", "Gender" },
    { "birth_date", "Date of birth" }, { "id_number", "Resident ID number" },
    { "disability_category", "Disability category" },
    { "disability_grade", "Disability grade" },
    { "certificate_no", "Disability certificate number" },
    { "county", "County code" }, { "township", "Township" },
    { "phone", "Phone" }, { "rural", "Rural household" },
    { "registered_on", "Registered on" }, { "person_id", "Person" },
    { "certificate_valid_until", "Certificate valid until" },
    { "course", "Course" }, { "category", "Training category" },
    { "provider", "Training provider" }, { "start_date", "Start date" },
    { "end_date", "End date" }, { "hours", "Hours" },
    { "outcome", "Outcome" }, { "employer", "Employer" },
    { "employment_type", "Employment type" }, { "position", "Position" },
    { "monthly_income", "Monthly income (yuan)" }, { "status", "Status" },
};

static const char *label(web_req *r, const wg_field *f)
{
    if (zh(r) && f->title)
        return f->title;
    for (size_t i = 0; i < sizeof en_labels / sizeof en_labels[0]; i++)
        if (!strcmp(en_labels[i].name, f->name))
            return en_labels[i].label;
    /* A field added since: its name, made readable. Callers use the label
     * at once, so a small ring of buffers is enough. */
    static char ring[4][64];
    static int next;
    char *out = ring[next++ & 3];
    snprintf(out, sizeof ring[0], "%s", f->name);
    for (char *p = out; *p; p++)
        if (*p == '_')
            *p = ' ';
    if (out[0] >= 'a' && out[0] <= 'z')
        out[0] = (char)(out[0] - 'a' + 'A');
    return out;
}

static const char *table_title(web_req *r, const wg_table *t, int plural)
{
    if (!strcmp(t->name, "person"))
        return plural ? _("Persons") : _("Person");
    if (!strcmp(t->name, "training"))
        return plural ? _("Trainings") : _("Training");
    return plural ? _("Placements") : _("Placement");
}

/* A value as people read it: enum labels, yes/no. */
/* Is field I of T one a clerk sees and types? Not the fields the store
 * keeps for itself (the clerk, the base clocks) nor a fen field: its
 * amount is shown and typed as yuan with two decimals in the field it
 * belongs to (wg_cli_cell). */
static int on_page(const wg_table *t, int i)
{
    return !t->fields[i].meta && !wg_schema_is_fen(t, i);
}

static void show_value(web_req *r, const wg_field *f, const char *v)
{
    wg_buf *b = &r->body;
    if (!v || !*v)
        return;
    if (f->type == WG_FT_ENUM) {
        const char *zt = wg_schema_enum_title(f, v);
        if (zh(r) && zt) {
            h_text(b, zt);
            return;
        }
        for (const char *p = v; *p; p++) {
            char c[2] = { *p == '_' ? ' ' : *p, 0 };
            h_text(b, c);
        }
        return;
    }
    if (f->type == WG_FT_BOOL) {
        h_text(b, !strcmp(v, "1") ? _("yes") : _("no"));
        return;
    }
    h_text(b, v);
}

const char *web_field_label(web_req *r, const wg_field *f)
{
    return label(r, f);
}

const char *web_table_title(web_req *r, const wg_table *t, int plural)
{
    return table_title(r, t, plural);
}

void web_value(web_req *r, const wg_field *f, const char *v)
{
    show_value(r, f, v);
}

static void time_text(int64_t t, char *out, size_t cap)
{
    time_t tt = (time_t)t;
    struct tm tm;
    strftime(out, cap, "%Y-%m-%d %H:%M UTC", gmtime_r(&tt, &tm));
}

/* ---- persons ------------------------------------------------------------- */

typedef struct find_ctx {
    long shown;
    int more;              /* a match past this page exists */
    wg_record rows[WEB_PAGE_ROWS];
} find_ctx;

static int on_person(void *p, const wg_record *rec)
{
    find_ctx *f = p;
    if (f->shown >= WEB_PAGE_ROWS) {
        f->more = 1;
        return 1;
    }
    wg_record *d = &f->rows[f->shown++];
    memset(d, 0, sizeof *d);
    d->table = rec->table;
    memcpy(d->id, rec->id, sizeof d->id);
    for (int i = 0; i < rec->table->nfields; i++)
        d->values[i] = rec->values[i] ? wg_xstrdup(rec->values[i]) : NULL;
    return 0;
}

void page_persons(wg_web_ctx *w, web_req *r)
{
    wg_buf *b = &r->body;
    const wg_table *t = wg_schema_table("person");
    const char *q = web_arg(r, "q");
    if (q && strlen(q) > 200)
        q = NULL;
    const char *pg = web_arg(r, "page");
    long page = pg ? strtol(pg, NULL, 10) : 1;
    if (page < 1 || page > 1000000)
        page = 1;
    static find_ctx f;
    memset(&f, 0, sizeof f);
    /* The store searches (any part of a name or id number), sorts by name
     * and cuts the page: a page costs what it shows. One row past the page
     * tells whether another follows. */
    wg_list_opts o = { .search = q && *q ? q : NULL, .sort = "name",
                       .limit = WEB_PAGE_ROWS + 1,
                       .offset = (page - 1) * WEB_PAGE_ROWS };
    wg_err err = { 0 };
    wg_rc rc = wg_store_list_opts(w->st, t, &o, on_person, &f, &err);
    /* The total: the store's count; a search's is known when its last page
     * is shown (a second pass to count would double its cost). */
    long total = -1;
    if (!o.search)
        wg_store_count(w->st, t, &total, NULL);
    else if (!f.more)
        total = o.offset + f.shown;

    web_page_begin(w, r, _("Persons"));
    h_raw(b, "<h1>");
    h_text(b, _("Persons"));
    h_raw(b, "</h1><form method=\"get\" action=\"/persons\" role=\"search\" "
             "class=\"search\"><label for=\"f-q\">");
    h_text(b, _("Search by part of a name or ID number"));
    h_raw(b, "</label><div class=\"row\"><input id=\"f-q\" name=\"q\" "
             "type=\"search\" maxlength=\"200\" value=\"");
    h_text(b, q ? q : "");
    h_raw(b, "\"><button type=\"submit\">");
    h_text(b, _("Search"));
    h_raw(b, "</button></div></form>");
    if (rc) {
        h_raw(b, "<p class=\"error\" role=\"alert\">");
        h_text(b, err.msg);
        h_raw(b, "</p>");
    }
    char line[256];
    if (total >= 0)
        snprintf(line, sizeof line, _("%ld person(s) found."), total);
    else
        snprintf(line, sizeof line, _("Persons %ld to %ld of those found; "
                                      "type more of the name to narrow "
                                      "it."), o.offset + 1,
                 o.offset + f.shown);
    h_raw(b, "<p role=\"status\" id=\"count\">");
    h_text(b, line);
    h_raw(b, "</p>");
    if (f.shown) {
        static const char *const cols[] = { "name", "gender", "birth_date",
            "id_number", "disability_category", "disability_grade",
            "township" };
        h_raw(b, "<table class=\"list\"><caption>");
        h_text(b, _("Persons"));
        h_raw(b, "</caption><thead><tr>");
        for (size_t c = 0; c < sizeof cols / sizeof cols[0]; c++) {
            h_raw(b, "<th scope=\"col\">");
            h_text(b, label(r, &t->fields[wg_schema_field_index(t, cols[c])]));
            h_raw(b, "</th>");
        }
        h_raw(b, "</tr></thead><tbody>");
        for (long i = 0; i < f.shown; i++) {
            wg_record *rec = &f.rows[i];
            h_raw(b, "<tr>");
            for (size_t c = 0; c < sizeof cols / sizeof cols[0]; c++) {
                int k = wg_schema_field_index(t, cols[c]);
                h_raw(b, c == 0 ? "<th scope=\"row\"><a href=\"/person/"
                                : "<td>");
                if (c == 0) {
                    h_text(b, rec->id);
                    h_raw(b, "\">");
                }
                char cell[32];
                show_value(r, &t->fields[k], wg_cli_cell(rec, k, cell));
                h_raw(b, c == 0 ? "</a></th>" : "</td>");
            }
            h_raw(b, "</tr>");
            wg_record_release(rec);
        }
        h_raw(b, "</tbody></table>");
    }
    long pages = total >= 0 ? (total + WEB_PAGE_ROWS - 1) / WEB_PAGE_ROWS
                            : page + f.more;
    if (pages > 1 || page > 1) {
        h_raw(b, "<nav class=\"pages\" aria-label=\"");
        h_text(b, _("Pages"));
        h_raw(b, "\">");
        if (page > 1) {
            h_raw(b, "<a rel=\"prev\" href=\"/persons?q=");
            h_url(b, q ? q : "");
            h_printf(b, "&amp;page=%ld\">", page - 1);
            h_text(b, _("Previous page"));
            h_raw(b, "</a> ");
        }
        if (total >= 0)
            snprintf(line, sizeof line, _("Page %ld of %ld"), page, pages);
        else
            snprintf(line, sizeof line, _("Page %ld"), page);
        h_raw(b, "<span>");
        h_text(b, line);
        h_raw(b, "</span>");
        if (page < pages) {
            h_raw(b, " <a rel=\"next\" href=\"/persons?q=");
            h_url(b, q ? q : "");
            h_printf(b, "&amp;page=%ld\">", page + 1);
            h_text(b, _("Next page"));
            h_raw(b, "</a>");
        }
        h_raw(b, "</nav>");
    }
    web_page_end(r);
}

/* ---- one record ------------------------------------------------------------ */

typedef struct rel_ctx {
    web_req *r;
    const wg_table *t;
    const char *const *cols;
    int ncols;
    int n;
} rel_ctx;

static int on_related(void *p, const wg_record *rec)
{
    rel_ctx *c = p;
    wg_buf *b = &c->r->body;
    if (c->n++ >= 500)
        return 1;
    h_raw(b, "<tr>");
    for (int i = 0; i < c->ncols; i++) {
        int k = wg_schema_field_index(c->t, c->cols[i]);
        if (i == 0) {
            h_raw(b, "<th scope=\"row\"><a href=\"/");
            h_raw(b, c->t->name);
            h_raw(b, "/");
            h_text(b, rec->id);
            h_raw(b, "\">");
        } else {
            h_raw(b, "<td>");
        }
        char cell[32];
        show_value(c->r, &c->t->fields[k], wg_cli_cell(rec, k, cell));
        h_raw(b, i == 0 ? "</a></th>" : "</td>");
    }
    h_raw(b, "</tr>");
    return 0;
}

static void related(wg_web_ctx *w, web_req *r, const char *table,
                    const char *person_id, const char *const *cols, int ncols,
                    const char *add_label)
{
    wg_buf *b = &r->body;
    const wg_table *t = wg_schema_table(table);
    h_raw(b, "<section aria-labelledby=\"h-");
    h_raw(b, table);
    h_raw(b, "\"><h2 id=\"h-");
    h_raw(b, table);
    h_raw(b, "\">");
    h_text(b, table_title(r, t, 1));
    h_raw(b, "</h2>");
    size_t mark = b->len;
    h_raw(b, "<table class=\"list\"><thead><tr>");
    for (int i = 0; i < ncols; i++) {
        h_raw(b, "<th scope=\"col\">");
        h_text(b, label(r, &t->fields[wg_schema_field_index(t, cols[i])]));
        h_raw(b, "</th>");
    }
    h_raw(b, "</tr></thead><tbody>");
    rel_ctx c = { r, t, cols, ncols, 0 };
    const char *names[1] = { "person_id" }, *values[1] = { person_id };
    wg_err err = { 0 };
    wg_store_list(w->st, t, names, values, 1, on_related, &c, &err);
    if (c.n) {
        h_raw(b, "</tbody></table>");
    } else {
        b->len = mark;
        h_raw(b, "<p>");
        h_text(b, _("None yet."));
        h_raw(b, "</p>");
    }
    if (r->sess->role != WG_USER_VIEWER) {
        h_raw(b, "<p><a class=\"button\" href=\"/new/");
        h_raw(b, table);
        h_raw(b, "?person=");
        h_text(b, person_id);
        h_raw(b, "\">");
        h_text(b, add_label);
        h_raw(b, "</a></p>");
    }
    h_raw(b, "</section>");
}

typedef struct hist_ctx {
    wg_web_ctx *w;
    web_req *r;
    const wg_table *t;
    int n;
} hist_ctx;

static int on_history(void *p, const wg_history_entry *e)
{
    hist_ctx *c = p;
    wg_buf *b = &c->r->body;
    if (c->n++ >= 1000)
        return 1;
    /* clerk@node, as history says it; the time in this machine's zone */
    char who[WG_ACTOR_MAX + WG_NAME_MAX + 2], human[32], iso[40];
    wg_cli_writer(c->w->st, e->origin, e->clerk, who, sizeof who, NULL, 0);
    wg_cli_local_time((int64_t)((e->hlc >> 16) / 1000), human, iso);
    h_raw(b, "<tr><td>");
    h_text(b, human);
    h_raw(b, "</td><td>");
    h_text(b, who);
    h_raw(b, "</td><td><ul class=\"changes\">");
    if (e->deleted == 1 || e->deleted == 0) {
        h_raw(b, "<li>");
        h_text(b, e->deleted ? _("deleted") : _("restored"));
        h_raw(b, "</li>");
    }
    for (int i = 0; i < e->nfields; i++) {
        int k = wg_schema_field_index(c->t, e->names[i]);
        h_raw(b, "<li><span class=\"k\">");
        h_text(b, k >= 0 ? label(c->r, &c->t->fields[k]) : e->names[i]);
        h_text(b, zh(c->r) ? "：" : ": ");
        h_raw(b, "</span>");
        if (!e->values[i]) {
            h_raw(b, "<em>");
            h_text(b, _("cleared"));
            h_raw(b, "</em>");
        } else if (k >= 0) {
            show_value(c->r, &c->t->fields[k], e->values[i]);
        } else {
            h_text(b, e->values[i]);
        }
        h_raw(b, "</li>");
    }
    h_raw(b, "</ul></td></tr>");
    return 0;
}

void page_record(wg_web_ctx *w, web_req *r, const wg_table *t,
                 const char *id)
{
    wg_buf *b = &r->body;
    wg_record rec;
    wg_err err = { 0 };
    if (wg_store_get(w->st, t, id, &rec, &err) != WG_OK) {
        web_refuse(w, r, 404, _("Not found"),
                   _("There is no such record on this node."));
        return;
    }
    int is_person = !strcmp(t->name, "person");
    char title[300];
    const char *person_id = is_person ? rec.id : rec.values[0];
    if (is_person)
        snprintf(title, sizeof title, "%s", rec.values[0] ? rec.values[0] : "");
    else
        snprintf(title, sizeof title, zh(r) ? "%s：%s" : "%s: %s",
                 table_title(r, t, 0),
                 rec.values[1] ? rec.values[1] : "");
    web_page_begin(w, r, title);
    h_raw(b, "<h1>");
    h_text(b, title);
    h_raw(b, "</h1>");
    if (web_arg(r, "saved")) {
        h_raw(b, "<p class=\"note\" role=\"status\">");
        h_text(b, _("Saved."));
        h_raw(b, "</p>");
    }
    if (rec.deleted) {
        h_raw(b, "<p class=\"note\">");
        h_text(b, _("This record is deleted; its history is kept."));
        h_raw(b, "</p>");
    }
    if (!is_person && person_id && wg_validate_record_id(person_id)) {
        h_raw(b, "<p><a href=\"/person/");
        h_text(b, person_id);
        h_raw(b, "\">");
        h_text(b, _("Back to the person"));
        h_raw(b, "</a></p>");
    }
    h_raw(b, "<dl class=\"record\">");
    for (int i = 0; i < t->nfields; i++) {
        if ((!is_person && i == 0) || !on_page(t, i))
            continue;
        char cell[32];
        h_raw(b, "<dt>");
        h_text(b, label(r, &t->fields[i]));
        h_raw(b, "</dt><dd>");
        show_value(r, &t->fields[i], wg_cli_cell(&rec, i, cell));
        h_raw(b, "</dd>");
    }
    h_raw(b, "</dl>");
    if (r->sess->role != WG_USER_VIEWER && !rec.deleted) {
        h_raw(b, "<p><a class=\"button\" href=\"/edit/");
        h_raw(b, t->name);
        h_raw(b, "/");
        h_text(b, rec.id);
        h_raw(b, "\">");
        h_text(b, _("Edit"));
        h_raw(b, "</a></p>");
    }
    if (is_person) {
        static const char *const tcols[] = { "course", "category",
                                             "start_date", "outcome" };
        static const char *const pcols[] = { "employer", "employment_type",
            "start_date", "monthly_income", "status" };
        related(w, r, "training", rec.id, tcols, 4, _("Add a training"));
        related(w, r, "placement", rec.id, pcols, 5, _("Add a placement"));
    }
    h_raw(b, "<section aria-labelledby=\"h-history\"><h2 id=\"h-history\">");
    h_text(b, _("History"));
    h_raw(b, "</h2><table class=\"list\"><thead><tr><th scope=\"col\">");
    h_text(b, _("When"));
    h_raw(b, "</th><th scope=\"col\">");
    h_text(b, _("Node"));
    h_raw(b, "</th><th scope=\"col\">");
    h_text(b, _("Changes"));
    h_raw(b, "</th></tr></thead><tbody>");
    hist_ctx hc = { w, r, t, 0 };
    wg_store_history(w->st, t, rec.id, on_history, &hc, &err);
    h_raw(b, "</tbody></table></section>");
    wg_record_release(&rec);
    web_page_end(r);
}

/* ---- forms ------------------------------------------------------------------ */

static const char *hint(web_req *r, const wg_field *f, char *buf, size_t cap)
{
    switch (f->type) {
    case WG_FT_DATE: return _("Year-month-day, such as 1990-03-15.");
    case WG_FT_IDNUM:
        return _("18 characters: 17 digits, then a digit or X.");
    case WG_FT_COUNTY:
        return _("6 digits. Leave empty for this node's own county.");
    case WG_FT_INT:
        snprintf(buf, cap, _("A whole number from %lld to %lld."),
                 (long long)f->min, (long long)f->max);
        return buf;
    default: return NULL;
    }
}

/* MSG without a leading "WORD: " or "WORD：", or NULL. */
static const char *after(const char *msg, const char *word)
{
    size_t n = word ? strlen(word) : 0;
    if (!n || strncmp(msg, word, n))
        return NULL;
    if (!strncmp(msg + n, ": ", 2))
        return msg + n + 2;
    if (!strncmp(msg + n, "：", strlen("：")))
        return msg + n + strlen("：");
    return NULL;
}

/* The message without its leading "FIELD: " (the label says it): the
 * field's name, or its title in a Chinese message. */
static const char *reason(const char *msg, const wg_field *f)
{
    const char *r = after(msg, f->name);
    if (!r)
        r = after(msg, f->title);
    return r ? r : msg;
}

/* Which field of T the message MSG ("FIELD: ...", by name or title)
 * names, or -1. */
static int field_of(const wg_table *t, const char *msg)
{
    char name[64];
    /* up to the first ':' or '：' (whole: a title's own bytes may be
     * those of '：' in other characters) */
    const char *wide = strstr(msg, "：");
    size_t n = strcspn(msg, ":");
    if (wide && (size_t)(wide - msg) < n)
        n = (size_t)(wide - msg);
    if (n == 0 || n >= sizeof name)
        return -1;
    memcpy(name, msg, n);
    name[n] = 0;
    int f = wg_schema_field_index(t, name);
    return f >= 0 ? f : wg_schema_field_by_title(t, name);
}

static void field_html(web_req *r, const wg_field *f, const char *value,
                       const char *error)
{
    wg_buf *b = &r->body;
    char hb[160];
    const char *h = hint(r, f, hb, sizeof hb);
    h_raw(b, error ? "<div class=\"field has-error\">" : "<div class=\"field\">");
    h_raw(b, "<label for=\"f-");
    h_raw(b, f->name);
    h_raw(b, "\">");
    h_text(b, label(r, f));
    if (f->required && f->type != WG_FT_COUNTY)
        h_raw(b, "<span class=\"req\" aria-hidden=\"true\"> *</span>");
    h_raw(b, "</label>");
    if (h) {
        h_raw(b, "<p class=\"hint\" id=\"h-");
        h_raw(b, f->name);
        h_raw(b, "\">");
        h_text(b, h);
        h_raw(b, "</p>");
    }
    if (error) {
        h_raw(b, "<p class=\"error\" id=\"e-");
        h_raw(b, f->name);
        h_raw(b, "\"><span class=\"visually-hidden\">");
        h_text(b, _("Error:"));
        h_raw(b, " </span>");
        h_text(b, reason(error, f));
        h_raw(b, "</p>");
    }
    /* the attributes every control shares */
    wg_buf attrs;
    wg_buf_init(&attrs, 4096);
    h_raw(&attrs, " id=\"f-");
    h_raw(&attrs, f->name);
    h_raw(&attrs, "\" name=\"");
    h_raw(&attrs, f->name);
    h_raw(&attrs, "\"");
    if (h || error) {
        h_raw(&attrs, " aria-describedby=\"");
        if (error) {
            h_raw(&attrs, "e-");
            h_raw(&attrs, f->name);
        }
        if (h) {
            h_raw(&attrs, error ? " h-" : "h-");
            h_raw(&attrs, f->name);
        }
        h_raw(&attrs, "\"");
    }
    if (error)
        h_raw(&attrs, " aria-invalid=\"true\"");
    if (f->required && f->type != WG_FT_COUNTY)
        h_raw(&attrs, " aria-required=\"true\"");
    wg_buf_append(&attrs, "", 1, NULL);
    if (f->type == WG_FT_ENUM || f->type == WG_FT_BOOL) {
        h_raw(b, "<select");
        h_raw(b, (const char *)attrs.data);
        h_raw(b, "><option value=\"\">");
        h_text(b, _("(not given)"));
        h_raw(b, "</option>");
        static const char *const yesno[] = { "1", "0", NULL };
        const char *const *vals = f->type == WG_FT_ENUM ? f->enum_values
                                                        : yesno;
        for (int i = 0; vals[i]; i++) {
            h_raw(b, "<option value=\"");
            h_text(b, vals[i]);
            h_raw(b, value && !strcmp(value, vals[i]) ? "\" selected>" : "\">");
            show_value(r, f, vals[i]);
            h_raw(b, "</option>");
        }
        h_raw(b, "</select>");
    } else {
        h_raw(b, "<input");
        h_raw(b, (const char *)attrs.data);
        if (f->type == WG_FT_INT || f->type == WG_FT_COUNTY)
            h_raw(b, " inputmode=\"numeric\"");
        if (f->type == WG_FT_IDNUM || f->type == WG_FT_DATE)
            h_raw(b, " spellcheck=\"false\"");
        if (!strcmp(f->name, "phone"))
            h_raw(b, " type=\"tel\" autocomplete=\"off\"");
        else
            h_raw(b, " autocomplete=\"off\"");
        h_printf(b, " maxlength=\"%zu\" value=\"",
                 f->max_len ? f->max_len : (size_t)WG_FIELD_MAX_BYTES);
        h_text(b, value ? value : "");
        h_raw(b, "\">");
    }
    wg_buf_release(&attrs);
    h_raw(b, "</div>");
}

void page_form(wg_web_ctx *w, web_req *r, const wg_table *t, const char *id)
{
    wg_buf *b = &r->body;
    int is_person = !strcmp(t->name, "person");
    if (r->sess->role == WG_USER_VIEWER) {
        web_refuse(w, r, 403, _("Not allowed"),
                   _("Your account may read records but not change them."));
        return;
    }
    wg_record cur;
    int have_cur = 0;
    wg_err err = { 0 };
    if (id) {
        if (wg_store_get(w->st, t, id, &cur, &err) != WG_OK || cur.deleted) {
            if (err.code == WG_OK)
                wg_record_release(&cur);
            web_refuse(w, r, 404, _("Not found"),
                       _("There is no such record on this node."));
            return;
        }
        have_cur = 1;
    }
    /* The person a training or placement belongs to. */
    const char *person_id = NULL;
    wg_record person;
    int have_person = 0;
    if (!is_person) {
        person_id = have_cur ? cur.values[0]
                  : r->is_post ? web_form(r, "person_id")
                               : web_arg(r, "person");
        if (person_id && wg_validate_record_id(person_id) &&
            wg_store_get(w->st, wg_schema_table("person"), person_id, &person,
                         &err) == WG_OK) {
            have_person = 1;
        } else {
            if (have_cur)
                wg_record_release(&cur);
            web_refuse(w, r, 404, _("Not found"),
                       _("Open the person first, then add a training or a "
                         "placement from their page."));
            return;
        }
    }

    const char *vals[WG_MAX_FIELDS] = { 0 };
    const char *errs[WG_MAX_FIELDS] = { 0 };
    static char errbuf[WG_MAX_FIELDS][WG_ERR_MSG_BYTES];
    char general[WG_ERR_MSG_BYTES] = "";
    int nerr = 0;
    if (r->is_post) {
        const char *names[WG_MAX_FIELDS], *values[WG_MAX_FIELDS];
        int n = 0;
        for (int i = 0; i < t->nfields; i++) {
            const wg_field *f = &t->fields[i];
            const char *v = (!is_person && i == 0) ? person_id
                                                   : web_form(r, f->name);
            vals[i] = v;
            char oldcell[32];   /* a yuan amount as its fen says it */
            const char *old = have_cur ? wg_cli_cell(&cur, i, oldcell) : NULL;
            if (v && *v) {
                wg_err fe = { 0 };
                if (wg_validate_value(f, v, NULL, 0, &fe) != WG_OK) {
                    snprintf(errbuf[i], sizeof errbuf[i], "%s", fe.msg);
                    errs[i] = errbuf[i];
                    nerr++;
                }
            } else if (f->required && f->type != WG_FT_COUNTY) {
                wg_err fe = { 0 };
                wg_err_set(&fe, WG_ERR_INVALID, "%s: required", f->name);
                snprintf(errbuf[i], sizeof errbuf[i], "%s", fe.msg);
                errs[i] = errbuf[i];
                nerr++;
            }
            int same = (!v || !*v) ? (!old || !*old) : (old && !strcmp(old, v));
            if (have_cur ? (!same && v) : (v && *v)) {
                names[n] = f->name;
                values[n++] = v ? v : "";
            }
        }
        if (!nerr) {
            char newid[WG_ID_HEX_CHARS + 1] = "";
            wg_rc rc = WG_OK;
            if (have_cur && n == 0)
                rc = WG_OK;
            else if (have_cur)
                rc = wg_ops_update(w->st, r->sess->user, t, cur.id, names,
                                   values, n, &err);
            else
                rc = wg_ops_add(w->st, r->sess->user, t, names, values, n,
                                newid, &err);
            if (rc == WG_OK) {
                char to[128];
                snprintf(to, sizeof to, "/%s/%s?saved=1",
                         is_person ? "person" : "person",
                         is_person ? (have_cur ? cur.id : newid) : person_id);
                if (have_cur)
                    wg_record_release(&cur);
                if (have_person)
                    wg_record_release(&person);
                web_redirect(r, to);
                return;
            }
            int k = field_of(t, err.msg);
            if (k >= 0) {
                snprintf(errbuf[k], sizeof errbuf[k], "%s", err.msg);
                errs[k] = errbuf[k];
            } else {
                snprintf(general, sizeof general, "%s", err.msg);
            }
            nerr++;
        }
        r->status = 422;
    } else if (have_cur) {
        static char cells[WG_MAX_FIELDS][32];
        for (int i = 0; i < t->nfields; i++)
            vals[i] = wg_cli_cell(&cur, i, cells[i]);
    }

    char title[300];
    if (have_cur)
        snprintf(title, sizeof title, _("Edit: %s"), table_title(r, t, 0));
    else if (is_person)
        snprintf(title, sizeof title, "%s", _("Register a person"));
    else
        snprintf(title, sizeof title, "%s",
                 !strcmp(t->name, "training") ? _("Add a training")
                                              : _("Add a placement"));
    web_page_begin(w, r, title);
    h_raw(b, "<h1>");
    h_text(b, title);
    h_raw(b, "</h1>");
    if (have_person) {
        h_raw(b, "<p>");
        h_text(b, _("Person:"));
        h_raw(b, " <a href=\"/person/");
        h_text(b, person.id);
        h_raw(b, "\">");
        h_text(b, person.values[0]);
        h_raw(b, "</a></p>");
    }
    if (nerr) {
        char line[200];
        snprintf(line, sizeof line, _("The record was not saved. Correct "
                                      "%d problem(s):"), nerr);
        h_raw(b, "<div class=\"errors\" id=\"errors\" role=\"alert\" "
                 "tabindex=\"-1\"><h2>");
        h_text(b, line);
        h_raw(b, "</h2><ul>");
        for (int i = 0; i < t->nfields; i++) {
            if (!errs[i])
                continue;
            h_raw(b, "<li><a href=\"#f-");
            h_raw(b, t->fields[i].name);
            h_raw(b, "\">");
            h_text(b, label(r, &t->fields[i]));
            h_text(b, zh(r) ? "：" : ": ");
            h_text(b, reason(errs[i], &t->fields[i]));
            h_raw(b, "</a></li>");
        }
        if (general[0]) {
            h_raw(b, "<li>");
            h_text(b, general);
            h_raw(b, "</li>");
        }
        h_raw(b, "</ul></div>");
    }
    h_raw(b, "<p class=\"hint\">");
    h_text(b, _("Fields marked * are required."));
    h_raw(b, "</p><form method=\"post\" class=\"record-form\" novalidate "
             "action=\"");
    h_raw(b, have_cur ? "/edit/" : "/new/");
    h_raw(b, t->name);
    if (have_cur) {
        h_raw(b, "/");
        h_text(b, cur.id);
    }
    h_raw(b, "\">");
    web_csrf_field(r);
    if (!is_person) {
        h_raw(b, "<input type=\"hidden\" name=\"person_id\" value=\"");
        h_text(b, person_id);
        h_raw(b, "\">");
    }
    for (int i = is_person ? 0 : 1; i < t->nfields; i++)
        if (on_page(t, i))
            field_html(r, &t->fields[i], vals[i], errs[i]);
    h_raw(b, "<div class=\"actions\"><button type=\"submit\">");
    h_text(b, _("Save"));
    h_raw(b, "</button> <a href=\"");
    if (have_person) {
        h_raw(b, "/person/");
        h_text(b, person.id);
    } else if (have_cur) {
        h_raw(b, "/person/");
        h_text(b, cur.id);
    } else {
        h_raw(b, "/persons");
    }
    h_raw(b, "\">");
    h_text(b, _("Cancel"));
    h_raw(b, "</a></div></form>");
    if (have_cur)
        wg_record_release(&cur);
    if (have_person)
        wg_record_release(&person);
    web_page_end(r);
}

/* ---- sync status ------------------------------------------------------------ */

static int on_peer_row(void *p, const wg_peer *peer)
{
    web_req *r = p;
    wg_buf *b = &r->body;
    char when[64] = "";
    if (peer->last_time)
        time_text(peer->last_time, when, sizeof when);
    h_raw(b, "<tr><th scope=\"row\">");
    h_text(b, peer->name);
    h_raw(b, "</th><td>");
    h_text(b, peer->endpoint);
    h_raw(b, "</td><td>");
    h_text(b, peer->last_time ? when : _("never"));
    h_raw(b, "</td><td>");
    if (peer->last_time)
        h_text(b, !strcmp(peer->last_result, "ok") ? _("ok") : _("failed"));
    h_raw(b, "</td><td>");
    if (peer->last_time)
        h_printf(b, "%lld / %lld", (long long)peer->last_sent,
                 (long long)peer->last_received);
    h_raw(b, "</td><td>");
    h_text(b, peer->last_error);
    h_raw(b, "</td></tr>");
    return 0;
}

void page_sync(wg_web_ctx *w, web_req *r)
{
    wg_buf *b = &r->body;
    const wg_node_info *me = wg_store_info(w->st);
    web_page_begin(w, r, _("Sync status"));
    h_raw(b, "<h1>");
    h_text(b, _("Sync status"));
    h_raw(b, "</h1>");
    const char *started = web_arg(r, "started");
    if (started) {
        char line[200];
        snprintf(line, sizeof line, _("Sync started with %ld peer(s). Open "
                                      "this page again in a moment to see "
                                      "how it ended."),
                 strtol(started, NULL, 10));
        h_raw(b, "<p class=\"note\" role=\"status\">");
        h_text(b, line);
        h_raw(b, "</p>");
    }
    if (r->sess->role != WG_USER_VIEWER) {
        h_raw(b, "<form method=\"post\" action=\"/sync\">");
        web_csrf_field(r);
        h_raw(b, "<button type=\"submit\" id=\"sync-now\">");
        h_text(b, _("Sync now"));
        h_raw(b, "</button></form>");
    }
    h_raw(b, "<dl class=\"record\"><dt>");
    h_text(b, _("This node"));
    h_raw(b, "</dt><dd>");
    h_text(b, me->name);
    h_raw(b, "</dd><dt>");
    h_text(b, _("County code"));
    h_raw(b, "</dt><dd>");
    h_text(b, me->county);
    h_raw(b, "</dd><dt>");
    h_text(b, _("Role"));
    h_raw(b, "</dt><dd>");
    h_text(b, me->role == WG_ROLE_HQ ? _("HQ") : _("county office"));
    h_raw(b, "</dd><dt>");
    h_text(b, _("Address for peers"));
    h_raw(b, "</dt><dd>");
    h_text(b, me->endpoint);
    h_raw(b, "</dd>");
    for (int i = 0; wg_schema_table_at(i); i++) {
        long n = 0;
        if (wg_store_count(w->st, wg_schema_table_at(i), &n, NULL) != WG_OK)
            continue;
        h_raw(b, "<dt>");
        h_text(b, table_title(r, wg_schema_table_at(i), 1));
        h_raw(b, "</dt><dd>");
        h_printf(b, "%ld", n);
        h_raw(b, "</dd>");
    }
    h_raw(b, "</dl><h2>");
    h_text(b, _("Peers"));
    h_raw(b, "</h2>");
    size_t mark = b->len;
    h_raw(b, "<table class=\"list peers\"><thead><tr>");
    const char *heads[] = { _("Peer"), _("Address"), _("Last session"),
                            _("Result"), _("Sent / received"), _("Reason") };
    for (int i = 0; i < 6; i++) {
        h_raw(b, "<th scope=\"col\">");
        h_text(b, heads[i]);
        h_raw(b, "</th>");
    }
    h_raw(b, "</tr></thead><tbody>");
    size_t rows = b->len;
    wg_store_peers(w->st, on_peer_row, r, NULL);
    if (b->len == rows) {
        b->len = mark;
        h_raw(b, "<p>");
        h_text(b, _("No peers yet: add one with 'wings peer add'."));
        h_raw(b, "</p>");
    } else {
        h_raw(b, "</tbody></table>");
    }
    web_page_end(r);
}

/* ---- sync now; the audit trail ------------------------------------------------ */

typedef struct now_ctx {
    wg_web_ctx *w;
    long started;
} now_ctx;

static int on_peer_now(void *p, const wg_peer *peer)
{
    now_ctx *c = p;
    if (wg_engine_connect(c->w->e, peer->name, WG_SYNC_DEFAULT_TIMEOUT_MS,
                          NULL) == WG_OK)
        c->started++;
    return 0;
}

void page_sync_now(wg_web_ctx *w, web_req *r)
{
    if (r->sess->role == WG_USER_VIEWER) {
        web_refuse(w, r, 403, _("Not allowed"),
                   _("Your account may read records but not change them."));
        return;
    }
    now_ctx c = { w, 0 };
    wg_store_peers(w->st, on_peer_now, &c, NULL);
    char to[64];
    snprintf(to, sizeof to, "/sync?started=%ld", c.started);
    web_redirect(r, to);
}

/* The audit trail's words, as people read them. */
static const char *audit_word(const char *v)
{
    static const char *const known[] = { N_("session"), N_("refused"),
        N_("rejected"), N_("equivocation"), N_("clock_skew"), N_("protocol"),
        N_("in"), N_("out"), NULL };
    for (int i = 0; v && known[i]; i++)
        if (!strcmp(v, known[i]))
            return _(known[i]);
    return v;
}

typedef struct audit_ctx {
    web_req *r;
    long n, skip;
} audit_ctx;

static int on_audit(void *p, const wg_audit_entry *e)
{
    audit_ctx *c = p;
    wg_buf *b = &c->r->body;
    if (c->n++ < c->skip)
        return 0;
    h_raw(b, "<tr><td>");
    h_text(b, e->time);
    h_raw(b, "</td><td>");
    h_text(b, e->node);
    h_raw(b, "</td><td>");
    h_text(b, audit_word(e->event));
    h_raw(b, "</td><td>");
    h_text(b, e->peer);
    h_raw(b, "</td><td>");
    h_text(b, audit_word(e->direction));
    h_raw(b, "</td><td>");
    h_printf(b, "%lld / %lld", (long long)e->sent, (long long)e->received);
    h_raw(b, "</td><td>");
    if (e->result)
        h_text(b, !strcmp(e->result, "ok") ? _("ok") : _("failed"));
    h_raw(b, "</td><td>");
    h_text(b, e->reason);
    h_raw(b, "</td></tr>");
    return 0;
}

static int count_audit(void *p, const wg_audit_entry *e)
{
    (void)e;
    (*(long *)p)++;
    return 0;
}

void page_audit(wg_web_ctx *w, web_req *r)
{
    wg_buf *b = &r->body;
    if (r->sess->role != WG_USER_ADMIN) {
        web_refuse(w, r, 403, _("Not allowed"),
                   _("Only an administrator sees the audit trail."));
        return;
    }
    long total = 0;
    wg_store_audit_list(w->st, count_audit, &total, NULL);
    web_page_begin(w, r, _("Audit trail"));
    h_raw(b, "<h1>");
    h_text(b, _("Audit trail"));
    h_raw(b, "</h1><p>");
    char line[200];
    snprintf(line, sizeof line, _("Every sync session and refusal this node "
                                  "knows of, newest last: %ld in all, the "
                                  "last 200 shown."), total);
    h_text(b, line);
    h_raw(b, "</p>");
    if (total) {
        h_raw(b, "<table class=\"list peers\"><thead><tr>");
        const char *heads[] = { _("When"), _("Node"), _("Event"), _("Peer"),
                                _("Direction"), _("Sent / received"),
                                _("Result"), _("Reason") };
        for (int i = 0; i < 8; i++) {
            h_raw(b, "<th scope=\"col\">");
            h_text(b, heads[i]);
            h_raw(b, "</th>");
        }
        h_raw(b, "</tr></thead><tbody>");
        audit_ctx c = { r, 0, total > 200 ? total - 200 : 0 };
        wg_store_audit_list(w->st, on_audit, &c, NULL);
        h_raw(b, "</tbody></table>");
    }
    web_page_end(r);
}

/* ---- accounts, for administrators ------------------------------------------ */

typedef struct users_ctx {
    web_req *r;
    int n;
} users_ctx;

static const char *role_label(wg_user_role role)
{
    switch (role) {
    case WG_USER_ADMIN: return _("administrator");
    case WG_USER_CLERK: return _("clerk");
    case WG_USER_VIEWER: return _("viewer");
    }
    return "";
}

static int on_user_row(void *p, const wg_user *u)
{
    users_ctx *c = p;
    web_req *r = c->r;
    wg_buf *b = &r->body;
    char when[64];
    time_text(u->created, when, sizeof when);
    h_raw(b, "<tr><th scope=\"row\">");
    h_text(b, u->name);
    h_raw(b, "</th><td>");
    h_text(b, role_label(u->role));
    h_raw(b, "</td><td>");
    h_text(b, when);
    h_raw(b, "</td><td>");
    if (strcmp(u->name, r->sess->user)) {
        char label[160];
        snprintf(label, sizeof label, _("Remove the account %s"), u->name);
        h_raw(b, "<form method=\"post\" action=\"/users/remove\">");
        web_csrf_field(r);
        h_raw(b, "<input type=\"hidden\" name=\"user\" value=\"");
        h_text(b, u->name);
        h_raw(b, "\"><button type=\"submit\" class=\"link\" aria-label=\"");
        h_text(b, label);
        h_raw(b, "\">");
        h_text(b, _("Remove"));
        h_raw(b, "</button></form>");
    }
    h_raw(b, "</td></tr>");
    c->n++;
    return 0;
}

static void user_field(web_req *r, const char *name, const char *label,
                       const char *type, const char *value, const char *err,
                       const char *hint)
{
    wg_buf *b = &r->body;
    h_raw(b, err ? "<div class=\"field has-error\">" : "<div class=\"field\">");
    h_raw(b, "<label for=\"f-");
    h_raw(b, name);
    h_raw(b, "\">");
    h_text(b, label);
    h_raw(b, "</label>");
    if (hint) {
        h_raw(b, "<p class=\"hint\" id=\"h-");
        h_raw(b, name);
        h_raw(b, "\">");
        h_text(b, hint);
        h_raw(b, "</p>");
    }
    if (err) {
        h_raw(b, "<p class=\"error\" id=\"e-");
        h_raw(b, name);
        h_raw(b, "\"><span class=\"visually-hidden\">");
        h_text(b, _("Error:"));
        h_raw(b, " </span>");
        h_text(b, err);
        h_raw(b, "</p>");
    }
    if (!strcmp(type, "role")) {
        h_raw(b, "<select id=\"f-role\" name=\"role\">");
        static const wg_user_role roles[] = { WG_USER_CLERK, WG_USER_VIEWER,
                                              WG_USER_ADMIN };
        for (int i = 0; i < 3; i++) {
            const char *v = wg_user_role_name(roles[i]);
            h_raw(b, "<option value=\"");
            h_raw(b, v);
            h_raw(b, value && !strcmp(value, v) ? "\" selected>" : "\">");
            h_text(b, role_label(roles[i]));
            h_raw(b, "</option>");
        }
        h_raw(b, "</select></div>");
        return;
    }
    h_raw(b, "<input id=\"f-");
    h_raw(b, name);
    h_raw(b, "\" name=\"");
    h_raw(b, name);
    h_raw(b, "\" type=\"");
    h_raw(b, type);
    h_raw(b, "\" autocomplete=\"");
    h_raw(b, strcmp(type, "password") ? "off" : "new-password");
    h_raw(b, "\" maxlength=\"");
    h_raw(b, strcmp(type, "password") ? "32" : "1024");
    h_raw(b, "\"");
    if (hint || err) {
        h_raw(b, " aria-describedby=\"");
        if (err) {
            h_raw(b, "e-");
            h_raw(b, name);
        }
        if (hint) {
            h_raw(b, err ? " h-" : "h-");
            h_raw(b, name);
        }
        h_raw(b, "\"");
    }
    if (err)
        h_raw(b, " aria-invalid=\"true\"");
    if (value) {
        h_raw(b, " value=\"");
        h_text(b, value);
        h_raw(b, "\"");
    }
    h_raw(b, "></div>");
}

void page_users(wg_web_ctx *w, web_req *r, const char *action)
{
    wg_buf *b = &r->body;
    if (r->sess->role != WG_USER_ADMIN) {
        web_refuse(w, r, 403, _("Not allowed"),
                   _("Only an administrator manages accounts."));
        return;
    }
    const char *e_name = NULL, *e_pw = NULL, *e_pw2 = NULL;
    static char msg[WG_ERR_MSG_BYTES];
    const char *name = NULL, *role = "clerk";
    if (r->is_post && action && !strcmp(action, "remove")) {
        const char *who = web_form(r, "user");
        wg_err err = { 0 };
        if (!who || !strcmp(who, r->sess->user)) {
            web_refuse(w, r, 403, _("Not allowed"),
                       _("You cannot remove your own account."));
            return;
        }
        if (wg_store_user_remove(w->st, who, &err) != WG_OK) {
            web_refuse(w, r, 404, _("Not found"), err.msg);
            return;
        }
        web_end_sessions(who);
        web_redirect(r, "/users?removed=1");
        return;
    }
    if (r->is_post) {
        name = web_form(r, "user");
        role = web_form(r, "role");
        const char *pw = web_form(r, "password"), *pw2 = web_form(r, "password2");
        wg_err err = { 0 };
        char hash[WG_PW_HASH_MAX];
        int role_n = role ? wg_user_role_parse(role) : -1;
        if (role_n < 0)
            role_n = WG_USER_CLERK, role = "clerk";
        if (!name || wg_user_check_name(name, &err) != WG_OK) {
            snprintf(msg, sizeof msg, "%s", name ? err.msg : "");
            e_name = msg;
        } else if (!pw || wg_pw_hash(pw, strlen(pw), hash, &err) != WG_OK) {
            snprintf(msg, sizeof msg, "%s", err.msg);
            e_pw = msg;
        } else if (!pw2 || strcmp(pw, pw2)) {
            e_pw2 = _("The two passwords differ.");
        } else if (wg_store_user_add(w->st, name, (wg_user_role)role_n, hash,
                                     &err) != WG_OK) {
            snprintf(msg, sizeof msg, "%s", err.msg);
            e_name = msg;
        } else {
            wg_wipe(hash, sizeof hash);
            web_redirect(r, "/users?added=1");
            return;
        }
        wg_wipe(hash, sizeof hash);
        r->status = 422;
    }
    web_page_begin(w, r, _("Accounts"));
    h_raw(b, "<h1>");
    h_text(b, _("Accounts"));
    h_raw(b, "</h1>");
    if (web_arg(r, "added") || web_arg(r, "removed")) {
        h_raw(b, "<p class=\"note\" role=\"status\">");
        h_text(b, web_arg(r, "added") ? _("The account was added.")
                                      : _("The account was removed; its "
                                          "sessions ended."));
        h_raw(b, "</p>");
    }
    if (e_name || e_pw || e_pw2) {
        h_raw(b, "<div class=\"errors\" id=\"errors\" role=\"alert\" "
                 "tabindex=\"-1\"><h2>");
        h_text(b, _("The account was not added."));
        h_raw(b, "</h2><ul><li><a href=\"");
        h_raw(b, e_name ? "#f-user\">" : e_pw ? "#f-password\">"
                                              : "#f-password2\">");
        h_text(b, e_name ? e_name : e_pw ? e_pw : e_pw2);
        h_raw(b, "</a></li></ul></div>");
    }
    h_raw(b, "<table class=\"list\"><caption>");
    h_text(b, _("Who may sign in to this node's page"));
    h_raw(b, "</caption><thead><tr><th scope=\"col\">");
    h_text(b, _("User name"));
    h_raw(b, "</th><th scope=\"col\">");
    h_text(b, _("Role"));
    h_raw(b, "</th><th scope=\"col\">");
    h_text(b, _("Added"));
    h_raw(b, "</th><th scope=\"col\"><span class=\"visually-hidden\">");
    h_text(b, _("Actions"));
    h_raw(b, "</span></th></tr></thead><tbody>");
    users_ctx c = { r, 0 };
    wg_store_users(w->st, on_user_row, &c, NULL);
    h_raw(b, "</tbody></table><h2>");
    h_text(b, _("Add an account"));
    h_raw(b, "</h2><form method=\"post\" action=\"/users\" "
             "class=\"record-form\" novalidate>");
    web_csrf_field(r);
    user_field(r, "user", _("User name"), "text", name, e_name,
               _("Lower-case letters, digits, '.', '-' and '_'; shown as "
                 "NAME@NODE."));
    user_field(r, "role", _("Role"), "role", role, NULL, NULL);
    user_field(r, "password", _("Password"), "password", NULL, e_pw,
               _("At least 8 characters."));
    user_field(r, "password2", _("Password again"), "password", NULL, e_pw2,
               NULL);
    h_raw(b, "<div class=\"actions\"><button type=\"submit\">");
    h_text(b, _("Add the account"));
    h_raw(b, "</button></div></form>");
    web_page_end(r);
}
