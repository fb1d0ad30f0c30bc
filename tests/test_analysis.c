/*
 * test_analysis.c: the evaluation arithmetic of mir-analyze, checked by hand.
 *  - folds: stratified keeps each class's share in every fold; grouped never splits a group and balances
 *    fold sizes; plain k-fold; same seed, same folds;
 *  - metrics: accuracy, per-class and macro F1, means, geometric mean, deviation, masked arg-max;
 *  - CSV reading (quoted newlines, doubled quotes, CRLF, errors with the line);
 *  - the device-mapping rows on a hand-made data set: row -> kernel file rule, suites, labels, speedups;
 *    and, when the real data is present, all 680 rows of the published CSVs map to files of the zip;
 *  - opcode counts (and their shares) of a hand-written IR module;
 *  - the classifiers and the cross-validation engine: near 100 % on separable data, near the majority
 *    rate on shuffled labels.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "classifier.h"
#include "csvread.h"
#include "cv.h"
#include "data.h"
#include "kernel_features.h"
#include "mir_test.h"
#include "protocol.h"

#ifndef MIR_DATA_DIR_DEFAULT
#define MIR_DATA_DIR_DEFAULT "../shared/data"
#endif

static void test_folds(void) {
    /* stratified: 3 classes of 50, 33 and 20 rows over 10 folds */
    enum { N = 103, K = 10 };
    int y[N], fold[N], fold2[N];
    for (int i = 0; i < N; i++) y[i] = i < 50 ? 0 : i < 83 ? 1 : 2;
    mir_rng r;
    mir_rng_seed(&r, 7, 0);
    CHECK_EQ_INT(mir_folds_stratified(y, N, 3, K, &r, fold), K);
    int size[K] = {0}, per[K][3] = {{0}};
    for (int i = 0; i < N; i++) {
        CHECK(fold[i] >= 0 && fold[i] < K);
        size[fold[i]]++;
        per[fold[i]][y[i]]++;
    }
    static const int total[3] = {50, 33, 20};
    for (int f = 0; f < K; f++) {
        CHECK(size[f] == 10 || size[f] == 11);
        for (int c = 0; c < 3; c++) CHECK(per[f][c] >= total[c] / K && per[f][c] <= (total[c] + K - 1) / K);
    }
    mir_rng_seed(&r, 7, 0);
    mir_folds_stratified(y, N, 3, K, &r, fold2);
    CHECK(!memcmp(fold, fold2, sizeof fold));
    mir_rng_seed(&r, 8, 0);
    mir_folds_stratified(y, N, 3, K, &r, fold2);
    CHECK(memcmp(fold, fold2, sizeof fold) != 0);

    /* grouped: 40 groups of 1..5 rows */
    int group[200], n = 0, gsize[40];
    for (int g = 0; g < 40; g++) {
        gsize[g] = 1 + (g * 7) % 5;
        for (int j = 0; j < gsize[g]; j++) group[n++] = g;
    }
    int gf[200];
    mir_rng_seed(&r, 3, 0);
    CHECK_EQ_INT(mir_folds_grouped(group, n, K, &r, gf), K);
    int gfold[40];
    for (int g = 0; g < 40; g++) gfold[g] = -1;
    int fs[K] = {0};
    for (int i = 0; i < n; i++) {
        if (gfold[group[i]] < 0) gfold[group[i]] = gf[i];
        CHECK_EQ_INT(gf[i], gfold[group[i]]); /* a group is never split */
        fs[gf[i]]++;
    }
    int mn = n, mx = 0;
    for (int f = 0; f < K; f++) {
        if (fs[f] < mn) mn = fs[f];
        if (fs[f] > mx) mx = fs[f];
    }
    CHECK(mx - mn <= 5); /* greedy largest-first: within one group's size */
    /* more folds than groups: only as many non-empty folds as groups */
    int g3[6] = {0, 0, 1, 1, 2, 2}, f3[6];
    CHECK_EQ_INT(mir_folds_grouped(g3, 6, 10, &r, f3), 3);
    /* plain k-fold */
    int rf[23], rs[4] = {0};
    CHECK_EQ_INT(mir_folds_random(23, 4, &r, rf), 4);
    for (int i = 0; i < 23; i++) rs[rf[i]]++;
    for (int f = 0; f < 4; f++) CHECK(rs[f] == 5 || rs[f] == 6);
}

