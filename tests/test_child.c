/*
 * test_child: mir_child_run (common/child.h), the one child-process runner of the compiler driver, the
 * vectorization study and the unpacking. Run through /bin/sh: the exit status and both streams reach their
 * files (or one file for both), a signal is reported as a signal, a child past its limit is killed and said to
 * be, the wait for a quick child does not last until the limit, CPU time is counted, and a program that does
 * not exist fails to start with ENOENT.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "child.h"
#include "mir_common.h"
#include "mir_test.h"

static char dir[4096];

static int sh(const char *script, const mir_child_io *io, double limit, mir_child_result *cr) {
    char *argv[] = {"sh", "-c", (char *)script, NULL};
    return mir_child_run(argv, io, limit, cr);
}

static void test_streams(void) {
    char out[4200], err[4200], both[4200];
    snprintf(out, sizeof out, "%s/out", dir);
    snprintf(err, sizeof err, "%s/err", dir);
    snprintf(both, sizeof both, "%s/both", dir);
    mir_child_result cr;
    mir_child_io io = {out, err};
    CHECK_FATAL(sh("read x; echo \"to out [$x]\"; echo to err >&2; exit 3", &io, 30, &cr) == 0);
    CHECK_EQ_INT(cr.exit_code, 3);
    CHECK_EQ_INT(cr.signal, 0);
    CHECK_EQ_INT(cr.timed_out, 0);
    CHECK_EQ_STR(mir_test_file_text(out), "to out []\n"); /* stdin is /dev/null */
    CHECK_EQ_STR(mir_test_file_text(err), "to err\n");
    mir_child_io one = {both, both};
    CHECK_FATAL(sh("echo a; echo b >&2; echo c", &one, 30, &cr) == 0);
    CHECK_EQ_INT(cr.exit_code, 0);
    CHECK_EQ_STR(mir_test_file_text(both), "a\nb\nc\n");
    mir_child_io quiet = {NULL, NULL}; /* both to /dev/null */
    CHECK_FATAL(sh("echo nothing; exit 0", &quiet, 0, &cr) == 0);
    CHECK_EQ_INT(cr.exit_code, 0);
}

static void test_signal_and_limit(void) {
    mir_child_io quiet = {NULL, NULL};
    mir_child_result cr;
    CHECK_FATAL(sh("kill -SEGV $$", &quiet, 30, &cr) == 0);
    CHECK_EQ_INT(cr.signal, SIGSEGV);
    CHECK_EQ_INT(cr.exit_code, -1);
    CHECK_EQ_INT(cr.timed_out, 0);
    /* a child that would outlive the limit by far: killed, and the wait ends near the limit */
    CHECK_FATAL(sh("exec sleep 600", &quiet, 0.3, &cr) == 0);
    CHECK_EQ_INT(cr.timed_out, 1);
    CHECK_EQ_INT(cr.signal, SIGKILL);
    CHECK(cr.wall_s >= 0.3 && cr.wall_s < 60);
    /* a quick child under a long limit: the wait ends when it does, not at the limit */
    CHECK_FATAL(sh("exit 0", &quiet, 600, &cr) == 0);
    CHECK_EQ_INT(cr.timed_out, 0);
    CHECK(cr.wall_s < 60);
    /* CPU time of the child is counted */
    CHECK_FATAL(sh("i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done", &quiet, 120, &cr) == 0);
    CHECK_EQ_INT(cr.exit_code, 0);
    CHECK(cr.cpu_s > 0.0 && cr.cpu_s <= cr.wall_s + 0.05);
}

static void test_not_started(void) {
    char *argv[] = {"/nonexistent/mir-no-such-program", NULL};
    mir_child_result cr;
    errno = 0;
    CHECK(mir_child_run(argv, NULL, 10, &cr) == -1);
    CHECK_EQ_INT(errno, ENOENT);
    CHECK_EQ_INT(cr.exit_code, -1);
}

int main(void) {
    mir_test_tmpdir(dir, sizeof dir, "child");
    test_streams();
    test_signal_and_limit();
    test_not_started();
    mir_test_rmdir(dir);
    return mir_test_finish("test_child");
}
