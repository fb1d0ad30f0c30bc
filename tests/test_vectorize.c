/*
 * test_vectorize.c: the loop-vectorization study's parts that must be right whatever the timings say.
 *  - pragma insertion on hand-written sources: the innermost loop of every function but main, nested
 *    loops with and without braces, while / do, comments, strings and directives that mention loops, code
 *    before the loop on its line; errors for unbalanced code and for no loop;
 *  - families, base families and the program selection (k per family, evenly spread, families interleaved);
 *  - journal lines: round trip, a torn or altered line is refused, a torn last line skipped; duplicates;
 *  - the grid and --vf/--if parsing;
 *  - the label table and the evaluation arithmetic on hand-computed rows (speedups, fraction of the
 *    oracle, the best fixed config, wrong digests and failures, incomplete programs);
 *  - with the data set (../shared/data or $MIR_DATA_DIR): one program of every family gets the pragma
 *    before its kernel loop, compiles with clang 16, clang reports the requested factors, and the
 *    program leaves the same output digest as the unmodified one; the timer built with PAPI runs too (its
 *    counts are -1 without a PMU). Skipped (with a note) without the data.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "compile.h"
#include "mir_test.h"
#include "vectorize.h"

#ifndef MIR_DATA_DIR_DEFAULT
#define MIR_DATA_DIR_DEFAULT "../shared/data"
#endif

static const char *PRAGMA84 = "#pragma clang loop vectorize_width(8) interleave_count(4)";

/* The line (without newline) after the first line that holds needle, in s (static buffer). */
static const char *line_after(const char *s, const char *needle) {
    static char buf[512];
    const char *p = strstr(s, needle);
    if (!p) return "";
    p = strchr(p, '\n');
    if (!p) return "";
    p++;
    size_t n = strcspn(p, "\n");
    if (n >= sizeof buf) n = sizeof buf - 1;
    memcpy(buf, p, n);
    buf[n] = '\0';
    return buf;
}

static int count(const char *s, const char *needle) {
    int n = 0;
    for (const char *p = s; (p = strstr(p, needle)); p++) n++;
    return n;
}

