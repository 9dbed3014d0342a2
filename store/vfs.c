/*
 * vfs.c - the encrypting VFS shim beneath SQLite
 *
 * Registered over the default VFS as "wings". Every page of the database
 * file and every frame of its WAL is sealed with XChaCha20-Poly1305 under the
 * node's data key; nothing else is ever opened (rollback journals, temp files
 * and statement journals are refused: the store runs in WAL mode with
 * temp_store=MEMORY, so SQLite never needs them).
 *
 * Database file, page N (1-based), WG_PAGE_BYTES each:
 *
 *   [ ciphertext of plaintext[0 .. 4056) ][ nonce 24 ][ tag 16 ]
 *   AD = "wgdb" || dbid || N (u32 BE)
 *
 * SQLite keeps WG_RESERVE_BYTES (40) reserved at the end of every page, so
 * the plaintext's last 40 bytes are never used; we require them to be zero on
 * write and return zeros on read, which keeps SQLite's WAL checksums (taken
 * over the plaintext) valid.
 *
 * WAL file: SQLite's logical layout is a 32-byte header, then frames of a
 * 24-byte frame header and a page. Physically each is sealed whole, so frame
 * headers (page numbers, commit sizes, salts) are secret and authenticated
 * too:
 *
 *   physical 0      [ ct(32) ][ nonce 24 ][ tag 16 ]      the WAL header
 *   physical 72+i*F [ ct(24 + 4056) ][ nonce 24 ][ tag 16 ] frame i, F=4120
 *   AD = "wgwh" || dbid            for the header
 *   AD = "wgwf" || dbid || i       for frame i
 *
 * A logical offset L >= 32 lives at physical L + 40. SQLite writes a frame as
 * two calls (header, then page); the header is held back until its page
 * arrives.
 *
 * The frame cache. A checkpoint reads every page back from the WAL and writes
 * it to the database file; sealed naively, each page costs three AEAD passes
 * (seal into the WAL, open from it, seal again for the database). Instead,
 * each database (its registry entry, shared by the database and WAL file
 * objects) keeps the plaintext of its most recent WAL frames, slot i % 16384
 * for frame i (memory kept out of core dumps, wiped when freed; allocated
 * 128 slots at a time as frames reach them, and all but the first 2048
 * slots' given back when the WAL starts over):
 *
 *   page cycle:
 *     xWrite(frame i)   plaintext assembled in slot i (emptied first); a run
 *                       of frames is sealed by the writer and the sealer
 *                       thread together and written in one pwrite, no later
 *                       than the xWrite of the transaction's commit frame and
 *                       before any other use of the WAL; only after the
 *                       write succeeded does slot i hold frame i (a failed
 *                       write leaves it empty). The sealer then seals the
 *                       page in its database form (AD "wgdb"||dbid||P), off
 *                       the writer's path (mostly while it waits on fsync).
 *     xRead(frame i)    slot i holds it: served from memory, no AEAD;
 *                       else pread --open/fail--> plaintext (then cached).
 *     xWrite(db page P) the checkpoint writes the page it just read from
 *                       frame i: if slot i is page P with identical
 *                       plaintext (memcmp), its database form is written,
 *                       else the page is sealed now.
 *     xRead(db page P)  pread --open/fail--> plaintext, as always.
 *
 * Process memory is trusted, the files are not: anything not in the cache is
 * read from disk and authenticated. Nothing on disk changes: every page and
 * frame is sealed exactly as above, only fewer times. A new WAL header (the
 * WAL starts over), a truncation, and opening or closing the WAL empty the
 * cache; it is wiped when freed (WAL close, detach).
 *
 * An authentication failure returns SQLITE_IOERR_DATA and leaves a
 * thread-local description ("page 7 of the database failed authentication")
 * that store.c turns into the error message. Two reads are exempt, because
 * a power cut or a full disk leaves exactly these states and plain SQLite
 * recovers from them (tests/check_powercut.c): WAL recovery's scan of whole
 * frames, where a frame that fails in the last transaction (the only one a
 * power cut can tear) ends the log as a bad checksum would (vfs_read_wal,
 * wal_torn_tail), and the peek at page 1's header when the database is
 * opened, before the WAL (which may hold page 1 whole) is consulted
 * (vfs_read_db). Both get zeros; every page SQLite then uses is still
 * authenticated.
 */
#include "store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define PLAIN_BYTES (WG_PAGE_BYTES - WG_RESERVE_BYTES)      /* 4056 */
#define WAL_HDR 32
#define WAL_FHDR 24
#define WAL_FRAME (WAL_FHDR + WG_PAGE_BYTES)                /* 4120 */
#define SEAL (WG_AEAD_NONCE_BYTES + WG_AEAD_TAG_BYTES)      /* 40 */
#define WAL_PHDR (WAL_HDR + SEAL)                           /* 72 */

enum { KIND_DB = 1, KIND_WAL = 2 };

/* ---- key registry: which database path is sealed under which key ------ */

typedef struct wcache wcache;

typedef struct keyent {
    struct keyent *next;
    char *path;
    uint8_t *key;              /* WG_KEY_BYTES, secret memory */
    uint8_t dbid[WG_DBID_BYTES];
    int refs;
    wcache *wc;                /* recent WAL frames, made on first use */
} keyent;

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static keyent *registry;

static void wc_free(keyent *k);

wg_rc wg_vfs_attach(const char *dbpath, const uint8_t key[WG_KEY_BYTES],
                    const uint8_t dbid[WG_DBID_BYTES], wg_err *err)
{
    pthread_mutex_lock(&reg_lock);
    for (keyent *e = registry; e; e = e->next)
        if (!strcmp(e->path, dbpath)) {
            pthread_mutex_unlock(&reg_lock);
            return wg_err_set(err, WG_ERR_INTERNAL,
                              "store '%s' is already open in this process",
                              dbpath);
        }
    keyent *e = wg_xcalloc(1, sizeof *e);
    e->path = wg_xstrdup(dbpath);
    e->key = wg_secret_alloc(WG_KEY_BYTES);
    memcpy(e->key, key, WG_KEY_BYTES);
    memcpy(e->dbid, dbid, WG_DBID_BYTES);
    e->next = registry;
    registry = e;
    pthread_mutex_unlock(&reg_lock);
    return WG_OK;
}

void wg_vfs_detach(const char *dbpath)
{
    pthread_mutex_lock(&reg_lock);
    for (keyent **pp = &registry; *pp; pp = &(*pp)->next) {
        keyent *e = *pp;
        if (!strcmp(e->path, dbpath)) {
            *pp = e->next;
            wc_free(e);
            wg_secret_free(e->key);
            free(e->path);
            free(e);
            break;
        }
    }
    pthread_mutex_unlock(&reg_lock);
}

static keyent *lookup(const char *dbpath)
{
    keyent *found = NULL;
    pthread_mutex_lock(&reg_lock);
    for (keyent *e = registry; e; e = e->next)
        if (!strcmp(e->path, dbpath)) {
            found = e;
            break;
        }
    pthread_mutex_unlock(&reg_lock);
    return found;
}

wg_rc wg_vfs_attach_like(const char *dbpath, const char *newpath,
                         wg_err *err)
{
    uint8_t *key = wg_secret_alloc(WG_KEY_BYTES);
    uint8_t dbid[WG_DBID_BYTES];
    wg_rc rc = wg_vfs_key_copy(dbpath, key, dbid, err);
    if (rc == WG_OK)
        rc = wg_vfs_attach(newpath, key, dbid, err);
    wg_secret_free(key);
    return rc;
}

wg_rc wg_vfs_key_copy(const char *dbpath, uint8_t key[WG_KEY_BYTES],
                      uint8_t dbid[WG_DBID_BYTES], wg_err *err)
{
    wg_rc rc = WG_OK;
    pthread_mutex_lock(&reg_lock);
    keyent *e = registry;
    for (; e; e = e->next)
        if (!strcmp(e->path, dbpath))
            break;
    if (e) {
        memcpy(key, e->key, WG_KEY_BYTES);
        memcpy(dbid, e->dbid, WG_DBID_BYTES);
    } else {
        rc = wg_err_set(err, WG_ERR_INTERNAL, "no key attached for '%s'",
                        dbpath);
    }
    pthread_mutex_unlock(&reg_lock);
    return rc;
}

