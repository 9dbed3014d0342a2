/*
 * schema.c - the replicated tables, as data
 *
 * The one description wg_schema.h promises. Read its compatibility rules
 * before touching an entry: append fields, never reorder or reuse.
 */
#include "wg_schema.h"

#include <stdint.h>
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

/* Chinese labels, one per value above, in the same order. */
static const char *const genders_zh[] = { "男", "女", NULL };
static const char *const disability_categories_zh[] = {
    "肢体", "视力", "听力", "言语", "智力", "精神", "多重", NULL };
static const char *const training_categories_zh[] = {
    "电商直播", "网络客服", "手工艺", "食品加工", "农业技术", "信息技术",
    "其他", NULL };
static const char *const outcomes_zh[] = {
    "在读", "结业", "取得证书", "中途退出", NULL };
static const char *const employment_types_zh[] = {
    "企业就业", "辅助性就业", "自主创业", "网络就业", "公益性岗位",
    "农业种养", "灵活就业", NULL };
static const char *const placement_statuses_zh[] = { "在岗", "已离岗", NULL };

#define TEXT(n, req, len, zh) { .name = n, .type = WG_FT_TEXT, .required = req, \
    .max_len = len, .title = zh, .since = 1 }
#define DATE(n, req, zh) { .name = n, .type = WG_FT_DATE, .required = req, \
    .title = zh, .since = 1 }
#define ENUM(n, req, vals, zh) { .name = n, .type = WG_FT_ENUM, \
    .required = req, .enum_values = vals, .enum_titles = vals##_zh, \
    .title = zh, .since = 1 }
#define INT(n, req, lo, hi, zh) { .name = n, .type = WG_FT_INT, \
    .required = req, .min = lo, .max = hi, .title = zh, .since = 1 }
#define COUNTY { .name = "county", .type = WG_FT_COUNTY, .required = 1, \
    .max_len = 6, .title = "县区代码", .role = WG_FR_PARTITION, .since = 1, \
    .help = "6-digit county code; defaults to this node's own county" }
/* Schema 3's meta fields, at the end of every user table (appended: they
 * take the next wire numbers, and a schema-2 node keeps and relays them
 * as fields it does not know).
 *
 * changed_by: the account name of the clerk whose write made the change
 *   (wg_store_set_actor: the web page's signed-in user); absent when the
 *   node's operator wrote through the CLI. A field of the change rather
 *   than of the record, really: history reads it per change, and the
 *   column holds the clerk of the latest change that named one. Carried in
 *   the change itself (not a node-local table) because the change is what
 *   is signed and travels: the HQ and every node after it can answer "who
 *   changed this income?" with the office's signature over the answer.
 *   It is a field, not a new change header, so the change format and every
 *   older node's decoder stay as they are (an unknown field passes).
 *   Bounded like a user name (wg_users.h: 32 of [a-z0-9._-]) with room;
 *   from a peer it is text like any other (length, UTF-8, no controls).
 * base_clocks: for each field an update writes, the clock of the value it
 *   replaced, "N:HLC:ORIGIN" (field number, the clock in hex, the first 16
 *   hex digits of the writer's key; "N:0" when the field was empty),
 *   space-separated. Merge compares it with the clock it holds for the
 *   field to find concurrent edits (overwritten.c).
 * Neither is offered to users: `help add`, add/update/import, list, get,
 * export and the page's forms leave them out (wg_schema_shown). */
#define META_FIELDS \
    { .name = "changed_by", .type = WG_FT_TEXT, .max_len = 64, \
      .title = "修改人", .since = 3, .meta = 1 }, \
    { .name = "base_clocks", .type = WG_FT_TEXT, .max_len = 1000, \
      .title = "修改前的时钟", .since = 3, .meta = 1 }

#define PERSON_REF { .name = "person_id", .type = WG_FT_REF, .required = 1, \
    .max_len = 32, .title = "人员编号", .role = WG_FR_REF, .ref = "person", \
    .since = 1, .help = "the id of a person this node holds" }

