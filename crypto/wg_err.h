/*
 * wg_err.h - the one result enum of wings, its error record, and the
 * out-of-memory policy
 *
 * Every fallible function returns a wg_rc and takes a nullable wg_err * last,
 * filled with a one-line lower-case reason on failure and left untouched on
 * success. The enum is appended to and never renumbered.
 */
#ifndef WG_ERR_H
#define WG_ERR_H

#include <stddef.h>

typedef enum wg_rc {
    WG_OK = 0,
    WG_ERR_INVALID,   /* bad input from a user or file: exit 3 */
    WG_ERR_NOTFOUND,  /* exit 5 */
    WG_ERR_AUTH,      /* wrong passphrase, altered page, bad signature: exit 4 */
    WG_ERR_CORRUPT,   /* malformed stored or received bytes */
    WG_ERR_IO,
    WG_ERR_PROTO,     /* a peer broke the protocol */
    WG_ERR_PEER,      /* unreachable, refused, timed out: exit 6 */
    WG_ERR_INTERNAL,  /* an invariant broke: a bug, exit 1 */
    WG_ERR_EXISTS,    /* the object to create is already there: exit 3 */
    WG_ERR_NOSPACE,   /* the disk is full: exit 1 with "storage full" */
    WG_ERR_AMBIGUOUS  /* an id prefix matching several records: exit 2 */
} wg_rc;

#define WG_ERR_MSG_BYTES 256

typedef struct wg_err {
    wg_rc code;
    char msg[WG_ERR_MSG_BYTES];
} wg_err;

/* Fill ERR (may be NULL) with CODE and a printf-style message; returns CODE so
 * a caller can write `return wg_err_set(err, WG_ERR_IO, "...")`. */
wg_rc wg_err_set(wg_err *err, wg_rc code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Short lower-case name of CODE ("invalid input", "not found", ...). */
const char *wg_rc_name(wg_rc code);

/* Allocation that never fails: out of memory aborts with the size, as Redis,
 * git and CZMQ do. Caller owns the result; release with free(). */
void *wg_xmalloc(size_t n);
void *wg_xcalloc(size_t count, size_t size);
void *wg_xrealloc(void *p, size_t n);
char *wg_xstrdup(const char *s);

/* N zero bytes at a 2 MiB boundary, in transparent huge pages where the
 * kernel offers them: a page fault per 2 MiB rather than per 4 KiB page
 * (under a hypervisor that traps page-table updates, the larger part of
 * filling tens of MiB). Address space is reserved; memory comes on first
 * touch. DONTDUMP keeps it out of core dumps. Never fails, as above.
 * Release with wg_huge_free(P, N). */
void *wg_huge_alloc(size_t n, int dontdump);
void wg_huge_free(void *p, size_t n);
/* A zeroed table of COUNT entries of SIZE bytes, filled at random (a hash
 * table): from calloc while small, wg_huge_alloc() from 2 MiB on. Release
 * with wg_table_free() and the same COUNT and SIZE. */
void *wg_table_alloc(size_t count, size_t size);
void wg_table_free(void *p, size_t count, size_t size);

#endif
