/*
 * atomic_file.h: a file (or a folder) that appears whole or not at all. It is written under a temporary name
 * next to its target, TARGET.tmp.PID (the same folder, so the same file system and an atomic rename), and
 * renamed onto the target once complete: a reader never sees half a file, and a failed write leaves the old
 * one in place.
 *
 *   mir_atomic_file a;
 *   if (mir_atomic_open(&a, path, "w", err)) return -1;      (or mir_atomic_begin, and write a.tmp by name)
 *   fprintf(a.f, ...);
 *   return mir_atomic_commit(&a, err);                       (or mir_atomic_abort(&a) to give up)
 */
#ifndef MIR_ATOMIC_FILE_H
#define MIR_ATOMIC_FILE_H

#include <stdio.h>

#include "mir_common.h"

enum { MIR_ATOMIC_PATH_MAX = 4400 }; /* bytes of a target's path, NUL included */

typedef struct mir_atomic_file {
    char path[MIR_ATOMIC_PATH_MAX];     /* the target */
    char tmp[MIR_ATOMIC_PATH_MAX + 32]; /* TARGET.tmp.PID */
    FILE *f;                            /* the stream of mir_atomic_open; NULL where the writer creates tmp */
} mir_atomic_file;

/* Name the temporary for path; the caller creates a->tmp itself (HDF5, LLVM or unzip write by name). 0, or -1
 * with err filled when path is too long. */
int mir_atomic_begin(mir_atomic_file *a, const char *path, mir_error *err);
/* mir_atomic_begin, then fopen(a->tmp, mode) into a->f. 0, or -1 with err "TMP: cannot create: REASON". */
int mir_atomic_open(mir_atomic_file *a, const char *path, const char *mode, mir_error *err);
/* Finish: flush, sync and close a->f if open (a regular file written by name is synced too), then rename the
 * temporary onto the target. 0, or -1 with err filled ("TMP: write error: REASON", "cannot rename TMP to PATH:
 * REASON") and the temporary removed. */
int mir_atomic_commit(mir_atomic_file *a, mir_error *err);
/* Give up: close a->f if open and remove the temporary (a folder only when empty). */
void mir_atomic_abort(mir_atomic_file *a);

#endif
