/* atomic_file.c: a temporary next to the target, renamed into place (see atomic_file.h). */
#include "atomic_file.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int mir_atomic_begin(mir_atomic_file *a, const char *path, mir_error *err) {
    a->f = NULL;
    a->path[0] = a->tmp[0] = '\0';
    if (strlen(path) >= sizeof a->path) return mir_fail(err, "%.200s...: path too long", path);
    snprintf(a->path, sizeof a->path, "%s", path);
    snprintf(a->tmp, sizeof a->tmp, "%s.tmp.%ld", path, (long)getpid());
    return 0;
}

int mir_atomic_open(mir_atomic_file *a, const char *path, const char *mode, mir_error *err) {
    if (mir_atomic_begin(a, path, err)) return -1;
    a->f = fopen(a->tmp, mode);
    if (!a->f) return mir_fail(err, "%s: cannot create: %s", a->tmp, strerror(errno));
    return 0;
}

/* fsync, where the file system has it (some answer EINVAL: nothing to make durable there). */
static int sync_fd(int fd) {
    return fsync(fd) == 0 || errno == EINVAL || errno == ENOTSUP || errno == EROFS ? 0 : -1;
}

/* The temporary made durable before the rename: the stream flushed, synced and closed; a regular file written
 * by name opened and synced. */
static int sync_tmp(mir_atomic_file *a, mir_error *err) {
    if (a->f) {
        FILE *f = a->f;
        a->f = NULL;
        errno = 0;
        int bad = fflush(f) != 0 || ferror(f) || sync_fd(fileno(f)) != 0, saved = errno;
        if (fclose(f) != 0 && !bad) {
            bad = 1;
            saved = errno;
        }
        return bad ? mir_fail(err, "%s: write error: %s", a->tmp, strerror(saved ? saved : EIO)) : 0;
    }
    struct stat st;
    if (stat(a->tmp, &st) != 0) return mir_fail(err, "%s: cannot find: %s", a->tmp, strerror(errno));
    if (!S_ISREG(st.st_mode)) return 0;
    int fd = open(a->tmp, O_RDONLY);
    int bad = fd < 0 || sync_fd(fd) != 0;
    int saved = errno;
    if (fd >= 0) close(fd);
    return bad ? mir_fail(err, "%s: cannot sync: %s", a->tmp, strerror(saved)) : 0;
}

int mir_atomic_commit(mir_atomic_file *a, mir_error *err) {
    if (sync_tmp(a, err)) {
        remove(a->tmp);
        return -1;
    }
    if (rename(a->tmp, a->path) != 0) {
        int saved = errno;
        remove(a->tmp);
        return mir_fail(err, "cannot rename %s to %s: %s", a->tmp, a->path, strerror(saved));
    }
    return 0;
}

void mir_atomic_abort(mir_atomic_file *a) {
    if (a->f) fclose(a->f);
    a->f = NULL;
    if (a->tmp[0]) remove(a->tmp);
}