/* ---- failure reporting --------------------------------------------------- */

static _Thread_local char failure[160];

const char *wg_vfs_failure(void)
{
    return failure[0] ? failure : NULL;
}

void wg_vfs_clear_failure(void)
{
    failure[0] = 0;
}

#define FAIL(...) (snprintf(failure, sizeof failure, __VA_ARGS__), \
                   SQLITE_IOERR_DATA)

/* ---- sealing ------------------------------------------------------------- */

static void ad_db(uint8_t ad[24], const keyent *k, uint32_t pgno)
{
    memcpy(ad, "wgdb", 4);
    memcpy(ad + 4, k->dbid, WG_DBID_BYTES);
    wg_put_u32be(ad + 20, pgno);
}

static void ad_wal(uint8_t ad[24], const keyent *k, const char *tag, uint32_t i)
{
    memcpy(ad, tag, 4);
    memcpy(ad + 4, k->dbid, WG_DBID_BYTES);
    wg_put_u32be(ad + 20, i);
}

/* Seal N plaintext bytes of IN into OUT (N + SEAL bytes). */
static void seal(uint8_t *out, const uint8_t *in, size_t n, const uint8_t *ad,
                 const keyent *k)
{
    uint8_t *nonce = out + n;
    wg_nonce_next(nonce);
    wg_aead_seal(out, out + n + WG_AEAD_NONCE_BYTES, in, n, ad, 24, nonce,
                 k->key);
}

static wg_rc unseal(uint8_t *out, const uint8_t *in, size_t n,
                    const uint8_t *ad, const keyent *k)
{
    return wg_aead_open(out, in, n, in + n + WG_AEAD_NONCE_BYTES, ad, 24,
                        in + n, k->key);
}

/* Database page PGNO (PLAIN_BYTES of PAGE) in its on-disk form. */
static void seal_db(uint8_t out[WG_PAGE_BYTES], const uint8_t *page,
                    uint32_t pgno, const keyent *k)
{
    uint8_t ad[24];
    ad_db(ad, k, pgno);
    seal(out, page, PLAIN_BYTES, ad, k);
}

/* WAL frame I (header and page: WAL_FHDR + PLAIN_BYTES of PLAIN) in its
 * on-disk form, WAL_FRAME bytes. */
static void seal_frame(uint8_t out[WAL_FRAME], const uint8_t *plain,
                       uint32_t i, const keyent *k)
{
    uint8_t ad[24];
    ad_wal(ad, k, "wgwf", i);
    seal(out, plain, WAL_FHDR + PLAIN_BYTES, ad, k);
}

static int all_zero(const uint8_t *p, size_t n)
{
    uint8_t acc = 0;
    for (size_t i = 0; i < n; i++)
        acc |= p[i];
    return acc == 0;
}

/* ---- the frame cache ------------------------------------------------------
 *
 * Slot s = i % WC_FRAMES holds frame i: its plaintext (WAL_FRAME bytes:
 * header, page, zero reserve) and, once sealed, the page's database form.
 *
 * Slot states: EMPTY -> PLAIN (frame i is on disk and held here) -> SEALING
 * (one thread is sealing the database form; the plaintext is frozen) ->
 * SEALED. Only the writer (the thread SQLite calls us on; one at a time per
 * database) sets frame, pgno and the plaintext, and only while the slot is
 * EMPTY; PLAIN -> SEALING is a compare-and-swap, so the writer and the
 * sealer never seal the same slot, and the writer waits out a SEALING slot
 * before emptying it.
 *
 * The sealer thread (one per cache) does two jobs, in this order: seal the
 * frames of the run the writer is assembling (a sealjob: frames become
 * available one by one as SQLite hands them over; both threads take them
 * from one atomic counter, the writer only when the sealer falls behind or
 * the run ends), and seal queued PLAIN slots in database form. If it cannot
 * be started, the writer does all of it.
 */

#define WC_FRAMES 16384 /* slots: 64 MiB of plaintext + 64 MiB sealed, when
                           full (an import of 100,000 persons is about 15,000
                           frames); > wal_autocheckpoint + one sync batch */
#define WC_CHUNK 128   /* slots allocated together, on first use */
#define WC_KEEP 16     /* chunks (2048 frames, 16 MiB) kept when the WAL
                          starts over; a larger transaction's are given back */
#define WC_CHUNKS (WC_FRAMES / WC_CHUNK)
#define WC_RUN 512     /* most frames assembled before they are written */
#define WC_BACKLOG 16  /* unsealed frames the writer leaves to the sealer */
#define WRITE_FRAMES 31 /* frames per write call: 31 * 4120 < 0x1ffff */

enum { WS_EMPTY = 0, WS_PLAIN, WS_SEALING, WS_SEALED };

typedef struct wslot {
    uint32_t frame;  /* 1 + the frame index held; 0 unless PLAIN/SEALED */
    uint32_t pgno;   /* from the frame header */
    atomic_int state;
} wslot;

/* A run of frames FIRST, FIRST+1, ... assembled in their (EMPTY) slots, to
 * be sealed into OUT: frame FIRST+j at OUT + j * WAL_FRAME. */
typedef struct sealjob {
    uint32_t first;
    uint8_t *out;
    atomic_uint avail; /* frames assembled so far */
    atomic_uint next;  /* the next frame to take */
    atomic_uint done;  /* frames sealed */
} sealjob;

struct wcache {
    keyent *k;
    unsigned fork_gen;       /* made in this process, not inherited */
    uint32_t last_read;      /* 1 + the frame last served to xRead */
    uint8_t *plain_arena;        /* WC_CHUNKS * PLAIN_CHUNK, reserved */
    uint8_t *sealed_arena;       /* WC_CHUNKS * SEALED_CHUNK, reserved */
    uint8_t *plain[WC_CHUNKS];   /* chunk i of plain_arena once taken */
    uint8_t *sealed[WC_CHUNKS];  /* chunk i of sealed_arena once taken */
    pthread_mutex_t lock;        /* guards what follows, and transitions */
    pthread_cond_t work;     /* to the sealer: a job, a queued slot, stop */
    pthread_cond_t done;     /* to the writer: a seal finished */
    int waiting, stop, started;
    atomic_int sleeping;     /* the sealer waits on `work` */
    sealjob *job;            /* the writer's current run, if shared */
    int in_job;              /* the sealer is sealing frames of it */
    pthread_t thread;
    unsigned qhead, qlen;
    uint32_t queue[WC_FRAMES];   /* slots whose database form is wanted */
    wslot slot[WC_FRAMES];
};

/* Bumped in a forked child: the parent's sealer does not exist there, so an
 * inherited cache is dropped unused. */
static atomic_uint fork_gen;

static void on_fork_child(void)
{
    atomic_fetch_add(&fork_gen, 1);
}

/* Cached plaintext lives in a mapping of its own, kept out of core dumps
 * and wiped before release. Not locked: up to 64 MiB would exhaust
 * RLIMIT_MEMLOCK, which the keys need (SQLite's page cache, holding the same
 * pages, is not locked either). The sealed forms (ciphertext) have a second
 * mapping. Each is reserved whole when the cache is made (address space
 * only) and filled a chunk at a time from the chunk's first use on:
 *
 *   MADV_HUGEPAGE        where the kernel offers transparent huge pages, a
 *                        chunk costs a fault per 2 MiB rather than one per
 *                        4 KiB page: under a hypervisor that traps page-table
 *                        updates, most of what an import's commit cost;
 *   MADV_POPULATE_WRITE  a chunk's first use fills it in one call (kernels
 *                        without it fault page by page);
 *   MADV_DONTNEED        a chunk given back (wc_clear) is wiped, then
 *                        returned to the kernel; the reservation stays.
 */
#define PLAIN_CHUNK ((size_t)WC_CHUNK * WAL_FRAME)
#define SEALED_CHUNK ((size_t)WC_CHUNK * WG_PAGE_BYTES)

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23   /* Linux 5.14 */
#endif

#define PAGE_DOWN(x) ((uintptr_t)(x) & ~(uintptr_t)4095)
#define PAGE_UP(x) (((uintptr_t)(x) + 4095) & ~(uintptr_t)4095)

/* A plain chunk (WC_CHUNK frames of 4120 bytes) starts and ends inside a
 * page: populating takes in the pages it touches (a neighbour's share
 * early, harmless), giving back only the pages wholly inside it. */
