/*
 * schema.c - the record tables, as data
 */
#include "wg_schema.h"

#include <string.h>

static const char *const genders[] = { "male", "female", NULL };
static const char *const disability_categories[] = {
    "physical", "visual", "hearing", "speech", "intellectual", "mental",
    "multiple", NULL };
static const char *const training_categories[] = {
    "ecommerce_live", "customer_service", "handicraft", "food_processing",
    "agriculture", "it", "other", NULL };
static const char *const outcomes[] = {
    "enrolled", "completed", "certified", "dropped", NULL };
static const char *const employment_types[] = {
    "enterprise", "assisted", "self_employed", "online", "public_welfare",
    "agricultural", "flexible", NULL };
static const char *const placement_statuses[] = { "active", "ended", NULL };

#define TEXT(n, req, len) { n, WG_FT_TEXT, req, NULL, 0, 0, len }
#define DATE(n, req) { n, WG_FT_DATE, req, NULL, 0, 0, 0 }
#define ENUM(n, req, vals) { n, WG_FT_ENUM, req, vals, 0, 0, 0 }
#define INT(n, req, lo, hi) { n, WG_FT_INT, req, NULL, lo, hi, 0 }

static const wg_field person_fields[] = {
    TEXT("name", 1, 200),
    ENUM("gender", 0, genders),
    DATE("birth_date", 0),
    { "id_number", WG_FT_IDNUM, 1, NULL, 0, 0, 18 },
    ENUM("disability_category", 1, disability_categories),
    INT("disability_grade", 0, 1, 4),
    TEXT("certificate_no", 0, 64),
    { "county", WG_FT_COUNTY, 1, NULL, 0, 0, 6 },
    TEXT("township", 0, 200),
    TEXT("phone", 0, 32),
    { "rural", WG_FT_BOOL, 0, NULL, 0, 1, 0 },
    DATE("registered_on", 0),
};

static const wg_field training_fields[] = {
    { "person_id", WG_FT_REF, 1, NULL, 0, 0, 32 },
    TEXT("course", 1, 200),
    ENUM("category", 0, training_categories),
    TEXT("provider", 0, 200),
    DATE("start_date", 1),
    DATE("end_date", 0),
    INT("hours", 0, 0, 100000),
    ENUM("outcome", 1, outcomes),
    { "county", WG_FT_COUNTY, 1, NULL, 0, 0, 6 },
};

static const wg_field placement_fields[] = {
    { "person_id", WG_FT_REF, 1, NULL, 0, 0, 32 },
    TEXT("employer", 1, 200),
    ENUM("employment_type", 1, employment_types),
    TEXT("position", 0, 200),
    DATE("start_date", 1),
    DATE("end_date", 0),
    INT("monthly_income", 0, 0, 100000000),
    ENUM("status", 1, placement_statuses),
    { "county", WG_FT_COUNTY, 1, NULL, 0, 0, 6 },
};

/* The audit trail: entries are changes in the writing node's own feed, so
 * they replicate and carry its signature like records. */
static const wg_field audit_fields[] = {
    TEXT("time", 1, 32),
    TEXT("event", 1, 32),
    TEXT("node", 1, 64),
    TEXT("peer", 0, 64),
    TEXT("peer_key", 0, 64),
    TEXT("direction", 0, 8),
    INT("sent", 0, 0, INT64_MAX),
    INT("received", 0, 0, INT64_MAX),
    INT("refused", 0, 0, INT64_MAX),
    TEXT("result", 1, 16),
    TEXT("reason", 0, 256),
};

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

static const wg_table audit_table = { "audit", audit_fields, N(audit_fields) };

const wg_table *wg_schema_audit(void)
{
    return &audit_table;
}

static const wg_table tables[] = {
    { "person", person_fields, N(person_fields) },
    { "training", training_fields, N(training_fields) },
    { "placement", placement_fields, N(placement_fields) },
};

const wg_table *wg_schema_table(const char *name)
{
    for (int i = 0; i < N(tables); i++)
        if (!strcmp(tables[i].name, name))
            return &tables[i];
    return NULL;
}

const wg_table *wg_schema_table_at(int i)
{
    return i >= 0 && i < N(tables) ? &tables[i] : NULL;
}

int wg_schema_field_index(const wg_table *t, const char *name)
{
    for (int i = 0; i < t->nfields; i++)
        if (!strcmp(t->fields[i].name, name))
            return i;
    return -1;
}
