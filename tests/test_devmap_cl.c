/*
 * test_devmap_cl.c: the row -> OpenCL source and -D flags rule of mir-analyze devmap --kernels-from cl
 * (analysis/devmap_cl.h), on hand-picked rows: NPB's CLASS follows the dataset, the per-class BT sources and
 * the SP prototype variant come first, the work-group constants reach the benchmarks that need them and no
 * other; cache names tell the classes apart. When the real data is present: every one of the 680 rows finds
 * a source in task_devmap_kernels.zip, and they make 669 distinct (source, flags) kernels.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "data.h"
#include "devmap_cl.h"
#include "mir_test.h"

#ifndef MIR_DATA_DIR_DEFAULT
#define MIR_DATA_DIR_DEFAULT "../shared/data"
#endif

static const char *source_of(const mir_devmap_cl_rule *r, const char *dir) {
    static char path[4800];
    for (int c = 0; c < r->n_cand; c++) {
        snprintf(path, sizeof path, "%s/%s", dir, r->cand[c]);
        if (access(path, R_OK) == 0) return r->cand[c];
    }
    return NULL;
}

static void test_rule(void) {
    mir_devmap_cl_rule r;
    char name[1024];
    /* NPB CG: the class from the dataset, NPB's work-group size */
    mir_devmap_cl_rule_of("npb-3.3-CG-main_0", "B", &r);
    CHECK_EQ_INT(r.n_cand, 2);
    CHECK_EQ_STR(r.cand[0], "npb-3.3-CG-main_0_B.cl");
    CHECK_EQ_STR(r.cand[1], "npb-3.3-CG-main_0.cl");
    CHECK_EQ_INT(r.n_def, 2);
    CHECK_EQ_STR(r.def[0], "-DCLASS='B'");
    CHECK_EQ_STR(r.def[1], "-DLSIZE=64");
    mir_devmap_cl_cache_name(r.cand[1], &r, name, sizeof name);
    CHECK_EQ_STR(name, "npb-3.3-CG-main_0.CLASS-B.LSIZE-64.bc");
    char other[1024];
    mir_devmap_cl_rule_of("npb-3.3-CG-main_0", "S", &r);
    mir_devmap_cl_cache_name(r.cand[1], &r, other, sizeof other);
    CHECK(strcmp(name, other) != 0); /* two classes, two kernels */
    /* NPB BT: the per-class source first */
    mir_devmap_cl_rule_of("npb-3.3-BT-add", "W", &r);
    CHECK_EQ_STR(r.cand[0], "npb-3.3-BT-add_W.cl");
    CHECK_EQ_INT(r.n_def, 1);
    CHECK_EQ_STR(r.def[0], "-DCLASS='W'");
    /* NPB SP: the variant with the prototypes before the later one */
    mir_devmap_cl_rule_of("npb-3.3-SP-initialize2", "C", &r);
    CHECK_EQ_INT(r.n_cand, 3);
    CHECK_EQ_STR(r.cand[1], "npb-3.3npb-SP-initialize2.cl");
    CHECK_EQ_STR(r.cand[2], "npb-3.3-SP-initialize2.cl");
    CHECK_EQ_STR(r.def[0], "-DCLASS='C'");
    /* the work-group constants of the host programs */
    mir_devmap_cl_rule_of("nvidia-4.2-FDTD3d-FiniteDifferences", "default", &r);
    CHECK_EQ_INT(r.n_def, 3);
    CHECK_EQ_STR(r.def[0], "-DRADIUS=4");
    CHECK_EQ_STR(r.def[2], "-DMAXWORKY=16");
    mir_devmap_cl_rule_of("shoc-1.1.5-Stencil2D-StencilKernel", "default", &r);
    CHECK_EQ_INT(r.n_def, 2);
    CHECK_EQ_STR(r.def[0], "-DLROWS=8");
    mir_devmap_cl_rule_of("rodinia-3.1-hotspot-hotspot", "default", &r);
    CHECK_EQ_INT(r.n_def, 1);
    CHECK_EQ_STR(r.def[0], "-DBLOCK_SIZE=16");
    mir_devmap_cl_rule_of("shoc-1.1.5-S3D-ratt_kernel", "default", &r);
    CHECK_EQ_STR(r.def[0], "-DN_GP=1024");
    /* no flags, no class outside NPB: one kernel for every dataset of the benchmark */
    mir_devmap_cl_rule_of("parboil-0.2-spmv-A", "large", &r);
    CHECK_EQ_INT(r.n_def, 0);
    CHECK_EQ_STR(r.cand[r.n_cand - 1], "parboil-0.2-spmv-A.cl");
    mir_devmap_cl_cache_name(r.cand[r.n_cand - 1], &r, name, sizeof name);
    CHECK_EQ_STR(name, "parboil-0.2-spmv-A.bc");
    mir_devmap_cl_rule_of("rodinia-3.1-pathfinder-dynproc_kernel", "default", &r);
    CHECK_EQ_INT(r.n_def, 0);
}

