/*
 * test_capi: the public C API (include/mir/mir.h) from several threads at once.
 *   test_capi MODEL.h5 EMBEDDINGS.h5 FILE...
 * Embeds each FILE sequentially and again from 4 threads at the same time, and checks that (1) the
 * threaded results equal the sequential ones bit for bit, (2) they equal the rows mir-infer wrote for the
 * same files in EMBEDDINGS.h5, (3) mir_embed_module on a module the caller parsed gives the same vector
 * and leaves the caller's module untouched, (4) errors come back as messages, not exits.
 */
#include <hdf5.h>
#include <llvm-c/IRReader.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "mir/mir.h"
#include "mir_test.h"

typedef struct job {
    const mir_model *m;
    char **files;
    int n, first, stride;
    float *out; /* (n, D) */
    size_t D;
    int failures;
} job;

static void *worker(void *arg) {
    job *j = arg;
    for (int rep = 0; rep < 3; rep++)
        for (int i = j->first; i < j->n; i += j->stride) {
            mir_error err;
            if (mir_embed_file(j->m, j->files[i], j->out + (size_t)i * j->D, &err) != 0) j->failures++;
        }
    return NULL;
}

static float *read_embeddings(const char *path, char **files, int n, size_t D) {
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    CHECK_FATAL(f >= 0);
    hid_t dn = H5Dopen2(f, "/names", H5P_DEFAULT), t = H5Dget_type(dn);
    size_t w = H5Tget_size(t);
    hid_t sp = H5Dget_space(dn);
    hsize_t rows;
    H5Sget_simple_extent_dims(sp, &rows, NULL);
    char *names = calloc(rows, w + 1);
    hid_t mt = H5Tcopy(H5T_C_S1);
    H5Tset_size(mt, w + 1);
    H5Dread(dn, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, names);
    float *all = malloc(rows * D * sizeof *all), *out = calloc((size_t)n * D, sizeof *out);
    hid_t de = H5Dopen2(f, "/embeddings", H5P_DEFAULT);
    H5Dread(de, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, all);
    for (int i = 0; i < n; i++) {
        int found = 0;
        for (hsize_t r = 0; r < rows; r++)
            if (!strcmp(names + r * (w + 1), files[i])) {
                memcpy(out + (size_t)i * D, all + r * D, D * sizeof *out);
                found = 1;
            }
        CHECK(found);
    }
    H5Tclose(mt);
    H5Tclose(t);
    H5Sclose(sp);
    H5Dclose(dn);
    H5Dclose(de);
    H5Fclose(f);
    free(names);
    free(all);
    return out;
}

int main(int argc, char **argv) {
    CHECK_FATAL(argc >= 4);
    mir_error err;
    CHECK(mir_model_load("/nonexistent/model.h5", &err) == NULL && strstr(err.msg, "/nonexistent/model.h5"));
    mir_model *m = mir_model_load(argv[1], &err);
    if (!m) fprintf(stderr, "%s\n", err.msg);
    CHECK_FATAL(m != NULL);
    size_t D = mir_embedding_dim(m);
    CHECK(D > 0 && strlen(mir_model_hash(m)) == 16);
    char **files = argv + 3;
    int n = argc - 3;
    float *seq = calloc((size_t)n * D, sizeof *seq), *par = calloc((size_t)n * D, sizeof *par);
    for (int i = 0; i < n; i++) CHECK(mir_embed_file(m, files[i], seq + (size_t)i * D, &err) == 0);
    enum { NT = 4 };
    pthread_t th[NT];
    job jobs[NT];
    for (int t = 0; t < NT; t++) {
        /* every thread embeds every file, so threads really overlap on the same model */
        jobs[t] = (job){m, files, n, t % n, 1, calloc((size_t)n * D, sizeof(float)), D, 0};
        pthread_create(&th[t], NULL, worker, &jobs[t]);
    }
    for (int t = 0; t < NT; t++) {
        pthread_join(th[t], NULL);
        CHECK_EQ_INT(jobs[t].failures, 0);
        for (int i = jobs[t].first; i < n; i++)
            CHECK(memcmp(jobs[t].out + (size_t)i * D, seq + (size_t)i * D, D * sizeof(float)) == 0);
        free(jobs[t].out);
    }
    float *cli = read_embeddings(argv[2], files, n, D);
    double worst = 0;
    for (size_t k = 0; k < (size_t)n * D; k++) worst = fmax(worst, fabs(cli[k] - seq[k]));
    printf("C API vs mir-infer: max |difference| %.3g over %d modules x %zu\n", worst, n, D);
    CHECK(worst == 0.0);
    /* a module the caller owns: same vector, and the module is not changed */
    LLVMContextRef ctx = LLVMContextCreate();
    LLVMMemoryBufferRef buf = NULL;
    char *msg = NULL;
    CHECK_FATAL(LLVMCreateMemoryBufferWithContentsOfFile(files[0], &buf, &msg) == 0);
    LLVMModuleRef mod = NULL;
    CHECK_FATAL(LLVMParseIRInContext(ctx, buf, &mod, &msg) == 0);
    char *before = LLVMPrintModuleToString(mod);
    float *v = calloc(D, sizeof *v);
    CHECK(mir_embed_module(m, mod, v, &err) == 0);
    CHECK(memcmp(v, seq, D * sizeof *v) == 0);
    char *after = LLVMPrintModuleToString(mod);
    CHECK(strcmp(before, after) == 0);
    LLVMDisposeMessage(before);
    LLVMDisposeMessage(after);
    LLVMDisposeModule(mod);
    LLVMContextDispose(ctx);
    /* errors are returned */
    CHECK(mir_embed_file(m, "/nonexistent.ll", v, &err) == -1 && strstr(err.msg, "/nonexistent.ll"));
    CHECK(mir_embed_buffer(m, "not IR", 6, "junk.ll", v, &err) == -1 && strstr(err.msg, "junk.ll"));
    free(v);
    free(seq);
    free(par);
    free(cli);
    mir_model_free(m);
    return mir_test_finish("test_capi");
}
