/*
 * wg_ident.h - the identity rules, written once
 *
 * What a node name, a county code, a partition, an endpoint and a scope
 * prefix may look like, which codes an HQ's area holds, and how a time is
 * written. store/ (creating a node, the peer list, validation, applying
 * changes) and sync/ (the wire codec, the session's scope clamp) call
 * these and nothing else; pure functions, no I/O, any thread.
 */
#ifndef WG_IDENT_H
#define WG_IDENT_H

#include <stddef.h>
#include <stdint.h>

#define WG_NAME_MAX 64          /* a node or peer name, in bytes */
#define WG_ENDPOINT_MAX 256     /* tcp://HOST:PORT, in bytes */
#define WG_COUNTY_CHARS 6       /* a GB/T 2260 division code */
#define WG_PARTITION_MAX 16     /* a feed's partition, in bytes */
#define WG_SCOPE_MAX WG_COUNTY_CHARS /* a scope prefix, in digits */
#define WG_TIME_CHARS 20        /* "2026-03-07T08:15:00Z" */

typedef enum wg_role { WG_ROLE_OFFICE = 0, WG_ROLE_HQ = 1 } wg_role;

/* A node name: 1..WG_NAME_MAX bytes of [A-Za-z0-9._-] and well-formed
 * UTF-8 characters beyond ASCII (三江). S need not be NUL-terminated: N
 * bytes are checked. */
int wg_ident_name_ok(const char *s, size_t n);

/* A division code: exactly WG_COUNTY_CHARS ASCII digits (000000 included:
 * the national HQ's code; a record's county is checked further by
 * validate.c). */
int wg_ident_county_ok(const char *s, size_t n);

/* A scope prefix as carried in a HELLO: 0..WG_SCOPE_MAX ASCII digits. */
int wg_ident_scope_ok(const char *s, size_t n);

/* A partition: 1..WG_PARTITION_MAX printable ASCII bytes, no space. */
int wg_ident_partition_ok(const char *s, size_t n);

/* An endpoint: "tcp://" and then 1 or more printable ASCII bytes without
 * space, at most WG_ENDPOINT_MAX in all (NUL-terminated). */
int wg_ident_endpoint_ok(const char *ep);

/* The code prefix that names the area of a node of COUNTY and ROLE, written
 * to OUT; returns its length. By the code's administrative level, never by
 * stripping zeros: an office, or an hq of a county code, is its own code
 * (6 digits); an hq of a prefecture XXYY00 is XXYY; of a province XX0000,
 * XX; of 000000, "" (everything). So 451000 (Baise) is 4510, never 451,
 * and 500000 (Chongqing) is 50, never 5. Returns -1 (OUT "") when COUNTY
 * is not a division code or ROLE is unknown: such a node has no area. */
int wg_ident_area_prefix(const char *county, wg_role role,
                         char out[WG_SCOPE_MAX + 1]);

/* Is the partition or code CODE inside the area of a node of COUNTY and
 * ROLE? Only a division code (wg_ident_county_ok) can be; never, when
 * wg_ident_area_prefix() gives -1. */
int wg_ident_area_contains(const char *county, wg_role role,
                           const char *code);

/* SECS since the epoch as UTC ISO 8601 ("2026-03-07T08:15:00Z") in OUT. */
void wg_ident_time_utc(int64_t secs, char out[WG_TIME_CHARS + 1]);

#endif