static void test_pragma_text(void) {
    mir_error err = {{0}};
    char *out = NULL;
    int nl = 0, line = 0;
    /* nested loops without braces (family s16), a comment and a string that mention for, main's loop */
    const char *a = "#include \"header.h\"\n"
                    "#define LOOP for (int q = 0; q < 3; q++)\n"
                    "int in[4][8];\n"
                    "__attribute__((noinline))\n"
                    "void k(int *out) {\n"
                    "  /* for (x = 0; x < 1; x++) { */\n"
                    "  const char *s = \"for (;;) {\"; // while (1) {\n"
                    "  for (int k = 0; k < 2; k++) {\n"
                    "    int sum = 0;\n"
                    "    for (int i = 0; i < 4; i++)\n"
                    "        for (int j = 0; j < 8; j++)\n"
                    "          sum += in[i][j];\n"
                    "    out[k] = sum + (s[0] == 'f');\n"
                    "  }\n"
                    "}\n"
                    "int main(void) { int o[2]; for (int i = 0; i < 3; i++) k(o); return 0; }\n";
    CHECK_FATAL(mir_vec_insert_pragma(a, "a.c", 8, 4, &out, &nl, &line, &err) == 0);
    CHECK_EQ_INT(nl, 1);
    CHECK_EQ_INT(line, 11);
    CHECK_EQ_INT(count(out, "#pragma clang loop"), 1);
    CHECK_EQ_STR(line_after(out, PRAGMA84), "        for (int j = 0; j < 8; j++)");
    CHECK(strstr(out, "        #pragma clang loop vectorize_width(8) interleave_count(4)\n") != NULL); /* indented as the loop */
    /* the rest unchanged: removing the pragma line gives the input back */
    {
        char *p = strstr(out, "        #pragma");
        char *q = strchr(p, '\n') + 1;
        memmove(p, q, strlen(q) + 1);
        CHECK_EQ_STR(out, a);
    }
    free(out);
    /* vf 0: a copy */
    CHECK(mir_vec_insert_pragma(a, "a.c", 0, 0, &out, &nl, NULL, &err) == 0);
    CHECK_EQ_STR(out, a);
    free(out);
    /* braces, while and do-while, code before the loop on its line, two functions */
    const char *b = "void f(int *x, int n) { int i = 0; while (i < n) { x[i] = i; i++; } }\n"
                    "void g(int *x, int n) {\n"
                    "  int i = n;\n"
                    "  do { x[i] += 1; } while (--i > 0);\n"
                    "  if (n > 3) { for (i = 0; i < n; i++) { if (x[i]) x[i] = 0; else x[i] = 1; } }\n"
                    "}\n";
    CHECK_FATAL(mir_vec_insert_pragma(b, "b.c", 2, 1, &out, &nl, &line, &err) == 0);
    CHECK_EQ_INT(nl, 3);
    CHECK_EQ_INT(line, 1);
    CHECK_EQ_INT(count(out, "#pragma clang loop vectorize_width(2) interleave_count(1)\n"), 3);
    CHECK(strstr(out, "int i = 0; \n#pragma clang loop vectorize_width(2) interleave_count(1)\nwhile (i < n)") != NULL);
    CHECK(strstr(out, "  #pragma clang loop vectorize_width(2) interleave_count(1)\n  do {") != NULL);
    CHECK(strstr(out, "{ \n#pragma clang loop vectorize_width(2) interleave_count(1)\nfor (i = 0;") != NULL);
    free(out);
    /* errors: no loop outside main, unbalanced braces, an unterminated comment */
    CHECK(mir_vec_insert_pragma("int main(void) { for (;;) {} }\n", "m.c", 4, 1, &out, &nl, NULL, &err) == -1);
    CHECK(strstr(err.msg, "m.c") && strstr(err.msg, "no loop"));
    CHECK(out == NULL);
    CHECK(mir_vec_insert_pragma("void f(void) { for (;;) { }\n", "u.c", 4, 1, &out, &nl, NULL, &err) == -1);
    CHECK(strstr(err.msg, "u.c") && strstr(err.msg, "unbalanced"));
    CHECK(mir_vec_insert_pragma("void f(void) { /* for (;;) {} }\n", "c.c", 4, 1, &out, &nl, NULL, &err) == -1);
    CHECK(strstr(err.msg, "c.c") && strstr(err.msg, "unterminated"));
}

static void test_families_selection(void) {
    char f[32];
    mir_vec_family("s12nn_1024_2_2_in1_assign1.c", f, sizeof f);
    CHECK_EQ_STR(f, "s12nn");
    mir_vec_base_family("s12nn_1024_2_2_in1_assign1.c", f, sizeof f);
    CHECK_EQ_STR(f, "s12");
    mir_vec_base_family("dir/s6n_1024_add_0.c", f, sizeof f);
    CHECK_EQ_STR(f, "s6");
    mir_vec_base_family("s9_64_64_0.c", f, sizeof f);
    CHECK_EQ_STR(f, "s9");
    /* 3 families of 5, 2 and 1 programs, given unsorted */
    char *names[] = {"s2_e.c", "s1_d.c", "s1_a.c", "s10_b.c", "s1_c.c", "s1_e.c", "s10_a.c", "s1_b.c"};
    const char **sel = NULL;
    int n = 0;
    mir_vec_select(names, 8, 2, &sel, &n);
    CHECK_EQ_INT(n, 5);
    /* round-robin over sorted families: s1, s10, s2, then the second of s1 and s10; s1 keeps rows 0 and 2 of 5 */
    static const char *const want[] = {"s1_a.c", "s10_a.c", "s2_e.c", "s1_c.c", "s10_b.c"};
    for (int i = 0; i < n && i < 5; i++) CHECK_EQ_STR(sel[i], want[i]);
    free(sel);
    mir_vec_select(names, 8, 0, &sel, &n);
    CHECK_EQ_INT(n, 8);
    CHECK_EQ_STR(sel[0], "s1_a.c");
    CHECK_EQ_STR(sel[7], "s1_e.c");
    free(sel);
}