static uint8_t *chunk_take(uint8_t *arena, size_t size, int i)
{
    uint8_t *p = arena + (size_t)i * size;
    madvise((void *)PAGE_DOWN(p), PAGE_UP(p + size) - PAGE_DOWN(p),
            MADV_POPULATE_WRITE);   /* a hint: may be refused */
    return p;
}

static void chunk_give_back(uint8_t *p, size_t size, int plain)
{
    if (!p)
        return;
    if (plain)
        wg_wipe(p, size);
    if (PAGE_DOWN(p + size) > PAGE_UP(p))
        madvise((void *)PAGE_UP(p), PAGE_DOWN(p + size) - PAGE_UP(p),
                MADV_DONTNEED);
}

static uint8_t *wc_plain(wcache *c, uint32_t s)
{
    return c->plain[s / WC_CHUNK] + (size_t)(s % WC_CHUNK) * WAL_FRAME;
}

static uint8_t *wc_sealed(wcache *c, uint32_t s)
{
    return c->sealed[s / WC_CHUNK] + (size_t)(s % WC_CHUNK) * WG_PAGE_BYTES;
}

/* Take the oldest unsealed frame of JB and seal it; 0 if none is left. */
static int job_one(wcache *c, sealjob *jb)
{
    unsigned j = atomic_load(&jb->next);
    do {
        if (j >= atomic_load(&jb->avail))
            return 0;
    } while (!atomic_compare_exchange_weak(&jb->next, &j, j + 1));
    uint32_t i = jb->first + j;
    seal_frame(jb->out + (size_t)j * WAL_FRAME, wc_plain(c, i % WC_FRAMES),
               i, c->k);
    atomic_fetch_add(&jb->done, 1);
    return 1;
}

static int job_ready(sealjob *jb)
{
    return jb && atomic_load(&jb->next) < atomic_load(&jb->avail);
}

static void *sealer_main(void *arg)
{
    wcache *c = arg;
    pthread_mutex_lock(&c->lock);
    while (!c->stop) {
        sealjob *jb = c->job;
        if (job_ready(jb)) {
            c->in_job = 1;
            pthread_mutex_unlock(&c->lock);
            while (job_one(c, jb))
                ;
            pthread_mutex_lock(&c->lock);
            c->in_job = 0;
            if (c->waiting)
                pthread_cond_broadcast(&c->done);
            continue;
        }
        if (c->qlen == 0) {
            /* Announce sleep, then look once more: the writer makes a frame
             * available, then looks at `sleeping` (both seq_cst), so one of
             * us sees the other. */
            atomic_store(&c->sleeping, 1);
            if (!job_ready(c->job))
                pthread_cond_wait(&c->work, &c->lock);
            atomic_store(&c->sleeping, 0);
            continue;
        }
        uint32_t s = c->queue[c->qhead];
        c->qhead = (c->qhead + 1) % WC_FRAMES;
        c->qlen--;
        int want = WS_PLAIN;
        if (!atomic_compare_exchange_strong(&c->slot[s].state, &want,
                                            WS_SEALING))
            continue; /* emptied, or already sealed by the writer */
        uint32_t pgno = c->slot[s].pgno;
        pthread_mutex_unlock(&c->lock);
        seal_db(wc_sealed(c, s), wc_plain(c, s) + WAL_FHDR, pgno, c->k);
        pthread_mutex_lock(&c->lock);
        atomic_store(&c->slot[s].state, WS_SEALED);
        if (c->waiting)
            pthread_cond_broadcast(&c->done);
    }
    pthread_mutex_unlock(&c->lock);
    return NULL;
}

/* Drop K's cache: stop its sealer (unless the cache was inherited across
 * fork: no sealer runs then, and its lock may be in any state), and wipe
 * the plaintext. */
static void wc_free(keyent *k)
{
    wcache *c = k->wc;
    if (!c)
        return;
    k->wc = NULL;
    if (c->fork_gen == atomic_load(&fork_gen)) {
        if (c->started) {
            pthread_mutex_lock(&c->lock);
            c->stop = 1;
            pthread_cond_signal(&c->work);
            pthread_mutex_unlock(&c->lock);
            pthread_join(c->thread, NULL);
        }
        pthread_cond_destroy(&c->work);
        pthread_cond_destroy(&c->done);
        pthread_mutex_destroy(&c->lock);
    }
    for (int i = 0; i < WC_CHUNKS; i++)
        if (c->plain[i])
            wg_wipe(c->plain[i], PLAIN_CHUNK);
    wg_huge_free(c->plain_arena, WC_CHUNKS * PLAIN_CHUNK);
    wg_huge_free(c->sealed_arena, WC_CHUNKS * SEALED_CHUNK);
    free(c);
}

/* K's cache, if it has one made in this process. */
static wcache *wc_live(keyent *k)
{
    wcache *c = k->wc;
    if (c && c->fork_gen != atomic_load(&fork_gen)) {
        wc_free(k);
        c = NULL;
    }
    return c;
}

