/*
 * records_io.c - what the record commands share: FIELD=VALUE arguments,
 * finding a table, and printing records for people, JSON and CSV
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
        if (t->fields[i].meta)
            continue;
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

const char *wg_cli_cell(const wg_record *r, int i, char buf[32])
{
    const wg_table *t = r->table;
    int fi = wg_schema_fen_of(t, i);
    if (fi < 0 || !r->values[i])
        return r->values[i];
    /* an amount in yuan: exactly, from its fen field where it has one */
    long long fen = r->values[fi] ? strtoll(r->values[fi], NULL, 10)
                                  : strtoll(r->values[i], NULL, 10) * 100;
    snprintf(buf, 32, "%lld.%02lld", fen / 100, fen % 100);
    return buf;
}

void wg_cli_record_text(FILE *out, const wg_record *r)
{
    const wg_table *t = r->table;
    fprintf(out, "%-20s %s\n", "id", r->id);
    for (int i = 0; i < t->nfields; i++) {
        if (t->fields[i].meta)
            continue;
        char cell[32];
        fprintf(out, "%-20s ", t->fields[i].name);
        wg_term_put(out, wg_cli_cell(r, i, cell));
        fputc('\n', out);
    }
    if (r->deleted)
        fprintf(out, "%-20s %s\n", "deleted", "yes");
}

wg_rc wg_cli_record_csv_header(FILE *out, const wg_table *t, wg_err *err)
{
    const char *h[WG_MAX_FIELDS + 1];
    size_t n = 0;
    h[n++] = "id";
    for (int i = 0; i < t->nfields; i++)
        if (!t->fields[i].meta)
            h[n++] = t->fields[i].name;
    return wg_csv_write(out, h, n, err);
}

wg_rc wg_cli_record_csv(FILE *out, const wg_record *r, wg_err *err)
{
    const char *row[WG_MAX_FIELDS + 1];
    char *esc[WG_MAX_FIELDS] = { 0 };
    size_t n = 0;
    row[n++] = r->id;
    for (int i = 0; i < r->table->nfields; i++) {
        if (r->table->fields[i].meta)
            continue;
        /* No cell runs as a formula; import takes the apostrophe off. */
        esc[i] = wg_cell_escape(r->values[i]);
        row[n++] = esc[i] ? esc[i] : r->values[i];
    }
    wg_rc rc = wg_csv_write(out, row, n, err);
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
        if (f->meta)
            continue;
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

void wg_cli_local_time(int64_t secs, char human[32], char iso[40])
{
    time_t t = (time_t)secs;
    struct tm tm;
    if (!localtime_r(&t, &tm)) {
        if (human)
            snprintf(human, 32, "(time out of range)");
        if (iso)
            snprintf(iso, 40, "(time out of range)");
        return;
    }
    if (human && strftime(human, 32, "%Y-%m-%d %H:%M:%S", &tm) == 0)
        human[0] = 0;
    if (iso) {
        /* %z is +0800; ISO 8601's extended form wants +08:00 */
        char z[16] = "";
        long off = tm.tm_gmtoff;
        char sign = off < 0 ? '-' : '+';
        if (off < 0)
            off = -off;
        snprintf(z, sizeof z, "%c%02ld:%02ld", sign, (off / 3600) % 100,
                 (off / 60) % 60);
        if (strftime(iso, 40, "%Y-%m-%dT%H:%M:%S", &tm) == 0)
            iso[0] = 0;
        else
            strcat(iso, z);
    }
}

int wg_cli_parse_utc(const char *s, int64_t *secs)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    char z = 0;
    int n = 0;
    if (!s || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%c%n", &tm.tm_year, &tm.tm_mon,
                     &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &z,
                     &n) != 7 || z != 'Z' || s[n])
        return 0;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    time_t t = timegm(&tm);
    if (t == (time_t)-1)
        return 0;
    *secs = (int64_t)t;
    return 1;
}

void wg_cli_writer(wg_store *st, const uint8_t key[WG_SIGN_PK_BYTES],
                   const char *clerk, char *out, size_t cap, char *node_out,
                   size_t node_cap)
{
    char name[WG_NAME_MAX + 1], hex[WG_KEY_HEX_CHARS + 1];
    if (!wg_store_node_name(st, key, name, sizeof name)) {
        wg_hex_encode(hex, key, WG_SIGN_PK_BYTES);
        snprintf(name, sizeof name, "%.16s", hex);
        if (node_out)
            node_out[0] = 0;
    } else if (node_out) {
        snprintf(node_out, node_cap, "%s", name);
    }
    if (clerk && *clerk)
        snprintf(out, cap, "%s@%s", clerk, name);
    else
        snprintf(out, cap, "%s", name);
}