static mir_vec_result row(const char *prog, int kind, int vf, int ifc, int status, double best, uint32_t digest) {
    mir_vec_result r;
    memset(&r, 0, sizeof r);
    snprintf(r.program, sizeof r.program, "%.*s", MIR_VEC_NAME_MAX - 1, prog);
    r.kind = kind;
    r.vf = vf;
    r.ifc = ifc;
    r.status = status;
    r.repeats = 3;
    r.best_s = best;
    r.mean_s = best * 1.01;
    r.max_s = best * 1.1;
    r.loop_wall_s = best * 1.2;
    r.wall_s = best + 0.01;
    r.cpu_s = best;
    r.compile_s = 0.2;
    r.digest = digest;
    r.applied_vf = vf ? vf : 4;
    r.applied_if = ifc ? ifc : 2;
    r.rank = 1;
    r.unix_time = 1700000000;
    for (int k = 0; k < 4; k++) r.hw[k] = -1;
    return r;
}

static void test_journal(void) {
    mir_vec_result a = row("s1_1024_add_0.c", MIR_VEC_PRAGMA, 8, 2, MIR_VEC_OK, 0.123456789, 4185964232u), b;
    char line[1100];
    int len = mir_vec_result_format(&a, line, sizeof line);
    CHECK(len > 0 && line[len - 1] == '\n' && (int)strlen(line) == len);
    CHECK_FATAL(mir_vec_result_parse(line, &b) == 0);
    CHECK_EQ_STR(b.program, a.program);
    CHECK_EQ_INT(b.kind, a.kind);
    CHECK_EQ_INT(b.vf, 8);
    CHECK_EQ_INT(b.ifc, 2);
    CHECK_NEAR(b.best_s, a.best_s, 1e-12);
    CHECK_NEAR(b.loop_wall_s, a.loop_wall_s, 1e-9);
    CHECK_EQ_INT(b.digest, 4185964232u);
    CHECK_EQ_INT(b.hw[3], -1);
    CHECK(mir_vec_same_job(&a, &b));
    /* a torn line, an altered digit, a foreign line */
    char torn[1100];
    memcpy(torn, line, (size_t)len - 5);
    torn[len - 5] = '\0';
    CHECK(mir_vec_result_parse(torn, &b) == -1);
    char *alt = mir_strdup(line);
    char *d = strstr(alt, "0.123456789");
    d[3] = '9';
    CHECK(mir_vec_result_parse(alt, &b) == -1);
    free(alt);
    CHECK(mir_vec_result_parse("program,kind,vf\n", &b) == -1);
    /* a journal: two complete lines, a blank one, a foreign one, and a torn last line */
    mir_vec_result c = row("s2_x.c", MIR_VEC_O3, 0, 0, MIR_VEC_OK, 0.5, 7);
    char line2[1100];
    mir_vec_result_format(&c, line2, sizeof line2);
    size_t jl = strlen(line) * 2 + strlen(line2) + 64;
    char *journal = mir_malloc(jl);
    snprintf(journal, jl, "%s\n%sgarbage\n%s%.*s", line, line2, line, 40, line2);
    mir_vec_result *rows = NULL;
    size_t n = 0, cap = 0;
    int bad = 0;
    mir_vec_journal_parse(journal, &rows, &n, &cap, &bad);
    CHECK_EQ_INT(n, 3);
    CHECK_EQ_INT(bad, 2);
    CHECK_EQ_INT(mir_vec_dedupe(rows, n), 2); /* the second copy of line is dropped */
    CHECK_EQ_STR(rows[0].program, "s1_1024_add_0.c");
    CHECK_EQ_STR(rows[1].program, "s2_x.c");
    free(rows);
    free(journal);
}

