/*
 * fuzz_fields.c - libFuzzer harness for store/validate.c
 *
 * Input: one selector byte, then values separated by NUL bytes. The first
 * value is checked against every field of every table; all values together
 * form a record of table (selector % 3), field by field, where a value of the
 * single byte 0xff stands for an absent field. Beyond not crashing, the
 * harness aborts when a documented promise breaks: canonical forms are valid,
 * stable and no longer than the input, OUT is untouched on failure, and every
 * message is one line that starts with a field name.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wg_schema.h"
#include "wg_validate.h"

#define ABSENT_BYTE 0xff
#define OUT_FILL 0xa5

static int names_field(const char *msg, const char *name)
{
    size_t n = strlen(name);

    return !strncmp(msg, name, n) && !strncmp(msg + n, ": ", 2);
}

/* Die unless ERR is a well-formed one-line failure with code RC. */
static void check_failure(wg_rc rc, const wg_err *err)
{
    size_t len = strnlen(err->msg, sizeof err->msg);

    if (rc != WG_ERR_INVALID || err->code != rc || len == sizeof err->msg
        || memchr(err->msg, '\n', len))
        abort();
}

static void fuzz_value(const wg_field *f, const char *v, char *tiny,
                       size_t small)
{
    char out[WG_FIELD_MAX_BYTES + 1], again[WG_FIELD_MAX_BYTES + 1];
    char fill[WG_FIELD_MAX_BYTES + 1];
    wg_err err;
    wg_rc rc;
    size_t n;

    memset(out, OUT_FILL, sizeof out);
    memset(fill, OUT_FILL, sizeof fill);
    rc = wg_validate_value(f, v, out, sizeof out, &err);
    if (rc != WG_OK) {
        check_failure(rc, &err);
        if (!names_field(err.msg, f->name) || memcmp(out, fill, sizeof out))
            abort();
        return;
    }
    n = strnlen(out, sizeof out);
    if (n == sizeof out || n > strlen(v))
        abort();
    if (wg_validate_value(f, out, again, sizeof again, &err) != WG_OK
        || strcmp(out, again))
        abort();

    /* TINY: an exactly sized heap buffer, so ASan sees any write past
     * SMALL bytes. */
    rc = wg_validate_value(f, v, tiny, small, &err);
    if (n < small ? rc != WG_OK || strcmp(tiny, out)
                  : rc != WG_ERR_INTERNAL || err.code != rc)
        abort();
}

static void fuzz_record(const wg_table *t, char **pieces, int npieces,
                        int canonicalise)
{
    const char *values[WG_MAX_FIELDS] = { 0 };
    char canon[WG_MAX_FIELDS][WG_FIELD_MAX_BYTES + 1];
    wg_err err;
    wg_rc rc;

    for (int i = 0; i < t->nfields && i < npieces; i++) {
        if ((unsigned char)pieces[i][0] == ABSENT_BYTE && !pieces[i][1])
            continue;
        values[i] = pieces[i];
        /* Canonical values get past the per-field checks to the cross-field
         * rules far more often than raw fuzz bytes do. */
        if (canonicalise && wg_validate_value(&t->fields[i], pieces[i],
                                              canon[i], sizeof canon[i],
                                              NULL) == WG_OK)
            values[i] = canon[i];
    }
    rc = wg_validate_record(t, values, &err);
    if (rc != WG_OK) {
        int named = 0;
        check_failure(rc, &err);
        for (int i = 0; i < t->nfields; i++)
            named |= names_field(err.msg, t->fields[i].name);
        if (!named)
            abort();
        return;
    }
    for (int i = 0; i < t->nfields; i++)
        if (t->fields[i].required && (!values[i] || !values[i][0]))
            abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *pieces[WG_MAX_FIELDS];
    int npieces = 0;
    unsigned sel;
    size_t pos = 1;

    if (size < 1)
        return 0;
    sel = data[0];

    /* Each value in its own exact allocation, so reading past its NUL is an
     * ASan report rather than a quiet read of the next value. */
    while (npieces < WG_MAX_FIELDS && (pos < size || npieces == 0)) {
        const uint8_t *nul = memchr(data + pos, 0, size - pos);
        size_t len = nul ? (size_t)(nul - (data + pos)) : size - pos;
        char *p = malloc(len + 1);

        if (!p)
            abort();
        memcpy(p, data + pos, len);
        p[len] = '\0';
        pieces[npieces++] = p;
        pos += len + 1;
    }

    /* One exactly sized buffer for every field of this input (allocated
     * once, not once a field: the allocations, through the sanitizer's
     * quarantine, cost more than the checks). */
    size_t small = (sel >> 2) % 24;
    char *tiny = malloc(small ? small : 1);
    if (!tiny)
        abort();
    for (int ti = 0; wg_schema_table_at(ti); ti++) {
        const wg_table *t = wg_schema_table_at(ti);
        for (int i = 0; i < t->nfields; i++)
            fuzz_value(&t->fields[i], pieces[0], tiny, small);
    }
    free(tiny);
    fuzz_record(wg_schema_table_at((int)(sel % 3)), pieces, npieces,
                (sel & 0x80) != 0);

    for (int i = 0; i < npieces; i++)
        free(pieces[i]);
    return 0;
}
