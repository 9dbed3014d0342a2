/*
 * check_schema.c - the table description, and every consumer walking it
 *
 * The description (store/schema.c) is the one place a field or table is
 * added. These tests hold it to its compatibility rules and prove that
 * every field of every table, whatever it is, reaches SQL, validation, the
 * change codec, the canonical dump and reads without any other edit: they
 * enumerate the description and use nothing but it to build their input.
 * (Import/export columns and `help add` are checked the same way through
 * the binary in scenario/upgrade_cli.sh.)
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "nodeutil.h"
#include "wg_change.h"
#include "wg_schema.h"
#include "wg_store.h"
#include "wg_validate.h"

#define PASS "schema test passphrase"

static int user_tables(void)
{
    int n = 0;
    while (wg_schema_table_at(n))
        n++;
    return n;
}

/* The cases the tests run in: fixture and time limit. */
static const tu_case case_description = {"description", NULL, NULL, 0};
static const tu_case case_consumers = {"consumers", NULL, NULL, 60};

START_TEST(test_schema_description_keeps_its_rules)
{
    const wg_table *t;
    unsigned char wires[256] = { 0 };
    for (int i = 0; (t = wg_schema_all(i)); i++) {
        ck_assert_msg(t->wire >= 1 && t->wire <= WG_TABLE_WIRE_MAX,
                      "%s: wire number %u", t->name, t->wire);
        ck_assert_msg(!wires[t->wire], "%s: wire number %u reused", t->name,
                      t->wire);
        wires[t->wire] = 1;
        ck_assert_ptr_eq(wg_schema_by_wire(t->wire), t);
        ck_assert_int_ge(t->since, 1);
        ck_assert_int_le(t->since, WG_SCHEMA_VERSION);
        ck_assert_ptr_nonnull(t->title);
        ck_assert_int_ge(t->nfields, 1);
        ck_assert_int_le(t->nfields, WG_MAX_FIELDS);
        ck_assert_int_eq(wg_schema_nfields_at(t, WG_SCHEMA_VERSION),
                         t->nfields);
        if (t->user) {
            ck_assert_ptr_eq(wg_schema_table(t->name), t);
            ck_assert_int_ge(wg_schema_partition(t), 0);
        }
        int prev_since = t->since;
        for (int f = 0; f < t->nfields; f++) {
            const wg_field *fd = &t->fields[f];
            ck_assert_msg(fd->since >= prev_since,
                          "%s.%s: fields are appended in order of version",
                          t->name, fd->name);
            prev_since = fd->since;
            ck_assert_int_eq(wg_schema_field_index(t, fd->name), f);
            ck_assert_msg(fd->title && *fd->title, "%s.%s: no title",
                          t->name, fd->name);
            ck_assert_int_eq(wg_schema_field_by_title(t, fd->title), f);
            if (fd->type == WG_FT_ENUM) {
                ck_assert_ptr_nonnull(fd->enum_values);
                ck_assert_ptr_nonnull(fd->enum_titles);
                int k = 0;
                for (; fd->enum_values[k]; k++)
                    ck_assert_msg(fd->enum_titles[k], "%s.%s: %s untitled",
                                  t->name, fd->name, fd->enum_values[k]);
                ck_assert_ptr_null(fd->enum_titles[k]);
            }
            if (fd->role == WG_FR_REF)
                ck_assert_ptr_nonnull(wg_schema_table(fd->ref));
        }
        for (const wg_index *ix = t->indexes; ix && ix->name; ix++) {
            char cols[256];
            snprintf(cols, sizeof cols, "%s", ix->columns);
            for (char *c = strtok(cols, ", "); c; c = strtok(NULL, ", "))
                ck_assert_msg(wg_schema_field_index(t, c) >= 0 ||
                                  !strcmp(c, "deleted"),
                              "index %s names no column %s", ix->name, c);
        }
    }
    ck_assert_int_ge(user_tables(), 3);
    ck_assert_ptr_eq(wg_schema_table("audit"), NULL);
    ck_assert_ptr_nonnull(wg_schema_audit());
}
END_TEST

START_TEST(test_schema_certificate_expiry_is_a_person_field_of_version_2)
{
    const wg_table *p = wg_schema_table("person");
    int i = wg_schema_field_index(p, "certificate_valid_until");
    ck_assert_int_eq(i, wg_schema_nfields_at(p, 2) - 1);
    ck_assert_int_eq(p->fields[i].type, WG_FT_DATE);
    ck_assert_int_eq(p->fields[i].since, 2);
    ck_assert_int_eq(wg_schema_nfields_at(p, 1), i);
    ck_assert_str_eq(p->fields[i].title, "残疾证有效期至");
}
END_TEST