static void test_grid(void) {
    int vf[35], ifc[35], n, mask;
    mir_vec_grid(MIR_VEC_DEFAULT_VF_MASK, MIR_VEC_DEFAULT_IF_MASK, vf, ifc, &n);
    CHECK_EQ_INT(n, 15);
    CHECK(vf[0] == 1 && ifc[0] == 1 && vf[1] == 1 && ifc[1] == 2 && vf[14] == 16 && ifc[14] == 4);
    mir_vec_grid(0x7f, 0x1f, vf, ifc, &n);
    CHECK_EQ_INT(n, 35);
    CHECK(vf[34] == 64 && ifc[34] == 16);
    CHECK(mir_vec_parse_factors("1,4,64", 64, &mask) == 0 && mask == (1 | 4 | 64));
    CHECK(mir_vec_parse_factors("3", 64, &mask) == -1);
    CHECK(mir_vec_parse_factors("32", 16, &mask) == -1);
    CHECK(mir_vec_parse_factors("1,,2", 16, &mask) == -1);
    CHECK(mir_vec_parse_factors("", 16, &mask) == -1);
}

static void test_table(void) {
    /* three programs of two families, three configs (VF 1, 4, 8 at IF 1):
     *   a (s1): -O3 1.0;  VF1 2.0, VF4 0.5, VF8 0.8  -> best VF4, oracle speedup 2
     *   b (s1): -O3 2.0;  VF1 2.0, VF4 4.0, VF8 1.0  -> best VF8, oracle 2
     *   c (s2): -O3 1.0;  VF1 1.0, VF4 failed, VF8 0.25 but a wrong digest -> best VF1, oracle 1
     *   d (s2): incomplete (no VF8 row) -> left out;  e (s2): no -O3 time -> left out */
    mir_vec_result r[] = {
        row("a_s1.c", MIR_VEC_O3, 0, 0, MIR_VEC_OK, 1.0, 11), row("a_s1.c", 0, 1, 1, MIR_VEC_OK, 2.0, 11),
        row("a_s1.c", 0, 4, 1, MIR_VEC_OK, 0.5, 11), row("a_s1.c", 0, 8, 1, MIR_VEC_OK, 0.8, 11),
        row("a_s1.c", MIR_VEC_O3_AGAIN, 0, 0, MIR_VEC_OK, 1.1, 11),
        row("b_s1.c", MIR_VEC_O3, 0, 0, MIR_VEC_OK, 2.0, 12), row("b_s1.c", 0, 1, 1, MIR_VEC_OK, 2.0, 12),
        row("b_s1.c", 0, 4, 1, MIR_VEC_OK, 4.0, 12), row("b_s1.c", 0, 8, 1, MIR_VEC_OK, 1.0, 12),
        row("c_s2.c", MIR_VEC_O3, 0, 0, MIR_VEC_OK, 1.0, 13), row("c_s2.c", 0, 1, 1, MIR_VEC_OK, 1.0, 13),
        row("c_s2.c", 0, 4, 1, MIR_VEC_COMPILE_FAILED, NAN, 0), row("c_s2.c", 0, 8, 1, MIR_VEC_OK, 0.25, 99),
        row("d_s2.c", MIR_VEC_O3, 0, 0, MIR_VEC_OK, 1.0, 14), row("d_s2.c", 0, 1, 1, MIR_VEC_OK, 1.0, 14),
        row("d_s2.c", 0, 4, 1, MIR_VEC_OK, 1.0, 14),
        row("e_s2.c", MIR_VEC_O3, 0, 0, MIR_VEC_RUN_FAILED, NAN, 0), row("e_s2.c", 0, 1, 1, MIR_VEC_OK, 1.0, 15),
        row("e_s2.c", 0, 4, 1, MIR_VEC_OK, 1.0, 15), row("e_s2.c", 0, 8, 1, MIR_VEC_OK, 1.0, 15),
        row("a_s1.c", 0, 4, 1, MIR_VEC_OK, 9.0, 11), /* a duplicate: the first row wins */
    };
    /* the family is the name before '_': rename so a, b are family s1 and c, d, e family s2 */
    for (size_t i = 0; i < sizeof r / sizeof *r; i++) {
        char tmp[MIR_VEC_NAME_MAX];
        memcpy(tmp, r[i].program, sizeof tmp);
        snprintf(r[i].program, sizeof r[i].program, "%.2s_%c.c", tmp + 2, tmp[0]);
    }
    mir_vec_table t;
    mir_error err = {{0}};
    CHECK_FATAL(mir_vec_table_build(r, sizeof r / sizeof *r, &t, &err) == 0);
    CHECK_EQ_INT(t.n, 3);
    CHECK_EQ_INT(t.n_cfg, 3);
    CHECK_EQ_INT(t.n_dropped, 2);
    CHECK_EQ_INT(t.n_incomplete, 1);
    CHECK_EQ_INT(t.n_wrong_digest, 1);
    CHECK_EQ_INT(t.n_failed, 1);
    CHECK_EQ_INT(t.n_families, 2);
    CHECK_EQ_STR(t.program[0], "s1_a.c");
    CHECK_EQ_STR(t.program[2], "s2_c.c");
    CHECK(t.family_id[0] == 0 && t.family_id[1] == 0 && t.family_id[2] == 1);
    int c1 = mir_vec_config_index(&t, 1, 1), c4 = mir_vec_config_index(&t, 4, 1), c8 = mir_vec_config_index(&t, 8, 1);
    CHECK(c1 == 0 && c4 == 1 && c8 == 2);
    CHECK_EQ_INT(mir_vec_config_index(&t, 2, 1), -1);
    CHECK_EQ_INT(t.best[0], c4);
    CHECK_EQ_INT(t.best[1], c8);
    CHECK_EQ_INT(t.best[2], c1);
    CHECK(!mir_vec_valid(&t, 2, c4) && !mir_vec_valid(&t, 2, c8));
    CHECK_NEAR(mir_vec_speedup(&t, 0, c4), 2.0, 1e-12);
    CHECK_NEAR(mir_vec_speedup(&t, 1, c4), 0.5, 1e-12);
    CHECK(isnan(mir_vec_speedup(&t, 2, c8)));
    CHECK_NEAR(t.t_o3_again[0], 1.1, 1e-12);
    CHECK(isnan(t.t_o3_again[1]));
    CHECK_NEAR(t.spread[0 * 3 + c4], 0.1, 1e-9);
    CHECK_EQ_INT(t.o3_vf[0], 4);
    int rows[3] = {0, 1, 2};
    mir_vec_stats s;
    /* the oracle: speedups 2, 2, 1 */
    mir_vec_stats_of(&t, rows, t.best, 3, &s);
    CHECK_NEAR(s.geomean, cbrt(4.0), 1e-12);
    CHECK_NEAR(s.mean, 5.0 / 3, 1e-12);
    CHECK_NEAR(s.fraction, 1.0, 1e-12);
    CHECK_NEAR(s.accuracy, 100.0, 1e-12);
    /* always VF4: a 2, b 0.5, c invalid -> its slowest valid time (1.0): speedup 1; fractions 1, 1/4, 1 */
    int p4[3] = {c4, c4, c4};
    mir_vec_stats_of(&t, rows, p4, 3, &s);
    CHECK_NEAR(s.geomean, 1.0, 1e-12);
    CHECK_NEAR(s.mean, 3.5 / 3, 1e-12);
    CHECK_NEAR(s.fraction, cbrt(0.25), 1e-12);
    CHECK_NEAR(s.accuracy, 100.0 / 3, 1e-9);
    CHECK_NEAR(s.within5, 200.0 / 3, 1e-9);
    /* VF1, VF8, VF1: speedups 0.5, 2, 1; fractions 0.25, 1, 1 */
    int pm[3] = {c1, c8, c1};
    mir_vec_stats_of(&t, rows, pm, 3, &s);
    CHECK_NEAR(s.geomean, 1.0, 1e-12);
    CHECK_NEAR(s.fraction, cbrt(0.25), 1e-12);
    CHECK_NEAR(s.accuracy, 200.0 / 3, 1e-9);
    /* best fixed config: log speedups VF1: log .5 + 0 + 0; VF4: log 2 + log .5 + 0 = 0; VF8: log 1.25 + log 2 + 0 */
    CHECK_EQ_INT(mir_vec_best_fixed(&t, rows, 3), c8);
    int only_a[1] = {0};
    CHECK_EQ_INT(mir_vec_best_fixed(&t, only_a, 1), c4);
    mir_vec_table_free(&t);
    /* nothing usable */
    CHECK(mir_vec_table_build(r + 16, 4, &t, &err) == -1);
    CHECK(strstr(err.msg, "no program") != NULL);
}