static void test_metrics(void) {
    int pred[5] = {1, 1, 0, 0, 1}, y[5] = {1, 0, 0, 1, 1};
    CHECK_NEAR(mir_accuracy(pred, y, 5), 60.0, 1e-12);
    CHECK_NEAR(mir_f1_class(pred, y, 5, 1), 100.0 * 4 / 6, 1e-9);   /* tp 2, fp 1, fn 1 */
    CHECK_NEAR(mir_f1_class(pred, y, 5, 0), 50.0, 1e-9);            /* tp 1, fp 1, fn 1 */
    CHECK_NEAR(mir_f1_macro(pred, y, 5, 2), (100.0 * 4 / 6 + 50.0) / 2, 1e-9);
    CHECK_NEAR(mir_f1_macro(pred, y, 5, 3), (100.0 * 4 / 6 + 50.0) / 2, 1e-9); /* class 2 never occurs */
    int all1[3] = {1, 1, 1}, y1[3] = {1, 1, 1};
    CHECK_NEAR(mir_f1_macro(all1, y1, 3, 2), 100.0, 1e-12);
    double a[2] = {1, 4}, b[3] = {2, 8, 0.5}, c[4] = {1, 2, 3, 4}, z[2] = {1, 0};
    CHECK_NEAR(mir_geomean(a, 2), 2.0, 1e-12);
    CHECK_NEAR(mir_geomean(b, 3), 2.0, 1e-12);
    CHECK(isnan(mir_geomean(z, 2)));
    CHECK_NEAR(mir_mean(c, 4), 2.5, 1e-12);
    CHECK_NEAR(mir_stddev(c, 4), sqrt(5.0 / 3.0), 1e-12);
    CHECK_NEAR(mir_stddev(c, 1), 0.0, 0);
    float p[4] = {0.1f, 0.5f, 0.3f, 0.1f};
    uint8_t allow[4] = {1, 0, 1, 1};
    CHECK_EQ_INT(mir_argmax_allowed(p, NULL, 4), 1);
    CHECK_EQ_INT(mir_argmax_allowed(p, allow, 4), 2);
    uint8_t none[4] = {0};
    CHECK_EQ_INT(mir_argmax_allowed(p, none, 4), -1);
}

static void test_csv(void) {
    mir_csv c;
    mir_error err = {{0}};
    const char *text = "a,b,c\r\n1,\"x, \"\"y\"\"\nz\",3\r\n\n4,5\n";
    CHECK_FATAL(mir_csv_parse(text, "t.csv", &c, &err) == 0);
    CHECK_EQ_INT(c.n_cols, 3);
    CHECK_EQ_INT(c.n_rows, 2);
    CHECK_EQ_STR(mir_csv_cell(&c, 0, 1), "x, \"y\"\nz");
    CHECK_EQ_STR(mir_csv_cell(&c, 0, 2), "3");
    CHECK_EQ_STR(mir_csv_cell(&c, 1, 2), "");
    CHECK_EQ_INT(mir_csv_col(&c, "c"), 2);
    CHECK_EQ_INT(mir_csv_col(&c, "d"), -1);
    mir_csv_free(&c);
    CHECK(mir_csv_parse("a,b\n1,\"open\n2,3\n", "bad.csv", &c, &err) == -1);
    CHECK(strstr(err.msg, "bad.csv:2") != NULL);
    CHECK(mir_csv_parse("a\n1,2\n", "wide.csv", &c, &err) == -1);
    CHECK(strstr(err.msg, "more fields") != NULL);
}

static void write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    CHECK_FATAL(f != NULL);
    fputs(text, f);
    fclose(f);
}