/* Schema 3: every user table ends with the meta fields changed_by and
 * base_clocks, which no user may name; placement has the income in fen. */
START_TEST(test_schema_3_meta_fields_and_income_in_fen)
{
    const wg_table *t;
    for (int ti = 0; (t = wg_schema_table_at(ti)); ti++) {
        int cb = wg_schema_meta(t, "changed_by");
        int bc = wg_schema_meta(t, "base_clocks");
        ck_assert_int_ge(cb, 0);
        ck_assert_int_eq(bc, cb + 1);
        ck_assert_int_eq(t->fields[cb].since, 3);
        ck_assert_int_eq(t->fields[bc].since, 3);
        ck_assert(!wg_schema_shown(t, cb) && !wg_schema_shown(t, bc));
        ck_assert_int_eq(wg_schema_nfields_at(t, 2), t->nfields -
                         (t->wire == WG_TABLE_PLACEMENT ? 3 : 2));
        ck_assert_uint_le(t->fields[bc].max_len, WG_FIELD_MAX_BYTES);
    }
    const wg_table *p = wg_schema_table("placement");
    int y = wg_schema_field_index(p, "monthly_income");
    int f = wg_schema_field_index(p, "monthly_income_fen");
    ck_assert_int_eq(wg_schema_fen_of(p, y), f);
    ck_assert(wg_schema_is_fen(p, f) && wg_schema_shown(p, f));
    ck_assert_int_eq(p->fields[f].since, 3);
    int64_t fen = 0;
    wg_err e;
    ck_assert_int_eq(wg_validate_yuan(&p->fields[y], "2800.50", &fen, &e),
                     WG_OK);
    ck_assert_int_eq(fen, 280050);
    ck_assert_int_eq(wg_validate_yuan(&p->fields[y], "0.5", &fen, &e), WG_OK);
    ck_assert_int_eq(fen, 50);
    ck_assert_int_eq(wg_validate_yuan(&p->fields[y], "12", &fen, &e), WG_OK);
    ck_assert_int_eq(fen, 1200);
    const char *bad[] = { "1.234", ".5", "5.", "1,5", "-1", "1e3", "",
                          "100000001", "1.5.5" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(wg_validate_yuan(&p->fields[y], bad[i], &fen, &e) ==
                          WG_ERR_INVALID, "'%s' accepted", bad[i]);
    char out[32];
    ck_assert_int_eq(wg_validate_value(&p->fields[y], "2800.99", out,
                                       sizeof out, &e), WG_OK);
    ck_assert_str_eq(out, "2800");
}
END_TEST

/* A valid value of F, from its description alone. */
static const char *sample(const wg_table *t, const wg_field *f,
                          const char *person_id, char *buf, size_t cap)
{
    switch (f->type) {
    case WG_FT_TEXT:
        snprintf(buf, cap, "%s-值", f->name);
        break;
    case WG_FT_INT:
        snprintf(buf, cap, "%lld", (long long)(f->max > f->min ? f->max - 1
                                                                : f->min));
        break;
    case WG_FT_DATE:
        snprintf(buf, cap, "2001-02-03"); /* ends never before starts */
        break;
    case WG_FT_BOOL:
        snprintf(buf, cap, "1");
        break;
    case WG_FT_ENUM: {
        int k = 0;
        while (f->enum_values[k + 1])
            k++;
        snprintf(buf, cap, "%s", f->enum_values[k]); /* the last one */
        break;
    }
    case WG_FT_IDNUM: {
        /* 450224 + 2001-02-03 (the birth date sample may differ: only when
         * a birth_date field exists is it forced to agree, below) */
        char body[18] = "45022420010203002";
        snprintf(buf, cap, "%s%c", body, (char)wg_validate_idnum_check(body));
        break;
    }
    case WG_FT_COUNTY:
        snprintf(buf, cap, "450224");
        break;
    case WG_FT_REF:
        snprintf(buf, cap, "%s", person_id);
        break;
    case WG_FT_PHONE:
        snprintf(buf, cap, "13800000000");
        break;
    }
    (void)t;
    return buf;
}

/* Every field of every user table, filled from the description, written
 * to a store, read back, dumped, encoded and decoded. */
START_TEST(test_schema_every_field_reaches_sql_validation_codec_and_dump)
{
    char *dir = tu_tmpdir();
    char *node = tu_path(dir, "n");
    wg_node_info info;
    nu_node_info(&info, "schema", "450224", WG_ROLE_OFFICE);
    wg_err e;
    ck_assert_int_eq(wg_store_create(node, PASS, strlen(PASS),
                                     WG_KDF_INTERACTIVE, &info, &e), WG_OK);
    wg_store *st;
    ck_assert_int_eq(wg_store_open(node, PASS, strlen(PASS), &st, &e), WG_OK);

    char person_id[WG_ID_HEX_CHARS + 1] = "";
    char vals[WG_MAX_FIELDS][96];
    const wg_table *t;
    for (int ti = 0; (t = wg_schema_table_at(ti)); ti++) {
        const char *names[WG_MAX_FIELDS], *values[WG_MAX_FIELDS];
        int nuser = 0;  /* the meta fields come last: no user gives them */
        for (int f = 0; f < t->nfields; f++) {
            names[f] = t->fields[f].name;
            values[f] = sample(t, &t->fields[f], person_id, vals[f],
                               sizeof vals[f]);
            if (!t->fields[f].meta)
                nuser = f + 1;
        }
        for (int f = 0; f < t->nfields; f++)
            if (wg_schema_fen_of(t, f) >= 0)  /* the exact amount agrees */
                snprintf(vals[wg_schema_fen_of(t, f)], sizeof vals[0],
                         "%s00", vals[f]);
        int g = wg_schema_field_index(t, "gender");
        if (g >= 0)
            snprintf(vals[g], sizeof vals[g], "female"); /* 17th digit 2 */
        /* validation: every sample passes, and a wrong value is refused
         * with the field's name first */
        for (int f = 0; f < t->nfields; f++) {
            const wg_field *fd = &t->fields[f];
            char out[128];
            ck_assert_msg(wg_validate_value(fd, values[f], out, sizeof out,
                                            &e) == WG_OK,
                          "%s.%s=%s: %s", t->name, fd->name, values[f], e.msg);
            if (fd->type != WG_FT_TEXT) {
                ck_assert_int_eq(wg_validate_value(fd, "\x01?", out,
                                                   sizeof out, &e),
                                 WG_ERR_INVALID);
                ck_assert_msg(!strncmp(e.msg, fd->name, strlen(fd->name)),
                              "%s: message '%s'", fd->name, e.msg);
            }
        }
        /* SQL: the record is stored and read back field by field */
        char id[WG_ID_HEX_CHARS + 1];
        ck_assert_msg(wg_store_add(st, t, names, values, nuser, id, &e)
                          == WG_OK, "%s: %s", t->name, e.msg);
        if (ti == 0)
            snprintf(person_id, sizeof person_id, "%s", id);
        wg_record r;
        ck_assert_int_eq(wg_store_get(st, t, id, &r, &e), WG_OK);
        for (int f = 0; f < nuser; f++)
            ck_assert_msg(r.values[f] && !strcmp(r.values[f], values[f]),
                          "%s.%s: stored '%s', read '%s'", t->name,
                          t->fields[f].name, values[f],
                          r.values[f] ? r.values[f] : "(null)");
        wg_record_release(&r);

        /* codec: a change carrying every field round-trips */
        wg_change c;
        memset(&c, 0, sizeof c);
        c.table = t->wire;
        c.seq = 1;
        c.hlc = 7;
        snprintf(c.partition, sizeof c.partition, "450224");
        c.nfields = (uint8_t)t->nfields;
        for (int f = 0; f < t->nfields; f++) {
            c.fields[f].index = (uint8_t)f;
            c.fields[f].type = WG_VAL_TEXT;
            c.fields[f].text = values[f];
            c.fields[f].len = (uint16_t)strlen(values[f]);
        }
        wg_buf b;
        wg_buf_init(&b, WG_CHANGE_MAX_BYTES);
        ck_assert_int_eq(wg_change_encode(&c, &b, &e), WG_OK);
        wg_change d;
        ck_assert_int_eq(wg_change_decode(b.data, b.len, &d, &e), WG_OK);
        ck_assert_int_eq(d.table, t->wire);
        ck_assert_int_eq(d.nfields, t->nfields);
        ck_assert(wg_change_known(&d));
        for (int f = 0; f < t->nfields; f++) {
            ck_assert_int_eq(d.fields[f].len, strlen(values[f]));
            ck_assert(!memcmp(d.fields[f].text, values[f], d.fields[f].len));
        }
        wg_buf_release(&b);
    }

    /* the canonical dump holds every value of every table */
    wg_buf dump;
    wg_buf_init(&dump, 1 << 20);
    ck_assert_int_eq(wg_store_dump(st, &dump, &e), WG_OK);
    ck_assert_int_eq(wg_buf_cstr(&dump, &e), WG_OK);
    for (int ti = 0; (t = wg_schema_table_at(ti)); ti++) {
        char head[64];
        snprintf(head, sizeof head, "[%s]\n", t->name);
        ck_assert_ptr_nonnull(strstr((char *)dump.data, head));
        for (int f = 0; f < t->nfields; f++) {
            const wg_field *fd = &t->fields[f];
            if (fd->type == WG_FT_TEXT && !fd->meta) {
                char want[128];
                snprintf(want, sizeof want, "|t%s-值", fd->name);
                ck_assert_msg(strstr((char *)dump.data, want),
                              "dump lacks %s.%s", t->name, fd->name);
            }
        }
    }
    ck_assert_ptr_nonnull(strstr((char *)dump.data, "|t2001-02-"));
    wg_buf_release(&dump);
    wg_store_close(&st);
    free(node);
    tu_rmtree(&dir);
}
END_TEST

/* A change from a newer schema: a field number past the table's fields and
 * a table number this build does not know decode within the bounds, and
 * are known to be unknown; past the bounds they are refused. */
START_TEST(test_schema_newer_fields_and_tables_decode_within_bounds)
{
    wg_change c;
    memset(&c, 0, sizeof c);
    c.table = WG_TABLE_PERSON;
    c.seq = 1;
    snprintf(c.partition, sizeof c.partition, "450224");
    c.nfields = 1;
    c.fields[0].index = 0;
    c.fields[0].type = WG_VAL_TEXT;
    c.fields[0].text = "x";
    c.fields[0].len = 1;
    wg_buf b;
    wg_err e;
    wg_buf_init(&b, WG_CHANGE_MAX_BYTES);
    ck_assert_int_eq(wg_change_encode(&c, &b, &e), WG_OK);
    /* the field index is the byte before the value type, 4 from the end of
     * a one-field change ("x": index, type, u16 length, 'x') */
    size_t at = b.len - 5;
    ck_assert_int_eq(b.data[at], 0);
    wg_change d;
    b.data[at] = WG_MAX_FIELDS - 1;
    ck_assert_int_eq(wg_change_decode(b.data, b.len, &d, &e), WG_OK);
    ck_assert(!wg_change_known(&d));
    b.data[at] = WG_MAX_FIELDS;
    ck_assert_int_eq(wg_change_decode(b.data, b.len, &d, &e), WG_ERR_CORRUPT);
    ck_assert_str_eq(e.msg, "malformed change: bad field number");
    b.data[at] = 0;
    /* the table number: after origin, partition, seq, prev and hlc */
    size_t tat = 1 + 32 + 1 + 6 + 8 + 32 + 8;
    ck_assert_int_eq(b.data[tat], WG_TABLE_PERSON);
    b.data[tat] = WG_TABLE_WIRE_MAX;
    ck_assert_int_eq(wg_change_decode(b.data, b.len, &d, &e), WG_OK);
    ck_assert(!wg_change_known(&d));
    b.data[tat] = WG_TABLE_WIRE_MAX + 1;
    ck_assert_int_eq(wg_change_decode(b.data, b.len, &d, &e), WG_ERR_CORRUPT);
    b.data[tat] = 0;
    ck_assert_int_eq(wg_change_decode(b.data, b.len, &d, &e), WG_ERR_CORRUPT);
    /* a node writes only what it knows */
    c.fields[0].index = (uint8_t)wg_schema_table("person")->nfields;
    wg_buf_reset(&b);
    ck_assert_int_eq(wg_change_encode(&c, &b, &e), WG_ERR_INVALID);
    wg_buf_release(&b);
}
END_TEST

static const tu_test tests[] = {
    TU_TEST(case_description, test_schema_description_keeps_its_rules),
    TU_TEST(case_description, test_schema_certificate_expiry_is_a_person_field_of_version_2),
    TU_TEST(case_description, test_schema_newer_fields_and_tables_decode_within_bounds),
    TU_TEST(case_description, test_schema_3_meta_fields_and_income_in_fen),
    TU_TEST(case_consumers, test_schema_every_field_reaches_sql_validation_codec_and_dump),
};

int main(void)
{
    return tu_run_after(wg_crypto_init(NULL), TU_SUITE("schema", tests));
}
