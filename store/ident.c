/*
 * ident.c - the identity rules: names, codes, partitions, areas, endpoints,
 * times
 *
 * The one home of each rule (see wg_ident.h); store/ and sync/ call these
 * instead of writing a rule out again.
 */
#include "wg_ident.h"

#include "wg_validate.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int digits_ok(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!is_digit(s[i]))
            return 0;
    return 1;
}

/* Printable ASCII without space: 0x21..0x7e. */
static int graph_ok(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x21 || c > 0x7e)
            return 0;
    }
    return 1;
}

int wg_ident_name_ok(const char *s, size_t n)
{
    if (n < 1 || n > WG_NAME_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if ((unsigned char)c >= 0x80) {
            /* A well-formed UTF-8 character (三江), wholly inside the N
             * bytes: copied out, so the check cannot read past them. */
            char ch[5] = { 0 };
            memcpy(ch, s + i, n - i < 4 ? n - i : 4);
            size_t k = wg_validate_utf8_char(ch);
            if (k < 2)
                return 0;
            i += k - 1;
            continue;
        }
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
              is_digit(c) || c == '.' || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

int wg_ident_county_ok(const char *s, size_t n)
{
    return n == WG_COUNTY_CHARS && digits_ok(s, n);
}

int wg_ident_scope_ok(const char *s, size_t n)
{
    return n <= WG_SCOPE_MAX && digits_ok(s, n);
}

int wg_ident_partition_ok(const char *s, size_t n)
{
    return n >= 1 && n <= WG_PARTITION_MAX && graph_ok(s, n);
}

int wg_ident_endpoint_ok(const char *ep)
{
    size_t n = strnlen(ep, WG_ENDPOINT_MAX + 1);
    return n > 6 && n <= WG_ENDPOINT_MAX && !strncmp(ep, "tcp://", 6) &&
           graph_ok(ep, n);
}

/* GB/T 2260: XX0000 a province, XXYY00 a prefecture, anything else a
 * county-level division; 000000 the whole country. */
int wg_ident_area_prefix(const char *county, wg_role role,
                         char out[WG_SCOPE_MAX + 1])
{
    out[0] = 0;
    if (!county || !wg_ident_county_ok(county, strnlen(county, 7)) ||
        (role != WG_ROLE_OFFICE && role != WG_ROLE_HQ))
        return -1;
    size_t n = WG_COUNTY_CHARS;
    if (role == WG_ROLE_HQ) {
        if (!strcmp(county, "000000"))
            n = 0;
        else if (!strcmp(county + 2, "0000"))
            n = 2;
        else if (!strcmp(county + 4, "00"))
            n = 4;
    }
    memcpy(out, county, n);
    out[n] = 0;
    return (int)n;
}

int wg_ident_area_contains(const char *county, wg_role role,
                           const char *code)
{
    char prefix[WG_SCOPE_MAX + 1];
    int n = wg_ident_area_prefix(county, role, prefix);
    /* An area holds division codes only: a partition of any other form
     * (the codec allows 16 printable bytes) is in no one's area. */
    return n >= 0 && code && wg_ident_county_ok(code, strnlen(code, 7)) &&
           strncmp(code, prefix, (size_t)n) == 0;
}

void wg_ident_time_utc(int64_t secs, char out[WG_TIME_CHARS + 1])
{
    time_t t = (time_t)secs;
    struct tm tm;
    if (!gmtime_r(&t, &tm) ||
        strftime(out, WG_TIME_CHARS + 1, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(out, WG_TIME_CHARS + 1, "(time out of range)");
}
