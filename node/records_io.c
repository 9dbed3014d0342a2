/*
 * records_io.c - what the record commands share: FIELD=VALUE arguments,
 * finding a table, and printing records for people, JSON and CSV
 */
#include <stdlib.h>
#include <string.h>

#include "wg_csv.h"
#include "wg_node.h"
#include "wg_validate.h"

const wg_table *wg_cli_table(wg_cli *cli, const char *cmd, const char *name)
{
    const wg_table *t = wg_schema_table(name);
    if (!t)
        wg_cli_failf(cli, WG_EXIT_NOTFOUND,
                     "no table '%s' (use person, training or placement)", name);
    return t;
}

int wg_cli_assignments(wg_cli *cli, const char *cmd, int argc, char **argv,
                       const char **names, const char **values, int max)
{
    if (argc > max) {
        wg_cli_usage(cli, cmd, "too many fields (at most %d)", max);
        return -1;
    }
    for (int i = 0; i < argc; i++) {
        char *eq = strchr(argv[i], '=');
        if (!eq || eq == argv[i]) {
            wg_cli_usage(cli, cmd, "'%s' is not FIELD=VALUE", argv[i]);
            return -1;
        }
        *eq = 0;
        names[i] = argv[i];
        values[i] = eq + 1;
    }
    return argc;
}

int wg_cli_known_fields(wg_cli *cli, const wg_table *t,
                        const char *const *names, int n)
{
    for (int i = 0; i < n; i++) {
        wg_err err;
        if (strcmp(names[i], "id") &&
            wg_validate_field_name(t, names[i], &err) != WG_OK)
            return wg_cli_fail(cli, &err);
    }
    return 0;
}

int wg_cli_fill_birth(const wg_table *t, const char **names,
                      const char **values, int n, char birth[11])
{
    const char *idnum = NULL;
    if (wg_schema_field_index(t, "birth_date") < 0)
        return n;
    for (int i = 0; i < n; i++) {
        if (!strcmp(names[i], "birth_date"))
            return n;
        if (!strcmp(names[i], "id_number"))
            idnum = values[i];
    }
    if (!idnum || !wg_validate_idnum_birth(idnum, birth))
        return n;
    names[n] = "birth_date";
    values[n] = birth;
    return n + 1;
}

static int is_number(const wg_field *f)
{
    return f->type == WG_FT_INT || f->type == WG_FT_BOOL;
}

void wg_cli_record_json(FILE *out, const wg_record *r)
{
    const wg_table *t = r->table;
    fputs("{\"id\":", out);
    wg_json_str(out, r->id);
    for (int i = 0; i < t->nfields; i++) {
        fputc(',', out);
        wg_json_str(out, t->fields[i].name);
        fputc(':', out);
        if (!r->values[i])
            fputs("null", out);
        else if (is_number(&t->fields[i]))
            fputs(r->values[i], out);
        else
            wg_json_str(out, r->values[i]);
    }
    fputc('}', out);
}

void wg_cli_record_text(FILE *out, const wg_record *r)
{
    const wg_table *t = r->table;
    fprintf(out, "%-20s %s\n", "id", r->id);
    for (int i = 0; i < t->nfields; i++) {
        fprintf(out, "%-20s ", t->fields[i].name);
        wg_term_put(out, r->values[i]);
        fputc('\n', out);
    }
    if (r->deleted)
        fprintf(out, "%-20s %s\n", "deleted", "yes");
}

wg_rc wg_cli_record_csv_header(FILE *out, const wg_table *t, wg_err *err)
{
    const char *h[WG_MAX_FIELDS + 1];
    h[0] = "id";
    for (int i = 0; i < t->nfields; i++)
        h[i + 1] = t->fields[i].name;
    return wg_csv_write(out, h, (size_t)t->nfields + 1, err);
}

wg_rc wg_cli_record_csv(FILE *out, const wg_record *r, wg_err *err)
{
    const char *row[WG_MAX_FIELDS + 1];
    char *esc[WG_MAX_FIELDS] = { 0 };
    row[0] = r->id;
    for (int i = 0; i < r->table->nfields; i++) {
        /* No cell runs as a formula; import takes the apostrophe off. */
        esc[i] = wg_cell_escape(r->values[i]);
        row[i + 1] = esc[i] ? esc[i] : r->values[i];
    }
    wg_rc rc = wg_csv_write(out, row, (size_t)r->table->nfields + 1, err);
    for (int i = 0; i < r->table->nfields; i++)
        free(esc[i]);
    return rc;
}

/* One line per field of T for `help add TABLE`: name, type and bounds,
 * required or not, the Chinese column title; the field's own help line
 * under it. Driven by the description alone. */
void wg_cli_fields_help(FILE *out, const wg_table *t)
{
    fprintf(out, "\nfields of %s (%s), in order:\n", t->name, t->title);
    for (int i = 0; i < t->nfields; i++) {
        const wg_field *f = &t->fields[i];
        char what[512];
        size_t n = 0;
        switch (f->type) {
        case WG_FT_TEXT:
            n = (size_t)snprintf(what, sizeof what, "text, at most %zu bytes",
                                 f->max_len);
            break;
        case WG_FT_INT:
            n = (size_t)snprintf(what, sizeof what, "integer %lld..%lld",
                                 (long long)f->min, (long long)f->max);
            break;
        case WG_FT_DATE:
            n = (size_t)snprintf(what, sizeof what, "date YYYY-MM-DD");
            break;
        case WG_FT_ENUM:
            n = (size_t)snprintf(what, sizeof what, "one of");
            for (int k = 0; f->enum_values[k] && n < sizeof what; k++) {
                /* with the Chinese label import also takes */
                const char *zh = wg_schema_enum_title(f, f->enum_values[k]);
                n += (size_t)snprintf(what + n, sizeof what - n, "%s %s%s%s%s",
                                      k ? "," : "", f->enum_values[k],
                                      zh ? " (" : "", zh ? zh : "",
                                      zh ? ")" : "");
            }
            break;
        default:
            n = (size_t)snprintf(what, sizeof what, "%s",
                                 wg_schema_type_name(f->type));
        }
        if (n >= sizeof what)
            n = sizeof what - 1;
        fprintf(out, "  %-24s %s%s  [%s]\n", f->name, what,
                f->required ? ", required" : "", f->title ? f->title : "");
        if (f->help)
            fprintf(out, "  %-24s   %s\n", "", f->help);
    }
}

int wg_cli_record_id(wg_cli *cli, wg_store *st, const wg_table *t,
                     const char *arg, char id[WG_ID_HEX_CHARS + 1])
{
    char matches[2][WG_ID_HEX_CHARS + 1];
    wg_err err = { 0 };
    if (wg_store_resolve_id(st, t, arg, id, matches, &err) != WG_OK)
        return wg_cli_fail(cli, &err);
    return WG_EXIT_OK;
}