static const wg_field person_fields[] = {
    TEXT("name", 1, 200, "姓名"),
    ENUM("gender", 0, genders, "性别"),
    DATE("birth_date", 0, "出生日期"),
    { .name = "id_number", .type = WG_FT_IDNUM, .required = 1, .max_len = 18,
      .title = "身份证号", .since = 1, .unique = 1,
      .help = "18-character resident ID number (GB 11643 check digit)" },
    ENUM("disability_category", 1, disability_categories, "残疾类别"),
    INT("disability_grade", 0, 1, 4, "残疾等级"),
    TEXT("certificate_no", 0, 64, "残疾证号"),
    COUNTY,
    TEXT("township", 0, 200, "乡镇"),
    { .name = "phone", .type = WG_FT_PHONE, .max_len = 32,
      .title = "联系电话", .since = 1,
      .help = "a mobile (13812345678) or landline (0772-2812345) number" },
    { .name = "rural", .type = WG_FT_BOOL, .max = 1, .title = "农村户籍",
      .since = 1, .help = "1 for a rural household registration, else 0" },
    DATE("registered_on", 0, "登记日期"),
#if WG_SCHEMA_VERSION >= 2
    { .name = "certificate_valid_until", .type = WG_FT_DATE,
      .title = "残疾证有效期至", .since = 2,
      .help = "the day the disability certificate expires" },
#endif
#if WG_SCHEMA_VERSION >= 3
    META_FIELDS,
#endif
};

static const wg_field training_fields[] = {
    PERSON_REF,
    TEXT("course", 1, 200, "培训课程"),
    ENUM("category", 0, training_categories, "培训类别"),
    TEXT("provider", 0, 200, "培训机构"),
    DATE("start_date", 1, "开始日期"),
    DATE("end_date", 0, "结束日期"),
    INT("hours", 0, 0, 100000, "学时"),
    ENUM("outcome", 1, outcomes, "培训结果"),
    COUNTY,
#if WG_SCHEMA_VERSION >= 3
    META_FIELDS,
#endif
};

static const wg_field placement_fields[] = {
    PERSON_REF,
    TEXT("employer", 1, 200, "用人单位"),
    ENUM("employment_type", 1, employment_types, "就业形式"),
    TEXT("position", 0, 200, "岗位"),
    DATE("start_date", 1, "开始日期"),
    DATE("end_date", 0, "结束日期"),
#if WG_SCHEMA_VERSION >= 3
    { .name = "monthly_income", .type = WG_FT_INT, .min = 0, .max = 100000000,
      .title = "月收入（元）", .since = 1, .fen = "monthly_income_fen",
      .help = "yuan, with up to two decimals (2800.50): kept exactly as fen "
              "in monthly_income_fen, the whole yuan here" },
#else
    INT("monthly_income", 0, 0, 100000000, "月收入（元）"),
#endif
    ENUM("status", 1, placement_statuses, "就业状态"),
    COUNTY,
#if WG_SCHEMA_VERSION >= 3
    /* The income exactly, in fen (yuan x 100): typed as yuan with up to
     * two decimals (monthly_income=2800.50), which writes both this and
     * the whole yuan into monthly_income, so a schema-2 node still shows
     * a value (validate.c, records.c). */
    { .name = "monthly_income_fen", .type = WG_FT_INT, .min = 0,
      .max = 10000000000LL, .title = "月收入（分）", .since = 3,
      .help = "the monthly income in fen; set by monthly_income=YUAN.JF" },
    META_FIELDS,
#endif
};

/* The audit trail: entries are changes in the writing node's own feed, so
 * they replicate and carry its signature like records. */
static const wg_field audit_fields[] = {
    TEXT("time", 1, 32, "时间"),
    TEXT("event", 1, 32, "事件"),
    TEXT("node", 1, 64, "节点"),
    TEXT("peer", 0, 64, "对端"),
    TEXT("peer_key", 0, 64, "对端公钥"),
    TEXT("direction", 0, 8, "方向"),
    INT("sent", 0, 0, INT64_MAX, "发送"),
    INT("received", 0, 0, INT64_MAX, "接收"),
    INT("refused", 0, 0, INT64_MAX, "拒收"),
    TEXT("result", 1, 16, "结果"),
    TEXT("reason", 0, 256, "原因"),
};

#if WG_SCHEMA_VERSION >= 2
/* The names of areas: one record per area code, its partition the code
 * itself, so an HQ's names reach every node whose scope holds the area
 * (the county office its own name, every HQ above it all of theirs). The
 * record id is derived from the code (wg_store_area_set), so two HQs
 * naming one area write one record and the later name wins. */
