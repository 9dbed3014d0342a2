/*
 * killat.c - LD_PRELOAD shim for tests: SIGKILL the process at its Nth
 * durable step
 *
 * A fault-injection shim for the real `wings` binary, not a mock: it wraps
 * fsync(2) and fdatasync(2) (the real ones found with dlsym(RTLD_NEXT)),
 * counts the calls the process makes (both together, from 1), and at call
 * number WG_KILLAT sends itself SIGKILL, which no handler can catch or
 * delay. Every durable step of a store (a WAL commit, a checkpoint, the
 * key file, wings.mark, a folder entry made durable) goes through one of
 * the two, so killing at each N = 1 .. count in turn stops the process at
 * every such step, deterministically, where a timer would stop it at a
 * random one.
 *
 *   WG_KILLAT=N               kill at the Nth call (unset, empty, 0 or not a
 *                             number: never kill; the shim is transparent)
 *   WG_KILLAT_WHEN=before     (the default) kill just before the Nth call
 *                             runs: the step is not durable yet
 *   WG_KILLAT_WHEN=after      kill just after it returned: durable, but
 *                             nothing that follows it in the process ran
 *   WG_KILLAT_COUNT_FILE=PATH at a normal exit, write the number of calls
 *                             made (decimal, one line) to PATH, so a test
 *                             learns how many steps a run has
 *
 * Built only for tests (libwg_killat.so, never installed). Not counted:
 * sync(2), syncfs(2), msync(2), sync_file_range(2), O_SYNC writes; wings
 * uses none of them (tests/scenario/killsteps_cli.sh fails if a run had no
 * step at all).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* RTLD_NEXT */
#endif
#include <dlfcn.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef int (*sync_fn)(int);

static atomic_long calls;

/* N from WG_KILLAT, or 0 (never). Read on every call: cheap beside an
 * fsync, and no constructor-ordering questions. */
static long kill_at(void)
{
    const char *s = getenv("WG_KILLAT");
    char *end;
    long n;

    if (s == NULL || *s == '\0')
        return 0;
    n = strtol(s, &end, 10);
    return *end == '\0' && n > 0 ? n : 0;
}

static int kill_after(void)
{
    const char *s = getenv("WG_KILLAT_WHEN");

    return s != NULL && strcmp(s, "after") == 0;
}

static sync_fn real(const char *name)
{
    void *p = dlsym(RTLD_NEXT, name);
    sync_fn f;

    if (p == NULL) {
        static const char msg[] = "killat: the real sync function is missing\n";
        (void)!write(2, msg, sizeof msg - 1);
        abort();
    }
    memcpy(&f, &p, sizeof f); /* object to function pointer, as POSIX allows */
    return f;
}

static int step(const char *name, int fd)
{
    long n = atomic_fetch_add(&calls, 1) + 1, at = kill_at();
    int after = kill_after(), rc;

    if (n == at && !after)
        kill(getpid(), SIGKILL);
    rc = real(name)(fd);
    if (n == at && after)
        kill(getpid(), SIGKILL);
    return rc;
}

int fsync(int fd) { return step("fsync", fd); }

int fdatasync(int fd) { return step("fdatasync", fd); }

__attribute__((destructor)) static void write_count(void)
{
    const char *path = getenv("WG_KILLAT_COUNT_FILE");
    char line[32];
    int fd, len;

    if (path == NULL || *path == '\0')
        return;
    len = snprintf(line, sizeof line, "%ld\n", atomic_load(&calls));
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return;
    (void)!write(fd, line, (size_t)len);
    close(fd);
}