/* all 680 rows of the published CSVs against the sources of task_devmap_kernels.zip */
static void test_real_rows(const char *tmp) {
    const char *data = getenv("MIR_DATA_DIR") && *getenv("MIR_DATA_DIR") ? getenv("MIR_DATA_DIR") : MIR_DATA_DIR_DEFAULT;
    char zip[2048], cmd[4400], dir[2100];
    snprintf(zip, sizeof zip, "%s/devmap/task_devmap_kernels.zip", data);
    if (access(zip, R_OK)) {
        printf("test_devmap_cl: %s missing: the real rows are not checked\n", zip);
        return;
    }
    snprintf(cmd, sizeof cmd, "unzip -q -o '%s' -d '%s' -x '__MACOSX/*'", zip, tmp);
    CHECK_FATAL(system(cmd) == 0);
    snprintf(dir, sizeof dir, "%s/kernels_cl", tmp);
    mir_devmap d;
    mir_error err = {{0}};
    CHECK_FATAL(mir_devmap_load(&d, data, NULL, 0, &err) == 0);
    CHECK_EQ_INT(d.n, 680);
    CHECK_EQ_INT(d.n_kernels, 0); /* no kernels_dir: no files yet */
    int found = 0, sp_proto = 0, bt_class = 0;
    for (int j = 0; j < d.n; j++) {
        mir_devmap_cl_rule r;
        mir_devmap_cl_rule_of(d.benchmark[j], d.dataset[j], &r);
        const char *src = source_of(&r, dir);
        if (!src) {
            fprintf(stderr, "no source for %s %s\n", d.benchmark[j], d.dataset[j]);
            continue;
        }
        found++;
        sp_proto += !strncmp(src, "npb-3.3npb-SP-", 14);
        bt_class += !strncmp(d.benchmark[j], "npb-3.3-BT-", 11) && !strcmp(src, r.cand[0]);
        char name[1024];
        mir_devmap_cl_cache_name(src, &r, name, sizeof name);
        mir_devmap_set_kernel(&d, j, name);
    }
    CHECK_EQ_INT(found, 680);
    CHECK_EQ_INT(d.n_kernels, 669); /* the NPB classes apart, the other benchmarks' datasets together */
    CHECK_EQ_INT(sp_proto, 12 * 5); /* initialize2..5, ninvr, pinvr, rhs_norm, txinvr, tzetar, x/y/z_solve */
    CHECK_EQ_INT(bt_class, 7 * 4);  /* add, compute_rhs1..6 at S, W, A, B */
    mir_devmap_free(&d);
}

int main(void) {
    char tmp[] = "/tmp/mir-test-devmap-cl.XXXXXX";
    CHECK_FATAL(mkdtemp(tmp) != NULL);
    test_rule();
    test_real_rows(tmp);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    if (system(cmd)) {}
    return mir_test_finish("test_devmap_cl");
}