static void test_devmap_rows(const char *tmp) {
    char cand[3][512], s[64];
    /* the rule on the published names */
    mir_devmap_candidates("npb-3.3-BT-compute_rhs1", "B", cand);
    CHECK_EQ_STR(cand[0], "npb-3.3-BT-compute_rhs1-B.ll");
    CHECK_EQ_STR(cand[1], "npb-3.3-BT-compute_rhs1.ll");
    CHECK_EQ_STR(cand[2], "npb-3.3-BT-compute_rhs1_B.ll");
    mir_devmap_suite("npb-3.3-BT-compute_rhs1", s, sizeof s);
    CHECK_EQ_STR(s, "npb-3.3");
    mir_devmap_suite("amd-app-sdk-3.0-BinomialOption-binomial_options", s, sizeof s);
    CHECK_EQ_STR(s, "amd-app-sdk-3.0");
    mir_devmap_suite("polybench-gpu-1.0-2mm-mm2_kernel1", s, sizeof s);
    CHECK_EQ_STR(s, "polybench-gpu-1.0");
    mir_devmap_suite("shoc-1.1.5-FFT-fft1D_512", s, sizeof s);
    CHECK_EQ_STR(s, "shoc-1.1.5");

    /* a hand-made data set: 4 rows, the three file-name forms */
    char dir[512], kdir[600], p[700];
    snprintf(dir, sizeof dir, "%s/data", tmp);
    snprintf(p, sizeof p, "%s/devmap", dir);
    mkdir(dir, 0777);
    mkdir(p, 0777);
    snprintf(kdir, sizeof kdir, "%s/kernels_ir", tmp);
    mkdir(kdir, 0777);
    static const char *const files[] = {"a-1.0-X-k1-big.ll", "a-1.0-X-k2.ll", "b-2-Y-k3_S.ll", "b-2-Y-k3_W.ll"};
    for (int i = 0; i < 4; i++) {
        snprintf(p, sizeof p, "%s/%s", kdir, files[i]);
        write_file(p, "");
    }
    const char *hdr = ",benchmark,dataset,comp,transfer,wgsize,oracle,runtime_cpu,runtime_gpu,src\n";
    char amd[2048], nv[2048];
    snprintf(amd, sizeof amd, "%s0,a-1.0-X-k1,big,1,100,64,GPU,4.0,1.0,\"kernel void A() {\n}\"\n"
             "1,a-1.0-X-k2,default,1,200,32,CPU,1.0,2.0,x\n2,b-2-Y-k3,S,1,10,8,CPU,3.0,3.0,y\n"
             "3,b-2-Y-k3,W,1,20,8,GPU,5.0,2.5,z\n", hdr);
    snprintf(nv, sizeof nv, "%s0,a-1.0-X-k1,big,1,100,64,GPU,4.0,2.0,s\n1,a-1.0-X-k2,default,1,200,32,CPU,1.0,8.0,x\n"
             "2,b-2-Y-k3,S,1,10,8,GPU,3.0,1.5,y\n3,b-2-Y-k3,W,1,20,8,CPU,1.0,4.0,z\n", hdr);
    snprintf(p, sizeof p, "%s/devmap/cgo17-amd.csv", dir);
    write_file(p, amd);
    snprintf(p, sizeof p, "%s/devmap/cgo17-nvidia.csv", dir);
    write_file(p, nv);
    mir_devmap d;
    mir_error err = {{0}};
    int rc = mir_devmap_load(&d, dir, kdir, 0, &err);
    if (rc) fprintf(stderr, "%s\n", err.msg);
    CHECK_FATAL(rc == 0);
    CHECK_EQ_INT(d.n, 4);
    CHECK_EQ_INT(d.n_kernels, 4);
    CHECK_EQ_INT(d.n_groups, 3);
    CHECK_EQ_INT(d.n_suites, 2);
    for (int j = 0; j < 4; j++) CHECK(strstr(d.kernel_file[d.kernel[j]], files[j]) != NULL);
    CHECK_EQ_INT(d.group[2], d.group[3]);
    CHECK(d.group[0] != d.group[1]);
    CHECK_EQ_STR(d.suite_name[d.suite[0]], "a-1.0");
    CHECK_EQ_STR(d.suite_name[d.suite[3]], "b-2");
    CHECK_EQ_INT(d.label[MIR_DEVMAP_AMD][0], MIR_GPU);
    CHECK_EQ_INT(d.label[MIR_DEVMAP_AMD][2], MIR_CPU); /* a tie is CPU: GPU only when strictly faster */
    CHECK_EQ_INT(d.label[MIR_DEVMAP_NVIDIA][3], MIR_CPU);
    /* speedup over static: CPU on AMD, GPU on NVIDIA */
    CHECK_NEAR(mir_devmap_speedup(&d, MIR_DEVMAP_AMD, 0, MIR_GPU), 4.0, 1e-12);
    CHECK_NEAR(mir_devmap_speedup(&d, MIR_DEVMAP_AMD, 1, MIR_GPU), 0.5, 1e-12);
    CHECK_NEAR(mir_devmap_speedup(&d, MIR_DEVMAP_AMD, 1, MIR_CPU), 1.0, 1e-12);
    CHECK_NEAR(mir_devmap_speedup(&d, MIR_DEVMAP_NVIDIA, 1, MIR_CPU), 8.0, 1e-12);
    CHECK_NEAR(mir_devmap_speedup(&d, MIR_DEVMAP_NVIDIA, 2, MIR_GPU), 1.0, 1e-12);
    /* oracle on NVIDIA: rows 0..3 best = GPU, CPU, GPU, CPU -> speedups 1, 8, 1, 4: mean 3.5, geomean 8^(1/4)*... */
    double sp[4];
    for (int j = 0; j < 4; j++) sp[j] = mir_devmap_speedup(&d, MIR_DEVMAP_NVIDIA, j, d.label[MIR_DEVMAP_NVIDIA][j]);
    CHECK_NEAR(mir_mean(sp, 4), 3.5, 1e-12);
    CHECK_NEAR(mir_geomean(sp, 4), pow(32.0, 0.25), 1e-12);
    CHECK_NEAR(d.transfer[MIR_DEVMAP_AMD][1], 200, 0);
    mir_devmap_free(&d);
    /* --limit keeps rows spread over the set */
    CHECK_FATAL(mir_devmap_load(&d, dir, kdir, 2, &err) == 0);
    CHECK_EQ_INT(d.n, 2);
    CHECK_EQ_INT(d.csv_row[0], 0);
    CHECK_EQ_INT(d.csv_row[1], 2);
    mir_devmap_free(&d);
    /* a missing file is named */
    snprintf(p, sizeof p, "%s/%s", kdir, files[1]);
    unlink(p);
    CHECK(mir_devmap_load(&d, dir, kdir, 0, &err) == -1);
    CHECK(strstr(err.msg, "a-1.0-X-k2.ll") != NULL && strstr(err.msg, "row 2") != NULL);

    /* the published CSVs against the names in the published zip (empty files with its names) */
    char zip[1024], cmd[2600], real_k[700];
    snprintf(zip, sizeof zip, "%s/devmap/task_devmap.zip", MIR_DATA_DIR_DEFAULT);
    snprintf(p, sizeof p, "%s/devmap/cgo17-amd.csv", MIR_DATA_DIR_DEFAULT);
    if (access(zip, R_OK) || access(p, R_OK)) {
        printf("test_analysis: %s not found: the published-names check is skipped\n", zip);
        return;
    }
    snprintf(real_k, sizeof real_k, "%s/real", tmp);
    mkdir(real_k, 0777);
    snprintf(cmd, sizeof cmd, "cd '%s' && unzip -Z1 '%s' 'kernels_ir/*.ll' | while read -r f; do : > \"$(basename \"$f\")\"; done",
             real_k, zip);
    CHECK_FATAL(system(cmd) == 0);
    rc = mir_devmap_load(&d, MIR_DATA_DIR_DEFAULT, real_k, 0, &err);
    if (rc) fprintf(stderr, "%s\n", err.msg);
    CHECK_FATAL(rc == 0);
    CHECK_EQ_INT(d.n, 680);
    CHECK_EQ_INT(d.n_kernels, 669);
    CHECK_EQ_INT(d.n_groups, 256);
    CHECK_EQ_INT(d.n_suites, 7);
    int gpu[2] = {0, 0};
    for (int j = 0; j < d.n; j++)
        for (int q = 0; q < 2; q++) gpu[q] += d.label[q][j];
    CHECK_EQ_INT(gpu[MIR_DEVMAP_AMD], 280);    /* data README: AMD CPU 400 / GPU 280 */
    CHECK_EQ_INT(gpu[MIR_DEVMAP_NVIDIA], 387); /* NVIDIA GPU 387 / CPU 293 */
    mir_devmap_free(&d);
}

