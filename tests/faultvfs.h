/*
 * faultvfs.h - a test-only SQLite VFS beneath the wings shim: injected
 * faults and simulated power cuts
 *
 * fv_register() makes "faultvfs" the process default VFS; called before the
 * first store is opened, the wings shim (which wraps whatever VFS is the
 * default at its first registration) sits on top of it:
 *
 *   SQLite -> wings (seals pages) -> faultvfs (faults, crash log) -> unix
 *
 * Only files whose full path starts with the filter prefix are touched (so
 * in a two-node test only one node's files are hit); every other file, and
 * every file while nothing is armed, passes straight through.
 *
 * Faults: fv_arm_fault(KIND, N) fails the Nth call of the kind's category
 * (writes, reads or syncs) on a matching file from now on: a short write
 * (half the bytes land, SQLITE_FULL, as the unix VFS reports one), EIO on a
 * read or a write, ENOSPC (SQLITE_FULL, nothing written), a failed fsync.
 *
 * Power cuts, after SQLite's own crash-test VFS: between fv_crash_begin()
 * and fv_crash_apply() every write, truncation and delete of a matching file
 * since the file's last xSync is logged, and each is an "I/O point". With
 * fv_crash_cut_at(K) the Kth point and everything after it fail (the power
 * is off). fv_crash_apply() then rebuilds each file from its last synced
 * image plus a random choice of the unsynced operations (kept, dropped,
 * torn to a 512-byte-sector prefix, possibly reordered) and writes that to
 * the real file, as the disk might have held it when the power came back.
 *
 * Single-threaded use only (SQLite calls arrive on the test's thread).
 * FAULTVFS_TRACE=1 in the environment prints every write, sync and delete
 * of a matching file to stderr.
 */
#ifndef WG_FAULTVFS_H
#define WG_FAULTVFS_H

#include <stdint.h>

typedef enum fv_kind {
    FV_NONE = 0,
    FV_SHORT_WRITE,
    FV_EIO_READ,
    FV_EIO_WRITE,
    FV_ENOSPC,
    FV_FSYNC,
    FV_NKINDS
} fv_kind;

/* Register faultvfs as the default VFS (idempotent). 0 on success. */
int fv_register(void);

/* Only paths starting with the real path of DIR (NULL: none) are hit. */
void fv_set_filter(const char *dir);

/* Call the real fsync for matching files (default 0: the simulation owns
 * durability, and skipping it keeps thousands of runs fast). */
void fv_set_real_sync(int on);

/* Fail the Nth call (1-based) of KIND's category on matching files,
 * counting from now; STICKY: every later call of the category fails too. */
void fv_arm_fault(fv_kind kind, long nth, int sticky);
void fv_disarm(void);
/* Faults injected since fv_arm_fault(). */
long fv_hits(void);
/* Calls of the category seen since fv_arm_fault(). */
long fv_calls(void);
/* Faults injected of KIND since the process began. */
long fv_total(fv_kind kind);
const char *fv_kind_name(fv_kind kind);
/* Zero the per-kind totals (at the start of each test). */
void fv_reset_totals(void);

/* ---- power cuts ---- */

typedef struct fv_crash_stats {
    long kept, dropped, torn, reordered, deletes_undone;
} fv_crash_stats;

/* Start logging matching files (open them after this call: their content
 * on disk now counts as durable). */
void fv_crash_begin(void);
/* The Kth I/O point from now (1-based) and all later ones fail; 0: none. */
void fv_crash_cut_at(long k);
/* I/O points seen since the last fv_crash_cut_at() (or begin). */
long fv_crash_points(void);
/* Whether the power is off. */
int fv_crash_is_cut(void);
/* Rebuild every logged file from its synced image plus a random choice of
 * its unsynced operations (SEED picks them), write it to disk and stop
 * logging. Every file must be closed. */
void fv_crash_apply(uint64_t seed, fv_crash_stats *st);
/* Stop logging without a cut: the files stay as they are. */
void fv_crash_end(void);

#endif