static const wg_field area_fields[] = {
    { .name = "county", .type = WG_FT_COUNTY, .required = 1, .max_len = 6,
      .title = "区划代码", .role = WG_FR_PARTITION, .since = 2,
      .help = "6-digit administrative division code (GB/T 2260)" },
    { .name = "name", .type = WG_FT_TEXT, .required = 1, .max_len = 100,
      .title = "名称", .since = 2, .help = "the area's name" },
};
static const wg_index area_indexes[] = {
    { "area_county", "county, deleted" },
    { NULL, NULL },
};

/* Membership: certificates and revocations (wg_cert.h) as signed data in
 * the issuer's feed, partitioned by the subject's code so they travel up
 * the tree like that county's records. BODY (hex) is the only authority;
 * the other columns are its decoded copy, for lookups and listing. */
#define MTEXT(n, req, len, zh) { .name = n, .type = WG_FT_TEXT, \
    .required = req, .max_len = len, .title = zh, .since = 2 }
#define MINT(n, zh) { .name = n, .type = WG_FT_INT, .min = 0, \
    .max = INT64_MAX, .title = zh, .since = 2 }
static const wg_field member_fields[] = {
    MTEXT("kind", 1, 8, "类型"),
    MTEXT("subject", 1, 64, "证书主体公钥"),
    MTEXT("issuer", 1, 64, "签发者公钥"),
    MTEXT("name", 0, 64, "名称"),
    MTEXT("role", 0, 8, "角色"),
    MINT("serial", "序号"),
    MINT("not_after", "有效期至"),
    MTEXT("body", 1, 1024, "证书"),
    { .name = "county", .type = WG_FT_COUNTY, .required = 1, .max_len = 6,
      .title = "县区代码", .role = WG_FR_PARTITION, .since = 2 },
};
static const wg_index member_indexes[] = {
    { "member_subject", "subject, kind" },
    { NULL, NULL },
};
#endif

/* Indexes: the report's joins are answered from covering indexes. */
/* (A person's id_number is looked up only among live records: the
 * node-local person_live_id_number answers that, see ddl.c.) */
static const wg_index person_indexes[] = {
    { "person_county", "county, deleted" },
    { NULL, NULL },
};
static const wg_index training_indexes[] = {
    { "training_person", "person_id, outcome, deleted" },
    { "training_county", "county" },
    { NULL, NULL },
};
static const wg_index placement_indexes[] = {
    { "placement_person", "person_id, status, deleted, monthly_income" },
    { "placement_county", "county" },
    { NULL, NULL },
};
static const wg_index audit_indexes[] = {
    { "audit_time", "time" },
    { NULL, NULL },
};

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* Every replicated table, user record tables first, in wire order. */
static const wg_table tables[] = {
    { .name = "person", .wire = 1, .since = 1, .user = 1, .title = "人员",
      .fields = person_fields, .nfields = N(person_fields),
      .indexes = person_indexes },
    { .name = "training", .wire = 2, .since = 1, .user = 1, .title = "培训",
      .fields = training_fields, .nfields = N(training_fields),
      .indexes = training_indexes },
    { .name = "placement", .wire = 3, .since = 1, .user = 1, .title = "就业",
      .fields = placement_fields, .nfields = N(placement_fields),
      .indexes = placement_indexes },
    { .name = "audit", .wire = 4, .since = 1, .user = 0, .title = "审计",
      .fields = audit_fields, .nfields = N(audit_fields),
      .indexes = audit_indexes },
#if WG_SCHEMA_VERSION >= 2
    { .name = "area", .wire = 5, .since = 2, .user = 0, .title = "区划名称",
      .fields = area_fields, .nfields = N(area_fields),
      .indexes = area_indexes },
    { .name = "member", .wire = 6, .since = 2, .user = 0, .title = "成员证书",
      .fields = member_fields, .nfields = N(member_fields),
      .indexes = member_indexes },
#endif
};

_Static_assert(N(person_fields) <= WG_MAX_FIELDS, "person has too many fields");
_Static_assert(N(training_fields) <= WG_MAX_FIELDS, "too many fields");
_Static_assert(N(placement_fields) <= WG_MAX_FIELDS, "too many fields");
_Static_assert(N(audit_fields) <= WG_MAX_FIELDS, "too many fields");

