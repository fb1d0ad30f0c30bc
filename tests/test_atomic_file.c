/*
 * test_atomic_file: mir_atomic_* (common/atomic_file.h) in a fresh folder. A stream committed replaces the
 * target and leaves no temporary; an abort leaves the old target as it was; a file or a folder written by name
 * is renamed into place; the temporary is TARGET.tmp.PID beside the target; a missing folder, a target that is a
 * non-empty folder, a temporary never written and a path too long fail with a message naming the file, and leave
 * no temporary behind.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic_file.h"
#include "mir_test.h"

static char dir[4096];

static void path_of(char *out, size_t cap, const char *name) { snprintf(out, cap, "%s/%s", dir, name); }

static int exists(const char *path) { return access(path, F_OK) == 0; }

static void write_text(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    CHECK_FATAL(f != NULL);
    fputs(text, f);
    fclose(f);
}

static void check_stream(void) {
    char target[4200], want_tmp[4500];
    path_of(target, sizeof target, "a.csv");
    write_text(target, "old\n");
    mir_atomic_file a;
    mir_error e = {{0}};
    CHECK_EQ_INT(mir_atomic_open(&a, target, "w", &e), 0);
    snprintf(want_tmp, sizeof want_tmp, "%s.tmp.%ld", target, (long)getpid());
    CHECK_EQ_STR(a.tmp, want_tmp);
    fputs("new\n", a.f);
    CHECK(exists(a.tmp));
    CHECK_EQ_STR(mir_test_file_text(target), "old\n"); /* not yet */
    CHECK_EQ_INT(mir_atomic_commit(&a, &e), 0);
    CHECK_EQ_STR(mir_test_file_text(target), "new\n");
    CHECK(!exists(want_tmp));
    CHECK(a.f == NULL);
    /* an abort leaves the target as it was */
    CHECK_EQ_INT(mir_atomic_open(&a, target, "w", &e), 0);
    fputs("half", a.f);
    mir_atomic_abort(&a);
    CHECK_EQ_STR(mir_test_file_text(target), "new\n");
    CHECK(!exists(want_tmp));
}

static void check_by_name(void) {
    char target[4200], inner[4500];
    path_of(target, sizeof target, "model.h5");
    mir_atomic_file a;
    mir_error e = {{0}};
    CHECK_EQ_INT(mir_atomic_begin(&a, target, &e), 0);
    CHECK(a.f == NULL);
    CHECK(!exists(a.tmp)); /* the writer creates it */
    write_text(a.tmp, "by name");
    CHECK_EQ_INT(mir_atomic_commit(&a, &e), 0);
    CHECK_EQ_STR(mir_test_file_text(target), "by name");
    /* a folder: unpacked under the temporary name, renamed whole */
    path_of(target, sizeof target, "kernels");
    CHECK_EQ_INT(mir_atomic_begin(&a, target, &e), 0);
    CHECK_FATAL(mkdir(a.tmp, 0755) == 0);
    snprintf(inner, sizeof inner, "%s/k.cl", a.tmp);
    write_text(inner, "kernel");
    CHECK_EQ_INT(mir_atomic_commit(&a, &e), 0);
    snprintf(inner, sizeof inner, "%s/k.cl", target);
    CHECK_EQ_STR(mir_test_file_text(inner), "kernel");
}

static void check_failures(void) {
    char target[4200], busy[4500];
    mir_atomic_file a;
    mir_error e = {{0}};
    /* a folder that does not exist */
    path_of(target, sizeof target, "missing/x.csv");
    CHECK_EQ_INT(mir_atomic_open(&a, target, "w", &e), -1);
    CHECK(strstr(e.msg, "missing/x.csv.tmp.") && strstr(e.msg, "cannot create"));
    /* the target is a folder with something in it: the rename fails, the temporary goes */
    path_of(target, sizeof target, "busy");
    CHECK_FATAL(mkdir(target, 0755) == 0);
    snprintf(busy, sizeof busy, "%s/inside", target);
    write_text(busy, "x");
    CHECK_EQ_INT(mir_atomic_open(&a, target, "w", &e), 0);
    fputs("data", a.f);
    CHECK_EQ_INT(mir_atomic_commit(&a, &e), -1);
    CHECK(strstr(e.msg, "cannot rename") && strstr(e.msg, "/busy:"));
    CHECK(!exists(a.tmp));
    CHECK_EQ_STR(mir_test_file_text(busy), "x");
    /* a writer that never made the temporary */
    path_of(target, sizeof target, "never.h5");
    CHECK_EQ_INT(mir_atomic_begin(&a, target, &e), 0);
    CHECK_EQ_INT(mir_atomic_commit(&a, &e), -1);
    CHECK(strstr(e.msg, "never.h5.tmp.") && strstr(e.msg, "cannot find"));
    CHECK(!exists(target));
    /* a path longer than the struct holds */
    char *huge = malloc(MIR_ATOMIC_PATH_MAX + 10);
    memset(huge, 'p', MIR_ATOMIC_PATH_MAX + 9);
    huge[MIR_ATOMIC_PATH_MAX + 9] = '\0';
    CHECK_EQ_INT(mir_atomic_begin(&a, huge, &e), -1);
    CHECK(strstr(e.msg, "path too long") != NULL);
    free(huge);
}

int main(void) {
    mir_test_tmpdir(dir, sizeof dir, "atomic");
    check_stream();
    check_by_name();
    check_failures();
    mir_test_rmdir(dir);
    return mir_test_finish("test_atomic_file");
}