/* One program of every family from the data set, measured plain and with a pragma. */
static void test_programs(void) {
    const char *data = getenv("MIR_DATA_DIR");
    if (!data || !*data) data = MIR_DATA_DIR_DEFAULT;
    char archive[4096];
    snprintf(archive, sizeof archive, "%s/%s/%s.tar.xz", data, MIR_VEC_SUBDIR_LOOPS, MIR_VEC_ARCHIVE_STEM);
    if (access(archive, R_OK)) {
        printf("test_vectorize: %s missing: the programs part is SKIPPED\n", archive);
        return;
    }
    char tmp[] = "/tmp/mir-test-vec.XXXXXX";
    CHECK_FATAL(mkdtemp(tmp) != NULL);
    char dest[4200], loops[4300], work[4300];
    snprintf(dest, sizeof dest, "%s/nv", tmp);
    snprintf(loops, sizeof loops, "%s/training_data", dest);
    snprintf(work, sizeof work, "%s/work", tmp);
    mir_error err = {{0}};
    CHECK_FATAL(mir_vec_unpack(archive, dest, &err) == 0);
    char **names = NULL;
    int n = 0;
    CHECK_FATAL(mir_vec_list_programs(loops, &names, &n, &err) == 0);
    CHECK_EQ_INT(n, 7812);
    const char **sel = NULL;
    int m = 0;
    mir_vec_select(names, n, 1, &sel, &m);
    CHECK_EQ_INT(m, 20);
    mir_compile_options co;
    mir_compile_options_default(&co);
    mir_vec_bench b;
    /* a 64th of the iterations: the digest stays comparable between the two builds, the test stays fast */
    if (mir_vec_bench_setup(&b, work, loops, co.clang, NULL, 0, 64, 60, 1, &err)) {
        fprintf(stderr, "bench setup: %s\n", err.msg);
        CHECK_FATAL(0);
    }
    int applied = 0;
    for (int i = 0; i < m; i++) {
        char path[4500], *src = NULL, *out = NULL, fam[32];
        size_t bytes;
        snprintf(path, sizeof path, "%s/%s", loops, sel[i]);
        mir_vec_family(sel[i], fam, sizeof fam);
        CHECK_FATAL(mir_read_file(path, &src, &bytes, &err) == 0);
        int nl = 0, line = 0;
        CHECK(mir_vec_insert_pragma(src, sel[i], 4, 2, &out, &nl, &line, &err) == 0);
        CHECK_EQ_INT(nl, 1);
        /* the pragma is followed by a loop, inside the kernel function (before main) */
        const char *after = line_after(out, "#pragma clang loop vectorize_width(4) interleave_count(2)");
        while (*after == ' ' || *after == '\t') after++;
        CHECK(!strncmp(after, "for", 3) || !strncmp(after, "while", 5));
        CHECK(strstr(out, "#pragma clang loop") < strstr(out, "int main("));
        /* the kernel's innermost loop: no other loop keyword between the pragma and the end of its statement's
         * line block is checked by the parser tests; here: exactly one pragma, and the line numbers agree */
        CHECK_EQ_INT(count(out, "#pragma clang loop"), 1);
        free(out);
        free(src);
        mir_vec_result o3, vec;
        char why[400];
        CHECK_FATAL(mir_vec_bench_run(&b, sel[i], MIR_VEC_O3, 0, 0, &o3, why, sizeof why, &err) == 0);
        CHECK_FATAL(mir_vec_bench_run(&b, sel[i], MIR_VEC_PRAGMA, 4, 2, &vec, why, sizeof why, &err) == 0);
        if (o3.status != MIR_VEC_OK || vec.status != MIR_VEC_OK)
            fprintf(stderr, "%s: -O3 %s, VF4/IF2 %s: %s\n", sel[i], mir_vec_status_name[o3.status],
                    mir_vec_status_name[vec.status], why);
        CHECK_EQ_INT(o3.status, MIR_VEC_OK);
        CHECK_EQ_INT(vec.status, MIR_VEC_OK);
        if (o3.digest != vec.digest) fprintf(stderr, "%s (family %s): digest %u vs %u\n", sel[i], fam, o3.digest, vec.digest);
        CHECK(o3.digest == vec.digest);
        if (!(vec.best_s > 0 && vec.best_s < 10)) fprintf(stderr, "%s: best %g s\n", sel[i], vec.best_s);
        CHECK(vec.best_s > 0 && vec.best_s < 10 && o3.repeats == 1);
        CHECK(vec.compile_s > 0 && vec.wall_s >= 0);
        if (vec.applied_vf == 4 && vec.applied_if == 2) applied++;
        else
            printf("test_vectorize: %s (family %s): clang reports VF %d IF %d for the pragma's 4/2%s\n", sel[i], fam,
                   vec.applied_vf, vec.applied_if, vec.pass_failed ? " (it warned: pass failed)" : "");
        CHECK_EQ_STR(vec.program, sel[i]);
        CHECK(vec.kind == MIR_VEC_PRAGMA && vec.vf == 4 && vec.ifc == 2 && o3.kind == MIR_VEC_O3 && o3.vf == 0);
    }
    /* clang honours the pragma for the kernel loop of (nearly) every family: it is before the right loop */
    printf("test_vectorize: clang applied VF 4 / IF 2 in %d of %d families\n", applied, m);
    CHECK(applied >= m - 2);
    /* a program that does not exist is the bench's error, naming it */
    mir_vec_result r;
    char why[400];
    CHECK(mir_vec_bench_run(&b, "nosuch_1.c", MIR_VEC_O3, 0, 0, &r, why, sizeof why, &err) == -1);
    CHECK(strstr(err.msg, "nosuch_1.c") != NULL);
    mir_vec_bench_free(&b);
    /* the timer with PAPI (used where the probe finds hardware counters): it builds, links with -lpapi and
     * runs; here the counts are -1 when the machine exposes no PMU, else positive */
    char work2[4400];
    snprintf(work2, sizeof work2, "%s/work-papi", tmp);
    if (mir_vec_bench_setup(&b, work2, loops, co.clang, NULL, 1, 64, 60, 1, &err)) {
        fprintf(stderr, "bench setup with PAPI: %s\n", err.msg);
        CHECK(0);
    } else {
        CHECK(mir_vec_bench_run(&b, sel[0], MIR_VEC_PRAGMA, 4, 1, &r, why, sizeof why, &err) == 0);
        CHECK_EQ_INT(r.status, MIR_VEC_OK);
        for (int k = 0; k < 4; k++) CHECK(r.hw[k] == -1 || r.hw[k] > 0);
        printf("test_vectorize: PAPI in the child: cycles %lld, instructions %lld\n", (long long)r.hw[0], (long long)r.hw[1]);
    }
    mir_vec_bench_free(&b);
    free(sel);
    mir_vec_free_names(names, n);
    char cmd[4300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp); /* tmp is our own mkdtemp name: no quote inside */
    if (system(cmd)) fprintf(stderr, "could not remove %s\n", tmp);
}

int main(void) {
    test_pragma_text();
    test_families_selection();
    test_journal();
    test_grid();
    test_table();
    test_programs();
    return mir_test_finish("test_vectorize");
}