const wg_table *wg_schema_all(int i)
{
    return i >= 0 && i < N(tables) ? &tables[i] : NULL;
}

const wg_table *wg_schema_audit(void)
{
    return wg_schema_by_wire(4);
}

const wg_table *wg_schema_by_wire(unsigned wire)
{
    for (int i = 0; i < N(tables); i++)
        if (tables[i].wire == wire)
            return &tables[i];
    return NULL;
}

const wg_table *wg_schema_table(const char *name)
{
    for (int i = 0; i < N(tables); i++)
        if (tables[i].user && !strcmp(tables[i].name, name))
            return &tables[i];
    return NULL;
}

const wg_table *wg_schema_table_at(int i)
{
    for (int j = 0; j < N(tables); j++)
        if (tables[j].user && i-- == 0)
            return &tables[j];
    return NULL;
}

int wg_schema_partition(const wg_table *t)
{
    for (int i = 0; i < t->nfields; i++)
        if (t->fields[i].role == WG_FR_PARTITION)
            return i;
    return -1;
}

int wg_schema_nfields_at(const wg_table *t, int version)
{
    int n = 0;
    while (n < t->nfields && t->fields[n].since <= version)
        n++;
    return n;
}

int wg_schema_meta(const wg_table *t, const char *name)
{
    int i = wg_schema_field_index(t, name);
    return i >= 0 && t->fields[i].meta ? i : -1;
}

int wg_schema_fen_of(const wg_table *t, int i)
{
    if (i < 0 || i >= t->nfields || !t->fields[i].fen)
        return -1;
    return wg_schema_field_index(t, t->fields[i].fen);
}

int wg_schema_is_fen(const wg_table *t, int i)
{
    for (int j = 0; j < t->nfields; j++)
        if (t->fields[j].fen && wg_schema_fen_of(t, j) == i)
            return 1;
    return 0;
}

int wg_schema_shown(const wg_table *t, int i)
{
    return i >= 0 && i < t->nfields && !t->fields[i].meta;
}

const char *wg_schema_type_name(wg_ftype type)
{
    switch (type) {
    case WG_FT_TEXT: return "text";
    case WG_FT_INT: return "integer";
    case WG_FT_DATE: return "date";
    case WG_FT_BOOL: return "0/1";
    case WG_FT_ENUM: return "one of";
    case WG_FT_IDNUM: return "id number";
    case WG_FT_COUNTY: return "county code";
    case WG_FT_REF: return "record id";
    case WG_FT_PHONE: return "phone";
    }
    return "?";
}

/* Called for every field of every record written, mostly with the
 * description's own name strings (found by address), else with the same
 * few names: a per-thread memo by the name's address, always confirmed by
 * comparing the name (an address may be reused for another name). */
int wg_schema_field_index(const wg_table *t, const char *name)
{
    static _Thread_local struct {
        const wg_table *t;
        const char *name;
        int idx;
    } memo[64];
    for (int i = 0; i < t->nfields; i++)   /* the description's own */
        if (t->fields[i].name == name)
            return i;
    size_t h = ((uintptr_t)name >> 3 ^ (uintptr_t)t >> 4) & 63;
    int m = memo[h].idx;
    if (memo[h].t == t && memo[h].name == name && m < t->nfields &&
        !strcmp(t->fields[m].name, name))
        return m;
    for (int i = 0; i < t->nfields; i++)
        if (t->fields[i].name[0] == name[0] &&
            !strcmp(t->fields[i].name, name)) {
            memo[h].t = t;
            memo[h].name = name;
            memo[h].idx = i;
            return i;
        }
    return -1;
}

int wg_schema_field_by_title(const wg_table *t, const char *title)
{
    for (int i = 0; i < t->nfields; i++)
        if (t->fields[i].title && !strcmp(t->fields[i].title, title))
            return i;
    return -1;
}

const char *wg_schema_enum_title(const wg_field *f, const char *value)
{
    if (!f->enum_values || !f->enum_titles)
        return NULL;
    for (int i = 0; f->enum_values[i]; i++)
        if (!strcmp(f->enum_values[i], value))
            return f->enum_titles[i];
    return NULL;
}