static void test_opcodes(void) {
    const char *ir =
        "define i32 @f(i32 %a, i32 %b) {\n"
        "entry:\n"
        "  %c = add i32 %a, %b\n"
        "  %d = mul i32 %c, %c\n"
        "  %e = add i32 %d, 1\n"
        "  %p = icmp sgt i32 %e, 0\n"
        "  br i1 %p, label %x, label %y\n"
        "x:\n"
        "  %r = call i32 @g(i32 %e)\n"
        "  ret i32 %r\n"
        "y:\n"
        "  ret i32 0\n"
        "}\n"
        "declare i32 @g(i32)\n";
    double n[MIR_N_OPCODES];
    mir_error err = {{0}};
    CHECK_FATAL(mir_opcode_counts_text(ir, "hand.ll", n, &err) == 0);
    double total = 0;
    for (int k = 0; k < MIR_N_OPCODES; k++) total += n[k];
    CHECK_NEAR(total, 8, 0);
    CHECK_NEAR(n[LLVMAdd], 2, 0);
    CHECK_NEAR(n[LLVMMul], 1, 0);
    CHECK_NEAR(n[LLVMICmp], 1, 0);
    CHECK_NEAR(n[LLVMBr], 1, 0);
    CHECK_NEAR(n[LLVMCall], 1, 0);
    CHECK_NEAR(n[LLVMRet], 2, 0);
    float share[MIR_N_OPCODES];
    mir_opcode_shares(n, share);
    CHECK_NEAR(share[LLVMAdd], 2.0 / 8, 1e-7);
    CHECK_NEAR(share[LLVMRet], 2.0 / 8, 1e-7);
    CHECK_NEAR(share[LLVMMul], 1.0 / 8, 1e-7);
    CHECK_NEAR(share[LLVMStore], 0, 0);
    double none[MIR_N_OPCODES] = {0};
    mir_opcode_shares(none, share);
    CHECK_NEAR(share[LLVMAdd], 0, 0); /* no instructions: zeros, not NaN */
    char buf[32];
    CHECK_EQ_STR(mir_opcode_slot_name(LLVMGetElementPtr, buf, sizeof buf), "getelementptr");
    CHECK_EQ_STR(mir_opcode_slot_name(0, buf, sizeof buf), "op0");
    CHECK(mir_opcode_counts_text("garbage", "bad.ll", n, &err) == -1);
    CHECK(strstr(err.msg, "bad.ll") != NULL);
}

