/*
 * folder.c - the node folder's safety, and files made beside their target
 *
 * A node folder is its operator's alone: owned by the user running wings
 * and closed to group and other (0700), so no one else can plant a socket,
 * a key file or a half-written file in it. Every file wings writes whole
 * (an export, a chart, a backup, a new key file) is first created under a
 * fresh random name beside its target with O_CREAT|O_EXCL|O_NOFOLLOW, so a
 * name another user prepared (a file, a symbolic link) is never adopted,
 * then synced and renamed over the target.
 */
#include "store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TMP_TRIES 8

wg_rc wg_store_check_folder(const char *dir, wg_err *err)
{
    struct stat sb;
    if (stat(dir, &sb) != 0)
        return wg_err_set(err, errno == ENOENT ? WG_ERR_NOTFOUND : WG_ERR_IO,
                          "cannot open node folder '%s': %s", dir,
                          strerror(errno));
    if (!S_ISDIR(sb.st_mode))
        return wg_err_set(err, WG_ERR_INVALID, "'%s' is not a folder", dir);
    if (sb.st_uid != geteuid())
        return wg_err_set(err, WG_ERR_INVALID,
                          "node folder '%s' belongs to user %ld, not to you "
                          "(%ld): run wings as its owner, or 'chown -R %ld "
                          "%s' if it is yours", dir, (long)sb.st_uid,
                          (long)geteuid(), (long)geteuid(), dir);
    if (sb.st_mode & 077)
        return wg_err_set(err, WG_ERR_INVALID,
                          "node folder '%s' is open to other users (mode "
                          "%04o): run 'chmod 700 %s'", dir,
                          (unsigned)(sb.st_mode & 07777), dir);
    return WG_OK;
}

char *wg_store__join(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = wg_xmalloc(n);
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

wg_rc wg_store__sync_dir(const char *dir, wg_err *err)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || fsync(fd) != 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        return wg_err_set(err, WG_ERR_IO, "cannot sync folder '%s': %s", dir,
                          strerror(e));
    }
    close(fd);
    return WG_OK;
}

wg_rc wg_store__replace_in(const char *dir, const char *from, const char *to,
                           wg_err *err)
{
    char *a = wg_store__join(dir, from), *b = wg_store__join(dir, to);
    wg_rc rc = WG_OK;
    if (rename(a, b) != 0)
        rc = wg_err_set(err, WG_ERR_IO, "cannot replace '%s': %s", b,
                        strerror(errno));
    free(a);
    free(b);
    return rc ? rc : wg_store__sync_dir(dir, err);
}

int wg_store_file_create(const char *path, char **tmp_out, wg_err *err)
{
    size_t n = strlen(path) + 32;
    char *tmp = wg_xmalloc(n);
    int fd = -1;
    for (int i = 0; i < TMP_TRIES && fd < 0; i++) {
        uint8_t r[6];
        char hex[13];
        wg_random(r, sizeof r);
        wg_hex_encode(hex, r, sizeof r);
        snprintf(tmp, n, "%s.%s.partial", path, hex);
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                  0600);
        if (fd < 0 && errno != EEXIST)
            break;
    }
    if (fd < 0) {
        wg_err_set(err, errno == ENOSPC ? WG_ERR_NOSPACE : WG_ERR_IO,
                   "cannot create a file beside '%s': %s", path,
                   strerror(errno));
        free(tmp);
        return -1;
    }
    *tmp_out = tmp;
    return fd;
}

static wg_rc sync_parent(const char *path, wg_err *err)
{
    char *copy = wg_xstrdup(path);
    int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    wg_rc rc = WG_OK;
    if (fd < 0 || fsync(fd) != 0)
        rc = wg_err_set(err, WG_ERR_IO, "cannot sync the folder of '%s': %s",
                        path, strerror(errno));
    if (fd >= 0)
        close(fd);
    free(copy);
    return rc;
}

wg_rc wg_store_file_commit(int fd, char **tmp_p, const char *path,
                            wg_err *err)
{
    char *tmp = *tmp_p;
    *tmp_p = NULL;
    wg_rc rc = WG_OK;
    if (fsync(fd) != 0)
        rc = wg_err_set(err, errno == ENOSPC ? WG_ERR_NOSPACE : WG_ERR_IO,
                        "cannot write '%s': %s", tmp, strerror(errno));
    if (close(fd) != 0 && rc == WG_OK)
        rc = wg_err_set(err, WG_ERR_IO, "cannot write '%s': %s", tmp,
                        strerror(errno));
    if (rc == WG_OK && rename(tmp, path) != 0)
        rc = wg_err_set(err, WG_ERR_IO, "cannot rename '%s' to '%s': %s", tmp,
                        path, strerror(errno));
    if (rc == WG_OK)
        rc = sync_parent(path, err);
    else
        unlink(tmp);
    free(tmp);
    return rc;
}

void wg_store_file_abandon(int fd, char **tmp_p)
{
    if (fd >= 0)
        close(fd);
    if (tmp_p && *tmp_p) {
        unlink(*tmp_p);
        free(*tmp_p);
        *tmp_p = NULL;
    }
}