static wcache *wc_get(keyent *k)
{
    wcache *c = wc_live(k);
    if (c)
        return c;
    c = wg_xcalloc(1, sizeof *c);
    c->k = k;
    c->plain_arena = wg_huge_alloc(WC_CHUNKS * PLAIN_CHUNK, 1);
    c->sealed_arena = wg_huge_alloc(WC_CHUNKS * SEALED_CHUNK, 0);
    c->fork_gen = atomic_load(&fork_gen);
    pthread_mutex_init(&c->lock, NULL);
    pthread_cond_init(&c->work, NULL);
    pthread_cond_init(&c->done, NULL);
    /* The sealer takes no signals: they stay with the application's
     * threads. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    c->started = pthread_create(&c->thread, NULL, sealer_main, c) == 0;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    k->wc = c;
    return c;
}

/* Wait until slot S is not SEALING. With c->lock held. */
static void wc_wait_slot(wcache *c, uint32_t s)
{
    c->waiting++;
    while (atomic_load(&c->slot[s].state) == WS_SEALING)
        pthread_cond_wait(&c->done, &c->lock);
    c->waiting--;
}

/* Empty the slot of frame I and return its plaintext buffer for the writer
 * to fill; the slot holds nothing until wc_publish(). */
static uint8_t *wc_begin(wcache *c, uint32_t i)
{
    uint32_t s = i % WC_FRAMES;
    int ch = (int)(s / WC_CHUNK);
    if (!c->plain[ch]) {
        c->plain[ch] = chunk_take(c->plain_arena, PLAIN_CHUNK, ch);
        c->sealed[ch] = chunk_take(c->sealed_arena, SEALED_CHUNK, ch);
    }
    wslot *w = &c->slot[s];
    if (atomic_load(&w->state) != WS_EMPTY) {
        pthread_mutex_lock(&c->lock);
        wc_wait_slot(c, s);
        w->frame = 0;
        atomic_store(&w->state, WS_EMPTY);
        pthread_mutex_unlock(&c->lock);
    }
    return wc_plain(c, s);
}

/* Frames FIRST .. FIRST+N-1, filled in by the writer, are now what the file
 * holds. SEAL_AHEAD: queue their database forms for the sealer. */
static void wc_publish(wcache *c, uint32_t first, uint32_t n, int seal_ahead)
{
    pthread_mutex_lock(&c->lock);
    for (uint32_t i = first; i < first + n; i++) {
        uint32_t s = i % WC_FRAMES;
        wslot *w = &c->slot[s];
        w->frame = i + 1;
        w->pgno = wg_get_u32be(wc_plain(c, s));
        atomic_store(&w->state, WS_PLAIN);
        if (seal_ahead && c->started && c->qlen < WC_FRAMES) {
            c->queue[(c->qhead + c->qlen) % WC_FRAMES] = s;
            c->qlen++;
        }
    }
    if (atomic_load(&c->sleeping) && c->qlen)
        pthread_cond_signal(&c->work);
    pthread_mutex_unlock(&c->lock);
}

/* A run starts: offer its frames to the sealer as they come. */
static void wc_job_start(wcache *c, sealjob *jb, uint32_t first,
                         uint8_t *out)
{
    jb->first = first;
    jb->out = out;
    atomic_store(&jb->avail, 0);
    atomic_store(&jb->next, 0);
    atomic_store(&jb->done, 0);
    if (c->started) {
        pthread_mutex_lock(&c->lock);
        c->job = jb;
        pthread_mutex_unlock(&c->lock);
    }
}

/* The writer assembled frame number N-1 of the run: make it available, and
 * seal the oldest ones itself if the sealer falls behind (or is absent). */
static void wc_job_add(wcache *c, sealjob *jb, unsigned n)
{
    atomic_store(&jb->avail, n);
    if (c->started && atomic_load(&c->sleeping)) {
        pthread_mutex_lock(&c->lock);
        pthread_cond_signal(&c->work);
        pthread_mutex_unlock(&c->lock);
    }
    unsigned backlog = c->started ? WC_BACKLOG : 0;
    while (n - atomic_load(&jb->next) > backlog && job_one(c, jb))
        ;
}

/* The run ends: seal what is left (with the sealer's help), wait for every
 * frame, and take the job back from the sealer. */
static void wc_job_finish(wcache *c, sealjob *jb)
{
    while (job_one(c, jb))
        ;
    if (!c->started)
        return;
    /* Only frames the sealer took are left: a few microseconds each. */
    for (unsigned spin = 0;
         atomic_load(&jb->done) < atomic_load(&jb->avail); spin++)
        if (spin > 64)
            sched_yield();
    pthread_mutex_lock(&c->lock);
    c->job = NULL;
    c->waiting++;
    while (c->in_job)
        pthread_cond_wait(&c->done, &c->lock);
    c->waiting--;
    pthread_mutex_unlock(&c->lock);
}

/* Forget every frame (the WAL starts over, shrinks, opens or closes). The
 * memory stays for reuse and is wiped when the cache is freed. */
static void wc_clear(keyent *k)
{
    wcache *c = wc_live(k);
    if (!c)
        return;
    pthread_mutex_lock(&c->lock);
    c->qhead = c->qlen = 0;
    for (uint32_t s = 0; s < WC_FRAMES; s++) {
        if (atomic_load(&c->slot[s].state) == WS_EMPTY)
            continue;
        wc_wait_slot(c, s);
        c->slot[s].frame = 0;
        atomic_store(&c->slot[s].state, WS_EMPTY);
    }
    c->last_read = 0;
    /* Every slot is empty and nothing is queued: the memory past WC_KEEP
     * chunks, which only a large transaction used, goes back now rather
     * than when the database closes (a daemon runs for months). */
    if (!c->job && !c->in_job)
        for (int i = WC_KEEP; i < WC_CHUNKS; i++) {
            chunk_give_back(c->plain[i], PLAIN_CHUNK, 1);
            c->plain[i] = NULL;
            chunk_give_back(c->sealed[i], SEALED_CHUNK, 0);
            c->sealed[i] = NULL;
        }
    pthread_mutex_unlock(&c->lock);
}

/* The plaintext of frame I (WAL_FRAME bytes) if cached, else NULL. */
static const uint8_t *wc_frame(keyent *k, uint32_t i)
{
    wcache *c = wc_live(k);
    if (!c || c->slot[i % WC_FRAMES].frame != i + 1)
        return NULL;
    c->last_read = i + 1;
    return wc_plain(c, i % WC_FRAMES);
}

/* Frame I was just read from disk and authenticated: keep it. */
static void wc_fill(keyent *k, uint32_t i, const uint8_t plain[WAL_FRAME])
{
    wcache *c = wc_get(k);
    memcpy(wc_begin(c, i), plain, WAL_FRAME);
    wc_publish(c, i, 1, 0);
    c->last_read = i + 1;
}

/* SQLite is writing PAGE to database page PGNO. A checkpoint does so right
 * after reading the page from its WAL frame: if that frame is cached as page
 * PGNO with the very same plaintext, return its database form (sealing it
 * now if the sealer has not), else NULL. */
static const uint8_t *wc_db_form(keyent *k, uint32_t pgno,
                                 const uint8_t *page)
{
    wcache *c = wc_live(k);
    if (!c || !c->last_read)
        return NULL;
    uint32_t s = (c->last_read - 1) % WC_FRAMES;
    wslot *w = &c->slot[s];
    if (w->frame != c->last_read || w->pgno != pgno)
        return NULL;
    const uint8_t *plain = wc_plain(c, s) + WAL_FHDR;
    if (memcmp(plain, page, PLAIN_BYTES) != 0)
        return NULL;
    int want = WS_PLAIN;
    if (atomic_compare_exchange_strong(&w->state, &want, WS_SEALING)) {
        seal_db(wc_sealed(c, s), plain, pgno, k);
        atomic_store(&w->state, WS_SEALED);
    } else if (want == WS_SEALING) {
        pthread_mutex_lock(&c->lock);
        wc_wait_slot(c, s);
        pthread_mutex_unlock(&c->lock);
    }
    return atomic_load(&w->state) == WS_SEALED ? wc_sealed(c, s) : NULL;
}

/* ---- the file object --------------------------------------------------- */

typedef struct vfile {
    sqlite3_file base;
    sqlite3_file *real;      /* the default VFS's file, allocated after us */
    int kind;
    keyent *k;
    uint8_t buf[WAL_FRAME];  /* one sealed unit */
    uint8_t plain[WAL_FRAME];
    int held;                /* a WAL frame header waits for its page */
    sqlite3_int64 held_off;  /* logical offset of that header */
    uint8_t held_hdr[WAL_FHDR];
    uint32_t run_first;      /* WAL frames assembled in the cache, */
    uint32_t run_n;          /* not yet written */
    uint8_t *run_out;        /* their sealed forms, WC_RUN frames */
    sealjob job;             /* their sealing */
} vfile;

static sqlite3_vfs *base_vfs;

static int real_read_full(vfile *f, void *p, int n, sqlite3_int64 off,
                          int *got)
{
    int rc = f->real->pMethods->xRead(f->real, p, n, off);
    if (rc == SQLITE_OK) {
        *got = n;
    } else if (rc == SQLITE_IOERR_SHORT_READ) {
        /* The default VFS zero-fills the tail; find how much was real. */
        sqlite3_int64 size = 0;
        if (f->real->pMethods->xFileSize(f->real, &size) != SQLITE_OK)
            return SQLITE_IOERR_READ;
        *got = size <= off ? 0 : (int)(size - off < n ? size - off : n);
        rc = SQLITE_OK;
    }
    return rc;
}

/* Read and open database page PGNO into OUT (WG_PAGE_BYTES).
 * Returns SQLITE_OK, SQLITE_IOERR_SHORT_READ (page beyond the end: zeros),
 * or an error. */
static int load_db_page(vfile *f, uint32_t pgno, uint8_t *out)
{
    int got = 0;
    sqlite3_int64 off = (sqlite3_int64)(pgno - 1) * WG_PAGE_BYTES;
    int rc = real_read_full(f, f->buf, WG_PAGE_BYTES, off, &got);
    if (rc != SQLITE_OK)
        return rc;
    if (got == 0) {
        memset(out, 0, WG_PAGE_BYTES);
        return SQLITE_IOERR_SHORT_READ;
    }
    if (got < WG_PAGE_BYTES)
        return FAIL("page %u of the database is truncated", (unsigned)pgno);
    uint8_t ad[24];
    ad_db(ad, f->k, pgno);
    if (unseal(out, f->buf, PLAIN_BYTES, ad, f->k) != WG_OK)
        return FAIL("page %u of the database failed authentication",
                    (unsigned)pgno);
    memset(out + PLAIN_BYTES, 0, WG_RESERVE_BYTES);
    return SQLITE_OK;
}

static int vfs_read_db(vfile *f, uint8_t *out, int amt, sqlite3_int64 off)
{
    int short_read = 0;
    while (amt > 0) {
        uint32_t pgno = (uint32_t)(off / WG_PAGE_BYTES) + 1;
        int in = (int)(off % WG_PAGE_BYTES);
        int n = WG_PAGE_BYTES - in < amt ? WG_PAGE_BYTES - in : amt;
        /* A whole page (SQLite's only read) opens straight into OUT. */
        int whole = n == WG_PAGE_BYTES;
        int rc = load_db_page(f, pgno, whole ? out : f->plain);
        /* Less than a page of page 1 is SQLite peeking at the file header
         * when it opens the database (sqlite3BtreeOpen), before it looks
         * at the WAL. A checkpoint cut short (a power cut, a full disk)
         * can leave page 1 torn while the WAL still holds it whole, and
         * plain SQLite opens such a database: for a header it cannot use
         * it takes defaults until it reads page 1 whole. Do the same with
         * zeros; the whole-page read that follows (from the WAL, or else
         * from this file) is authenticated as always. */
        if (rc == SQLITE_IOERR_DATA && !whole && pgno == 1) {
            wg_vfs_clear_failure();
            memset(f->plain, 0, WG_PAGE_BYTES);
            rc = SQLITE_OK;
        }
        if (rc == SQLITE_IOERR_SHORT_READ)
            short_read = 1;
        else if (rc != SQLITE_OK)
            return rc;
        if (!whole)
            memcpy(out, f->plain + in, (size_t)n);
        out += n;
        off += n;
        amt -= n;
    }
    return short_read ? SQLITE_IOERR_SHORT_READ : SQLITE_OK;
}

static int vfs_write_db(vfile *f, const uint8_t *in, int amt,
                        sqlite3_int64 off)
{
    if (amt != WG_PAGE_BYTES || off % WG_PAGE_BYTES != 0)
        return SQLITE_IOERR_WRITE; /* the page size is fixed at 4096 */
    if (!all_zero(in + PLAIN_BYTES, WG_RESERVE_BYTES))
        return SQLITE_IOERR_WRITE; /* reserved bytes must stay unused */
    uint32_t pgno = (uint32_t)(off / WG_PAGE_BYTES) + 1;
    const uint8_t *sealed = wc_db_form(f->k, pgno, in);
    if (!sealed) {
        seal_db(f->buf, in, pgno, f->k);
        sealed = f->buf;
    }
    return f->real->pMethods->xWrite(f->real, sealed, WG_PAGE_BYTES, off);
}

/* WAL frame I (0-based), WAL_FRAME logical bytes, into *OUT: from the
 * cache, or read and opened into f->plain (and then cached). The caller has
 * written out any pending run. */
static int load_wal_frame(vfile *f, uint32_t i, const uint8_t **out)
{
    *out = wc_frame(f->k, i);
    if (*out)
        return SQLITE_OK;
    *out = f->plain;
    int got = 0;
    sqlite3_int64 phys = WAL_PHDR + (sqlite3_int64)i * WAL_FRAME;
    int rc = real_read_full(f, f->buf, WAL_FRAME, phys, &got);
    if (rc != SQLITE_OK)
        return rc;
    if (got < WAL_FRAME) {
        /* SQLite only reads whole frames below the file size it was told;
         * a partial frame is an append that never finished. */
        memset(f->plain, 0, WAL_FRAME);
        return SQLITE_IOERR_SHORT_READ;
    }
    uint8_t ad[24];
    ad_wal(ad, f->k, "wgwf", i);
    if (unseal(f->plain, f->buf, WAL_FHDR + PLAIN_BYTES, ad, f->k) != WG_OK)
        return FAIL("frame %lu of the WAL failed authentication",
                    (unsigned long)i + 1);
    memset(f->plain + WAL_FHDR + PLAIN_BYTES, 0, WG_RESERVE_BYTES);
    wc_fill(f->k, i, f->plain);
    return SQLITE_OK;
}

static int load_wal_header(vfile *f, uint8_t out[WAL_HDR])
{
    int got = 0;
    int rc = real_read_full(f, f->buf, WAL_PHDR, 0, &got);
    if (rc != SQLITE_OK)
        return rc;
    if (got < WAL_PHDR) {
        memset(out, 0, WAL_HDR);
        return SQLITE_IOERR_SHORT_READ;
    }
    uint8_t ad[24];
    ad_wal(ad, f->k, "wgwh", 0);
    if (unseal(out, f->buf, WAL_HDR, ad, f->k) != WG_OK)
        return FAIL("the WAL header failed authentication");
    return SQLITE_OK;
}

/* SQLite's WAL checksum over N bytes of P (N a multiple of 8), words in
 * big-endian order when BIG, little-endian else, continuing S. */
static void wal_cksum(const uint8_t *p, size_t n, int big, uint32_t s[2])
{
    for (size_t k = 0; k < n; k += 8) {
        uint32_t a = big ? wg_get_u32be(p + k)
                         : (uint32_t)p[k] | (uint32_t)p[k + 1] << 8 |
                               (uint32_t)p[k + 2] << 16 |
                               (uint32_t)p[k + 3] << 24;
        uint32_t b = big ? wg_get_u32be(p + k + 4)
                         : (uint32_t)p[k + 4] | (uint32_t)p[k + 5] << 8 |
                               (uint32_t)p[k + 6] << 16 |
                               (uint32_t)p[k + 7] << 24;
        s[0] += a + s[1];
        s[1] += b + s[0];
    }
}

/* Does frame NEXT continue the checksum chain of frame PREV (plaintexts,
 * WAL_FRAME bytes each, reserve zeroed)? */
static int wal_chains(const uint8_t *prev, const uint8_t *next, int big)
{
    uint32_t s[2] = { wg_get_u32be(prev + 16), wg_get_u32be(prev + 20) };
    wal_cksum(next, 8, big, s);
    wal_cksum(next + WAL_FHDR, WG_PAGE_BYTES, big, s);
    return s[0] == wg_get_u32be(next + 16) && s[1] == wg_get_u32be(next + 20);
}

/* Frame I of the WAL failed authentication while SQLite's recovery looked
 * for the end of the log: is that what a power cut leaves? With
 * synchronous=FULL every transaction's frames are synced before the next
 * transaction writes any, so only the last transaction in the file can be
 * torn, have holes, or have reached the disk out of order. Frame I is in an
 * earlier, hence durable, transaction (an alteration, not a power cut) when
 * the first commit frame after it (of this WAL's generation: salts as in
 * the header) is followed by a frame that continues its checksum chain: a
 * later transaction, written after that commit was synced. 1: a torn tail;
 * 0: not; an SQLite error code when the file cannot be read. */
static int wal_torn_tail(vfile *f, uint32_t i)
{
    uint8_t hdr[WAL_HDR];
    int rc = load_wal_header(f, hdr);
    if (rc != SQLITE_OK)
        return rc == SQLITE_IOERR_SHORT_READ ? 1 : rc;
    int big = (int)(wg_get_u32be(hdr) & 1);
    sqlite3_int64 size = 0;
    if (f->real->pMethods->xFileSize(f->real, &size) != SQLITE_OK)
        return SQLITE_IOERR_READ;
    uint8_t *sealed = wg_xmalloc(WAL_FRAME);
    uint8_t *plain = wg_secret_alloc(WAL_FRAME);
    uint8_t *commit = wg_secret_alloc(WAL_FRAME);
    int have_commit = 0, torn = 1;
    for (uint32_t j = i + 1;
         WAL_PHDR + ((sqlite3_int64)j + 1) * WAL_FRAME <= size; j++) {
        uint8_t ad[24];
        ad_wal(ad, f->k, "wgwf", j);
        rc = f->real->pMethods->xRead(f->real, sealed, WAL_FRAME,
                                      WAL_PHDR + (sqlite3_int64)j * WAL_FRAME);
        if (rc != SQLITE_OK) {
            if (rc == SQLITE_IOERR_SHORT_READ)
                rc = SQLITE_OK;
            break;
        }
        int ok = unseal(plain, sealed, WAL_FHDR + PLAIN_BYTES, ad, f->k) ==
                     WG_OK && memcmp(plain + 8, hdr + 16, 8) == 0;
        if (ok)
            memset(plain + WAL_FHDR + PLAIN_BYTES, 0, WG_RESERVE_BYTES);
        if (have_commit) {
            torn = !(ok && wal_chains(commit, plain, big));
            break;
        }
        if (ok && wg_get_u32be(plain + 4) != 0) {
            memcpy(commit, plain, WAL_FRAME);
            have_commit = 1;
        }
    }
    free(sealed);
    wg_secret_free(plain);
    wg_secret_free(commit);
    return rc != SQLITE_OK ? rc : torn;
}

static int vfs_read_wal(vfile *f, uint8_t *out, int amt, sqlite3_int64 off)
{
    int short_read = 0;
    while (amt > 0) {
        int rc, in, n;
        const uint8_t *src;
        uint8_t hdr[WAL_HDR];
        if (off < WAL_HDR) {
            rc = load_wal_header(f, hdr);
            in = (int)off;
            n = WAL_HDR - in;
            src = hdr;
        } else {
            uint32_t i = (uint32_t)((off - WAL_HDR) / WAL_FRAME);
            rc = load_wal_frame(f, i, &src);
            in = (int)((off - WAL_HDR) % WAL_FRAME);
            n = WAL_FRAME - in;
            /* A whole frame, header first, is read only by SQLite's WAL
             * recovery (pages are read at offset 24 of their frame), which
             * looks for the end of the log. A frame that fails to open
             * there may be what a power cut leaves of the last append,
             * which never finished (torn, or a hole where a later write
             * landed first); plain SQLite ends the log at such a frame by
             * its checksum. If wal_torn_tail() says it can be that, hand
             * back zeros (salts that match nothing) so SQLite does the
             * same, rather than refusing to open the node; a frame inside
             * the durable part of the log is still an alteration. */
            if (rc == SQLITE_IOERR_DATA && in == 0 && amt >= WAL_FRAME) {
                char why[sizeof failure];
                snprintf(why, sizeof why, "%s", failure);
                int torn = wal_torn_tail(f, i);
                if (torn == 1) {
                    wg_vfs_clear_failure();
                    memset(f->plain, 0, WAL_FRAME);
                    src = f->plain;
                    rc = SQLITE_OK;
                } else {
                    snprintf(failure, sizeof failure, "%s", why);
                    if (torn != 0)
                        rc = torn;
                }
            }
        }
        if (rc == SQLITE_IOERR_SHORT_READ)
            short_read = 1;
        else if (rc != SQLITE_OK)
            return rc;
        if (n > amt)
            n = amt;
        memcpy(out, src + in, (size_t)n);
        out += n;
        off += n;
        amt -= n;
    }
    return short_read ? SQLITE_IOERR_SHORT_READ : SQLITE_OK;
}

/* Finish sealing the pending run and write it. Only then do its frames
 * count as cached; if the write fails they stay out of the cache. */
static int flush_run(vfile *f)
{
    if (!f->run_n)
        return SQLITE_OK;
    uint32_t first = f->run_first, n = f->run_n;
    f->run_n = 0;
    wcache *c = wc_live(f->k);
    if (!c)
        return SQLITE_IOERR_WRITE; /* lost across fork */
    wc_job_finish(c, &f->job);
    /* The default VFS takes at most 0x1ffff bytes per write call. */
    int rc = SQLITE_OK;
    for (uint32_t j = 0; j < n && rc == SQLITE_OK; j += WRITE_FRAMES) {
        uint32_t m = n - j < WRITE_FRAMES ? n - j : WRITE_FRAMES;
        rc = f->real->pMethods->xWrite(
            f->real, f->run_out + (size_t)j * WAL_FRAME, (int)(m * WAL_FRAME),
            WAL_PHDR + (sqlite3_int64)(first + j) * WAL_FRAME);
    }
    if (rc == SQLITE_OK)
        wc_publish(c, first, n, 1);
    return rc;
}

/* Frame I (HDR, then the page) as SQLite wrote it. It joins the pending run
 * of frames, assembled in their cache slots; the run is sealed and written
 * at its end: the transaction's commit frame (so a commit's frames are all
 * in the file before its xWrite returns), a full run, a frame out of
 * sequence, or any other use of the WAL (wal_settle). HDR and PAGE never
 * point into the cache. */
static int put_wal_frame(vfile *f, const uint8_t hdr[WAL_FHDR],
                         const uint8_t *page, uint32_t i)
{
    if (!all_zero(page + PLAIN_BYTES, WG_RESERVE_BYTES))
        return SQLITE_IOERR_WRITE;
    if (f->run_n && i != f->run_first + f->run_n) {
        int rc = flush_run(f);
        if (rc != SQLITE_OK)
            return rc;
    }
    if (f->run_n && !wc_live(f->k)) {
        f->run_n = 0; /* its cache was lost across fork */
        return SQLITE_IOERR_WRITE;
    }
    wcache *c = wc_get(f->k);
    uint8_t *plain = wc_begin(c, i);
    memcpy(plain, hdr, WAL_FHDR);
    memcpy(plain + WAL_FHDR, page, PLAIN_BYTES);
    if (!f->run_n) {
        if (!f->run_out)
            f->run_out = wg_xmalloc((size_t)WC_RUN * WAL_FRAME);
        f->run_first = i;
        wc_job_start(c, &f->job, i, f->run_out);
    }
    wc_job_add(c, &f->job, ++f->run_n);
    if (wg_get_u32be(hdr + 4) != 0 || f->run_n == WC_RUN)
        return flush_run(f);
    return SQLITE_OK;
}

/* A header waiting for its page is written only with it; if anything else
 * happens to the file first, fetch the page already on disk (SQLite never
 * does this, but correctness must not rest on call order). */
static int flush_held(vfile *f)
{
    if (!f->held)
        return SQLITE_OK;
    f->held = 0;
    int rc = flush_run(f);
    if (rc != SQLITE_OK)
        return rc;
    uint8_t page[WG_PAGE_BYTES];
    memset(page, 0, sizeof page);
    uint32_t i = (uint32_t)((f->held_off - WAL_HDR) / WAL_FRAME);
    const uint8_t *old;
    rc = load_wal_frame(f, i, &old);
    if (rc == SQLITE_OK)
        memcpy(page, old + WAL_FHDR, WG_PAGE_BYTES);
    else if (rc != SQLITE_IOERR_SHORT_READ)
        return rc;
    rc = put_wal_frame(f, f->held_hdr, page, i);
    wg_wipe(page, sizeof page);
    return rc;
}

/* Before any use of the WAL but appending frames: everything SQLite wrote
 * is in the file. */
static int wal_settle(vfile *f)
{
    int rc = flush_held(f);
    if (rc == SQLITE_OK)
        rc = flush_run(f);
    return rc;
}

static int vfs_write_wal(vfile *f, const uint8_t *in, int amt,
                         sqlite3_int64 off)
{
    if (off == 0 && amt == WAL_HDR) {
        int rc = wal_settle(f);
        if (rc != SQLITE_OK)
            return rc;
        /* A new header starts the WAL over: no cached frame is current. */
        wc_clear(f->k);
        uint8_t ad[24];
        ad_wal(ad, f->k, "wgwh", 0);
        seal(f->buf, in, WAL_HDR, ad, f->k);
        return f->real->pMethods->xWrite(f->real, f->buf, WAL_PHDR, 0);
    }
    if (off < WAL_HDR)
        return SQLITE_IOERR_WRITE;
    sqlite3_int64 in_frame = (off - WAL_HDR) % WAL_FRAME;
    uint32_t i = (uint32_t)((off - WAL_HDR) / WAL_FRAME);
    if (in_frame == 0 && amt == WAL_FHDR) {
        int rc = flush_held(f);
        if (rc != SQLITE_OK)
            return rc;
        memcpy(f->held_hdr, in, WAL_FHDR);
        f->held_off = off;
        f->held = 1;
        return SQLITE_OK;
    }
    if (in_frame == WAL_FHDR && amt == WG_PAGE_BYTES) {
        sqlite3_int64 hoff = off - WAL_FHDR;
        if (f->held && f->held_off == hoff) {
            f->held = 0;
            return put_wal_frame(f, f->held_hdr, in, i);
        }
        /* The page alone: keep the frame's header (a rewrite in place). */
        int rc = wal_settle(f);
        if (rc != SQLITE_OK)
            return rc;
        uint8_t hdr[WAL_FHDR];
        const uint8_t *old;
        rc = load_wal_frame(f, i, &old);
        if (rc != SQLITE_OK)
            return rc == SQLITE_IOERR_SHORT_READ ? SQLITE_IOERR_WRITE : rc;
        memcpy(hdr, old, WAL_FHDR);
        return put_wal_frame(f, hdr, in, i);
    }
    if (in_frame == 0 && amt == WAL_FRAME) {
        int rc = flush_held(f);
        if (rc != SQLITE_OK)
            return rc;
        return put_wal_frame(f, in, in + WAL_FHDR, i);
    }
    return SQLITE_IOERR_WRITE;
}

/* ---- io methods --------------------------------------------------------- */

static int x_close(sqlite3_file *pf)
{
    vfile *f = (vfile *)pf;
    int rc = f->kind == KIND_WAL ? wal_settle(f) : SQLITE_OK;
    int rc2 = f->real->pMethods ? f->real->pMethods->xClose(f->real)
                                : SQLITE_OK;
    if (f->kind == KIND_WAL)
        wc_free(f->k); /* wipes the cached plaintext */
    free(f->run_out);
    f->run_out = NULL;
    wg_wipe(f->plain, sizeof f->plain);
    return rc != SQLITE_OK ? rc : rc2;
}

static int x_read(sqlite3_file *pf, void *p, int amt, sqlite3_int64 off)
{
    vfile *f = (vfile *)pf;
    if (f->kind == KIND_DB)
        return vfs_read_db(f, p, amt, off);
    int rc = wal_settle(f);
    if (rc != SQLITE_OK)
        return rc;
    return vfs_read_wal(f, p, amt, off);
}

static int x_write(sqlite3_file *pf, const void *p, int amt,
                   sqlite3_int64 off)
{
    vfile *f = (vfile *)pf;
    if (f->kind == KIND_DB)
        return vfs_write_db(f, p, amt, off);
    return vfs_write_wal(f, p, amt, off);
}

static sqlite3_int64 to_phys(const vfile *f, sqlite3_int64 size)
{
    if (f->kind == KIND_DB || size == 0)
        return size;
    return size + SEAL;
}

static int x_truncate(sqlite3_file *pf, sqlite3_int64 size)
{
    vfile *f = (vfile *)pf;
    if (f->kind == KIND_WAL) {
        int rc = wal_settle(f);
        if (rc != SQLITE_OK)
            return rc;
        wc_clear(f->k);
    }
    return f->real->pMethods->xTruncate(f->real, to_phys(f, size));
}

static int x_sync(sqlite3_file *pf, int flags)
{
    vfile *f = (vfile *)pf;
    if (f->kind == KIND_WAL) {
        int rc = wal_settle(f);
        if (rc != SQLITE_OK)
            return rc;
    }
    return f->real->pMethods->xSync(f->real, flags);
}

static int x_file_size(sqlite3_file *pf, sqlite3_int64 *size)
{
    vfile *f = (vfile *)pf;
    if (f->kind == KIND_WAL) {
        int rc = wal_settle(f);
        if (rc != SQLITE_OK)
            return rc;
    }
    sqlite3_int64 phys = 0;
    int rc = f->real->pMethods->xFileSize(f->real, &phys);
    if (rc != SQLITE_OK)
        return rc;
    if (f->kind == KIND_WAL)
        *size = phys < WAL_PHDR ? 0 : phys - SEAL;
    else
        *size = phys;
    return SQLITE_OK;
}

static int x_lock(sqlite3_file *pf, int l)
{
    vfile *f = (vfile *)pf;
    return f->real->pMethods->xLock(f->real, l);
}

static int x_unlock(sqlite3_file *pf, int l)
{
    vfile *f = (vfile *)pf;
    return f->real->pMethods->xUnlock(f->real, l);
}

static int x_check_reserved(sqlite3_file *pf, int *out)
{
    vfile *f = (vfile *)pf;
    return f->real->pMethods->xCheckReservedLock(f->real, out);
}

static int x_file_control(sqlite3_file *pf, int op, void *arg)
{
    vfile *f = (vfile *)pf;
    if (op == SQLITE_FCNTL_VFSNAME) {
        *(char **)arg = sqlite3_mprintf("wings");
        return SQLITE_OK;
    }
    if (f->kind == KIND_WAL) {
        int rc = wal_settle(f);
        if (rc != SQLITE_OK)
            return rc;
    }
    if (op == SQLITE_FCNTL_SIZE_HINT && f->kind == KIND_WAL) {
        sqlite3_int64 hint = to_phys(f, *(sqlite3_int64 *)arg);
        return f->real->pMethods->xFileControl(f->real, op, &hint);
    }
    return f->real->pMethods->xFileControl(f->real, op, arg);
}

static int x_sector_size(sqlite3_file *pf)
{
    vfile *f = (vfile *)pf;
    return f->real->pMethods->xSectorSize(f->real);
}

static int x_device_chars(sqlite3_file *pf)
{
    vfile *f = (vfile *)pf;
    /* No memory-mapped I/O: every byte must pass through the cipher. */
    return f->real->pMethods->xDeviceCharacteristics(f->real);
}

/* Shared memory is never used: the store runs in EXCLUSIVE locking mode,
 * so SQLite keeps the WAL index in heap memory and no -shm file exists. */
static int x_shm_map(sqlite3_file *pf, int pg, int sz, int extend,
                     void volatile **pp)
{
    return SQLITE_IOERR_SHMMAP;
}
static int x_shm_lock(sqlite3_file *pf, int o, int n, int flags)
{
    return SQLITE_IOERR_SHMLOCK;
}
static void x_shm_barrier(sqlite3_file *pf) {}
static int x_shm_unmap(sqlite3_file *pf, int del) { return SQLITE_OK; }

static int x_fetch(sqlite3_file *pf, sqlite3_int64 off, int amt, void **pp)
{
    *pp = NULL; /* no mmap: pages must be decrypted */
    return SQLITE_OK;
}
static int x_unfetch(sqlite3_file *pf, sqlite3_int64 off, void *p)
{
    return SQLITE_OK;
}

static const sqlite3_io_methods io_methods = {
    3, x_close, x_read, x_write, x_truncate, x_sync, x_file_size, x_lock,
    x_unlock, x_check_reserved, x_file_control, x_sector_size, x_device_chars,
    x_shm_map, x_shm_lock, x_shm_barrier, x_shm_unmap, x_fetch, x_unfetch,
};

/* ---- the vfs ------------------------------------------------------------ */

static int v_open(sqlite3_vfs *vfs, sqlite3_filename name, sqlite3_file *pf,
                  int flags, int *out_flags)
{
    vfile *f = (vfile *)pf;
    memset(f, 0, sizeof *f);
    f->real = (sqlite3_file *)((uint8_t *)pf + sizeof(vfile));
    if (flags & SQLITE_OPEN_MAIN_DB) {
        f->kind = KIND_DB;
        f->k = name ? lookup(name) : NULL;
    } else if (flags & SQLITE_OPEN_WAL) {
        f->kind = KIND_WAL;
        f->k = name ? lookup(sqlite3_filename_database(name)) : NULL;
    } else {
        /* A journal or temp file would hold plaintext: never open one. */
        snprintf(failure, sizeof failure,
                 "refusing to open an unencrypted journal or temp file");
        return SQLITE_CANTOPEN;
    }
    if (!f->k) {
        snprintf(failure, sizeof failure, "no key attached for this database");
        return SQLITE_CANTOPEN;
    }
    int rc = base_vfs->xOpen(base_vfs, name, f->real, flags, out_flags);
    if (rc != SQLITE_OK) {
        f->real->pMethods = NULL;
        return rc;
    }
    if (f->kind == KIND_WAL)
        wc_clear(f->k); /* a WAL we have not read yet */
    pf->pMethods = &io_methods;
    return SQLITE_OK;
}

static int v_delete(sqlite3_vfs *v, const char *n, int sync)
{
    return base_vfs->xDelete(base_vfs, n, sync);
}
static int v_access(sqlite3_vfs *v, const char *n, int flags, int *out)
{
    return base_vfs->xAccess(base_vfs, n, flags, out);
}
static int v_full_pathname(sqlite3_vfs *v, const char *n, int size, char *out)
{
    return base_vfs->xFullPathname(base_vfs, n, size, out);
}
static void *v_dl_open(sqlite3_vfs *v, const char *n) { return NULL; }
static void v_dl_error(sqlite3_vfs *v, int n, char *msg)
{
    snprintf(msg, (size_t)n, "extensions are disabled");
}
static void (*v_dl_sym(sqlite3_vfs *v, void *h, const char *s))(void)
{
    return NULL;
}
static void v_dl_close(sqlite3_vfs *v, void *h) {}
static int v_randomness(sqlite3_vfs *v, int n, char *out)
{
    return base_vfs->xRandomness(base_vfs, n, out);
}
static int v_sleep(sqlite3_vfs *v, int us)
{
    return base_vfs->xSleep(base_vfs, us);
}
static int v_current_time(sqlite3_vfs *v, double *t)
{
    return base_vfs->xCurrentTime(base_vfs, t);
}
static int v_last_error(sqlite3_vfs *v, int n, char *s)
{
    return base_vfs->xGetLastError(base_vfs, n, s);
}
static int v_current_time64(sqlite3_vfs *v, sqlite3_int64 *t)
{
    return base_vfs->xCurrentTimeInt64(base_vfs, t);
}

static sqlite3_vfs wings_vfs = {
    2, 0, 0, NULL, WG_VFS_NAME, NULL, v_open, v_delete, v_access,
    v_full_pathname, v_dl_open, v_dl_error, v_dl_sym, v_dl_close,
    v_randomness, v_sleep, v_current_time, v_last_error, v_current_time64,
    NULL, NULL, NULL,
};

static pthread_once_t reg_once = PTHREAD_ONCE_INIT;
static int reg_rc = SQLITE_ERROR;

/* ---- SQLite's page cache pool ---------------------------------------------
 *
 * A command that will fill a large page cache (an import writes a whole
 * file's pages in one transaction) says so before the process opens its
 * first store (wg_vfs_reserve_pages()). SQLite's cache lines then come from
 * one mapping of this module instead of one malloc each:
 *
 *   MADV_HUGEPAGE  where the kernel offers transparent huge pages, filling
 *                  the cache costs a fault per 2 MiB instead of one per
 *                  page (under a hypervisor, most of what filling it costs)
 *                  and the B-tree walks miss the TLB less;
 *   MADV_DONTDUMP  the plaintext pages stay out of core dumps, like the
 *                  frame cache's.
 *
 * SQLite threads its free list through every line when it is handed the
 * pool, so the pool is sized to what the command expects to use, not to the
 * cache's limit; lines beyond it come from malloc as before. It must be set
 * before SQLite starts and is process-wide: a daemon running an import for
 * a client keeps its own arrangement. The pool lives until exit (SQLite may
 * use it to the end) and goes with the process. */
#define POOL_MIN_LINES 256

static size_t pool_want;   /* bytes; read once, by do_register() */

void wg_vfs_reserve_pages(size_t bytes)
{
    pool_want = bytes;
}

static void pool_setup(void)
{
    int hdr = 0;
    if (!pool_want ||
        sqlite3_config(SQLITE_CONFIG_PCACHE_HDRSZ, &hdr) != SQLITE_OK ||
        hdr < 0)
        return;
    size_t line = ((size_t)WG_PAGE_BYTES + (size_t)hdr + 7) & ~(size_t)7;
    size_t n = pool_want / line;
    if (n > (size_t)INT32_MAX / 2)
        n = (size_t)INT32_MAX / 2;
    if (n < POOL_MIN_LINES)
        return;
    uint8_t *a = wg_huge_alloc(n * line, 1);
    if (sqlite3_config(SQLITE_CONFIG_PAGECACHE, a, (int)line, (int)n) !=
        SQLITE_OK)
        wg_huge_free(a, n * line);
}

static void do_register(void)
{
    /* Before SQLite starts: no count of its memory (nothing here reads
     * it), so its allocator takes no global lock per malloc. Refused
     * (harmlessly) if something started SQLite first. */
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    pool_setup();
    base_vfs = sqlite3_vfs_find(NULL);
    if (!base_vfs)
        return;
    if (pthread_atfork(NULL, NULL, on_fork_child) != 0)
        return;
    wings_vfs.szOsFile = (int)sizeof(vfile) + base_vfs->szOsFile;
    wings_vfs.mxPathname = base_vfs->mxPathname;
    reg_rc = sqlite3_vfs_register(&wings_vfs, 0);
}

wg_rc wg_vfs_register(wg_err *err)
{
    pthread_once(&reg_once, do_register);
    if (reg_rc != SQLITE_OK)
        return wg_err_set(err, WG_ERR_INTERNAL,
                          "cannot register the encrypting vfs");
    return WG_OK;
}

/* ---- offline verification ---------------------------------------------- */

wg_rc wg_vfs_verify_attached(const char *dbpath, wg_problem_fn fn, void *ctx,
                             long *checked, long *bad, wg_err *err)
{
    keyent *k = lookup(dbpath);
    if (!k)
        return wg_err_set(err, WG_ERR_INTERNAL, "no key attached for '%s'",
                          dbpath);
    return wg_vfs_verify(dbpath, k->key, k->dbid, fn, ctx, checked, bad, err);
}

static int read_exact(int fd, uint8_t *p, size_t n, off_t off)
{
    size_t done = 0;
    while (done < n) {
        ssize_t r = pread(fd, p + done, n - done, off + (off_t)done);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        done += (size_t)r;
    }
    return 0;
}

wg_rc wg_vfs_verify(const char *dbpath, const uint8_t key[WG_KEY_BYTES],
                    const uint8_t dbid[WG_DBID_BYTES], wg_problem_fn fn,
                    void *ctx, long *checked, long *bad, wg_err *err)
{
    keyent k = { 0 };
    k.key = (uint8_t *)key;
    memcpy(k.dbid, dbid, WG_DBID_BYTES);
    uint8_t *sealed = wg_xmalloc(WAL_FRAME);
    uint8_t *plain = wg_secret_alloc(WAL_FRAME);
    uint8_t ad[24];
    char what[160];
    *checked = *bad = 0;
    wg_rc rc = WG_OK;

    int fd = open(dbpath, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        rc = wg_err_set(err, errno == ENOENT ? WG_ERR_NOTFOUND : WG_ERR_IO,
                        "cannot open '%s': %s", dbpath, strerror(errno));
        goto out;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        close(fd);
        rc = wg_err_set(err, WG_ERR_IO, "cannot stat '%s'", dbpath);
        goto out;
    }
    long pages = (long)(st.st_size / WG_PAGE_BYTES);
    if (pages == 0) {
        (*bad)++;
        fn(ctx, "the database file is empty: it was truncated or replaced");
    }
    for (long p = 0; p < pages; p++) {
        (*checked)++;
        if (read_exact(fd, sealed, WG_PAGE_BYTES, (off_t)p * WG_PAGE_BYTES)) {
            snprintf(what, sizeof what, "page %ld of the database cannot be read",
                     p + 1);
        } else {
            ad_db(ad, &k, (uint32_t)(p + 1));
            if (unseal(plain, sealed, PLAIN_BYTES, ad, &k) == WG_OK)
                continue;
            snprintf(what, sizeof what,
                     "page %ld of the database failed authentication", p + 1);
        }
        (*bad)++;
        fn(ctx, what);
    }
    if (st.st_size % WG_PAGE_BYTES) {
        (*bad)++;
        fn(ctx, "the database file ends in a partial page");
    }
    close(fd);

    char walpath[4096];
    snprintf(walpath, sizeof walpath, "%s-wal", dbpath);
    fd = open(walpath, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        goto out; /* no WAL: nothing more to check */
    if (fstat(fd, &st) == 0 && st.st_size >= WAL_PHDR) {
        (*checked)++;
        ad_wal(ad, &k, "wgwh", 0);
        if (read_exact(fd, sealed, WAL_PHDR, 0) ||
            unseal(plain, sealed, WAL_HDR, ad, &k) != WG_OK) {
            (*bad)++;
            fn(ctx, "the WAL header failed authentication");
        }
        long frames = (long)((st.st_size - WAL_PHDR) / WAL_FRAME);
        for (long i = 0; i < frames; i++) {
            (*checked)++;
            ad_wal(ad, &k, "wgwf", (uint32_t)i);
            if (read_exact(fd, sealed, WAL_FRAME,
                           WAL_PHDR + (off_t)i * WAL_FRAME) == 0 &&
                unseal(plain, sealed, WAL_FHDR + PLAIN_BYTES, ad, &k) == WG_OK)
                continue;
            snprintf(what, sizeof what,
                     "frame %ld of the WAL failed authentication", i + 1);
            (*bad)++;
            fn(ctx, what);
        }
    } else if (fstat(fd, &st) == 0 && st.st_size > 0) {
        (*bad)++;
        fn(ctx, "the WAL file is truncated inside its header");
    }
    close(fd);
out:
    free(sealed);
    wg_secret_free(plain);
    return rc;
}