/* ---- classifiers and the CV engine on synthetic data ---- */
static double score_acc(void *ctx, const int *rows, const int *pred, int m) {
    const int *y = ctx;
    int ok = 0;
    for (int i = 0; i < m; i++) ok += pred[i] == y[rows[i]];
    return m ? (double)ok / m : 0;
}

static void test_classifiers(void) {
    enum { N = 160, D = 6 };
    float X[N * D];
    int y[N], ys[N], fold[N], group[N];
    mir_rng r;
    mir_rng_seed(&r, 11, 0);
    for (int i = 0; i < N; i++) {
        for (int j = 0; j < D; j++) X[i * D + j] = (float)mir_rng_normal(&r);
        y[i] = X[i * D] + 0.5f * X[i * D + 1] > 0.3f; /* separable by a line */
        X[i * D] += y[i] ? 0.4f : -0.4f;              /* with a margin */
        ys[i] = y[i];
        group[i] = i / 4;
    }
    int n1 = 0;
    for (int i = 0; i < N; i++) n1 += y[i];
    double majority = 100.0 * (n1 > N - n1 ? n1 : N - n1) / N;
    mir_clf_params p;
    mir_clf_params_default(&p);
    mir_rng_seed(&r, 5, 0);
    mir_folds_stratified(y, N, 2, 5, &r, fold);
    int *pred[3];
    for (int v = 0; v < 3; v++) pred[v] = malloc(N * sizeof(int));
    int chosen[5];
    int64_t fits[MIR_CLF_N] = {0}, rows[MIR_CLF_N] = {0};
    mir_error err = {{0}};
    mir_cv_task t = {N, D, 2, X, y, group, NULL, score_acc, y, MIR_INNER_STRATIFIED, 3, &p, NULL, 0, 0};
    CHECK_FATAL(mir_cv_run(&t, fold, 5, 1, pred, chosen, fits, rows, &err) == 0);
    for (int k = 0; k < MIR_CLF_N; k++) {
        CHECK_EQ_INT(fits[k], 5 * (3 + 1));
        CHECK_EQ_INT(rows[k], 5 * N); /* per outer fold: every training row once (inner) and the test rows */
    }
    for (int v = 0; v < 3; v++) {
        double a = mir_accuracy(pred[v], y, N);
        printf("separable, %s: %.1f %%\n", v < 2 ? mir_clf_name(v) : "selected", a);
        CHECK(a >= 95.0);
    }
    for (int f = 0; f < 5; f++) CHECK(chosen[f] == MIR_CLF_XGB || chosen[f] == MIR_CLF_MLP);
    /* deterministic */
    int *again[3];
    for (int v = 0; v < 3; v++) again[v] = malloc(N * sizeof(int));
    CHECK_FATAL(mir_cv_run(&t, fold, 5, 1, again, chosen, NULL, NULL, &err) == 0);
    for (int v = 0; v < 3; v++) CHECK(!memcmp(pred[v], again[v], N * sizeof(int)));
    /* shuffled labels: nothing to learn, accuracy near the majority rate (or below) */
    mir_shuffle_int(ys, N, &r);
    t.y = ys;
    t.ctx = ys;
    t.inner = MIR_INNER_GROUPED;
    mir_folds_grouped(group, N, 5, &r, fold);
    CHECK_FATAL(mir_cv_run(&t, fold, 5, 2, pred, chosen, NULL, NULL, &err) == 0);
    for (int v = 0; v < 3; v++) {
        double a = mir_accuracy(pred[v], ys, N);
        printf("shuffled labels, %s: %.1f %% (majority %.1f %%)\n", v < 2 ? mir_clf_name(v) : "selected", a, majority);
        CHECK(a <= majority + 12.0 && a >= 25.0);
    }
    /* multi-class with allowed classes: a row is only ever predicted as an allowed class */
    int y4[N];
    uint8_t allowed[N * 4];
    for (int i = 0; i < N; i++) {
        y4[i] = (X[i * D] > 0) * 2 + (X[i * D + 2] > 0);
        for (int c = 0; c < 4; c++) allowed[i * 4 + c] = c != (i % 4) || c == y4[i];
    }
    mir_cv_task t4 = {N, D, 4, X, y4, NULL, allowed, score_acc, y4, MIR_INNER_RANDOM, 3, &p, NULL, 0, 0};
    for (int i = 0; i < N; i++) fold[i] = i % 4;
    CHECK_FATAL(mir_cv_run(&t4, fold, 4, 3, pred, chosen, NULL, NULL, &err) == 0);
    int ok = 1;
    for (int v = 0; v < 3; v++)
        for (int i = 0; i < N; i++) ok &= allowed[i * 4 + pred[v][i]];
    CHECK(ok);
    CHECK(mir_accuracy(pred[MIR_CLF_N], y4, N) >= 80.0);
    /* errors come back, nothing exits */
    int bad[2] = {0, 5};
    float pr[4];
    CHECK(mir_clf_fit_predict(MIR_CLF_XGB, &p, X, bad, 2, D, 2, X, 1, 1, pr, NULL, &err) == -1);
    CHECK(strstr(err.msg, "label 5") != NULL);
    for (int v = 0; v < 3; v++) { free(pred[v]); free(again[v]); }
}

int main(void) {
    char tmp[] = "/tmp/mir-test-analysis.XXXXXX";
    CHECK_FATAL(mkdtemp(tmp) != NULL);
    test_folds();
    test_metrics();
    test_csv();
    test_devmap_rows(tmp);
    test_opcodes();
    test_classifiers();
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    if (system(cmd)) {}
    return mir_test_finish("test_analysis");
}
