/* kernel_features.c: opcode counts and embeddings of kernel files, shared out over MPI ranks (see kernel_features.h). */
#include "kernel_features.h"

#include <stdlib.h>
#include <string.h>

#include "embed.h"
#include "irmodule.h"
#include "probe.h"
#include "wordpiece.h"
#include "worker.h"

/* IR text or bitcode of `bytes` bytes, NUL-terminated (mir_parse_ir): bitcode holds NULs, so its length
 * cannot come from strlen. */
static int opcode_counts_buffer(const char *data, size_t bytes, const char *name, double *counts, mir_error *err) {
    memset(counts, 0, MIR_N_OPCODES * sizeof *counts);
    LLVMContextRef ctx = LLVMContextCreate();
    LLVMModuleRef m = NULL;
    int rc = mir_parse_ir(ctx, data, bytes, name, &m, err);
    if (!rc) {
        for (LLVMValueRef f = LLVMGetFirstFunction(m); f; f = LLVMGetNextFunction(f))
            for (LLVMBasicBlockRef b = LLVMGetFirstBasicBlock(f); b; b = LLVMGetNextBasicBlock(b))
                for (LLVMValueRef i = LLVMGetFirstInstruction(b); i; i = LLVMGetNextInstruction(i)) {
                    int op = (int)LLVMGetInstructionOpcode(i);
                    if (op >= 0 && op < MIR_N_OPCODES) counts[op] += 1;
                }
        LLVMDisposeModule(m);
    }
    LLVMContextDispose(ctx);
    return rc;
}

int mir_opcode_counts_text(const char *text, const char *name, double *counts, mir_error *err) {
    return opcode_counts_buffer(text, strlen(text), name, counts, err);
}

/* The worker's job (worker.h): the opcode counts of one file's bytes, as MIR_N_OPCODES doubles. */
static int opcode_job(void *arg, const char *name, const char *data, size_t bytes, mir_wbuf *reply, int *status,
                      mir_error *err) {
    (void)arg;
    double counts[MIR_N_OPCODES];
    if (opcode_counts_buffer(data, bytes, name, counts, err)) {
        *status = 1;
        return -1;
    }
    mir_wbuf_put(reply, counts, sizeof counts);
    return 0;
}

/* A file read and handed to the worker ahead of its turn (worker.h: pipelining), or its reading's failure. */
typedef struct staged_file {
    int rc;
    mir_error err;
} staged_file;

static void stage_file(mir_worker *w, const char *path, staged_file *sf) {
    char *data = NULL;
    size_t n = 0;
    sf->err.msg[0] = '\0';
    sf->rc = mir_read_file(path, &data, &n, &sf->err);
    if (!sf->rc) mir_worker_submit(w, path, data, n);
    free(data);
}

/* The opcode counts of the oldest file submitted: a file that crashes LLVM's reader fails alone (issue 17). */
static int opcode_counts_collect(mir_worker *w, const staged_file *sf, const char *path, double *counts,
                                 mir_error *err) {
    memset(counts, 0, MIR_N_OPCODES * sizeof *counts);
    if (sf->rc) {
        *err = sf->err;
        return -1;
    }
    int status = 0;
    if (mir_worker_collect(w, mir_worker_reply_buffer(w), &status, err) != MIR_WORKER_OK) return -1;
    const mir_wbuf *r = mir_worker_reply_buffer(w);
    if (r->n != MIR_N_OPCODES * sizeof *counts) return mir_fail(err, "%s: the worker's reply has %zu bytes", path, r->n);
    memcpy(counts, r->p, r->n);
    return 0;
}

const char *mir_opcode_slot_name(int k, char *buf, size_t cap) {
    const char *s = mir_opcode_name((LLVMOpcode)k);
    if (s && *s && strcmp(s, "unknown")) snprintf(buf, cap, "%s", s);
    else snprintf(buf, cap, "op%d", k);
    return buf;
}

int mir_opcode_counts_mpi(char *const *files, int n_files, double *out, uint8_t *ok, MPI_Comm comm,
                          struct mir_probe *probe, int phase) {
    int rank, size;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    memset(out, 0, (size_t)n_files * MIR_N_OPCODES * sizeof *out);
    memset(ok, 0, (size_t)n_files);
    if (probe) mir_probe_begin(probe, phase);
    mir_worker *w = mir_worker_create(opcode_job, NULL, NULL); /* untrusted IR: parsed in a supervised child */
    staged_file sf[2]; /* the k-th file of this rank in sf[k % 2]: the next one is in the child meanwhile */
    if (rank < n_files) stage_file(w, files[rank], &sf[0]);
    for (int i = rank, k = 0; i < n_files; i += size, k++) {
        mir_error err = {{0}};
        if (i + size < n_files) stage_file(w, files[i + size], &sf[(k + 1) % 2]);
        if (opcode_counts_collect(w, &sf[k % 2], files[i], out + (size_t)i * MIR_N_OPCODES, &err))
            mir_log(MIR_LOG_WARN, "opcode counts: %s", err.msg);
        else
            ok[i] = 1;
    }
    mir_worker_free(w);
    if (probe) mir_probe_end(probe, phase);
    MPI_Allreduce(MPI_IN_PLACE, out, n_files * MIR_N_OPCODES, MPI_DOUBLE, MPI_SUM, comm);
    MPI_Allreduce(MPI_IN_PLACE, ok, n_files, MPI_UINT8_T, MPI_SUM, comm);
    int failed = 0;
    for (int i = 0; i < n_files; i++) failed += !ok[i];
    return failed;
}

int mir_embed_files_mpi(const mir_model *m, char *const *files, int n_files, float *out, uint8_t *ok, MPI_Comm comm,
                        struct mir_probe *probe, int phase) {
    int rank, size;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    const size_t D = mir_embedding_dim(m);
    memset(out, 0, (size_t)n_files * D * sizeof *out);
    memset(ok, 0, (size_t)n_files);
    mir_worker *w = mir_embed_worker_create(m, NULL); /* untrusted IR: parsed in a supervised child (issue 17) */
    staged_file sf[2]; /* the k-th file of this rank in sf[k % 2]: the next one is in the child meanwhile */
    if (probe) mir_probe_begin(probe, phase);
    if (rank < n_files) stage_file(w, files[rank], &sf[0]);
    if (probe) mir_probe_end(probe, phase);
    for (int i = rank, k = 0; i < n_files; i += size, k++) {
        mir_error err = {{0}};
        int st = 0, rc = -1;
        if (probe) mir_probe_begin(probe, phase);
        if (i + size < n_files) stage_file(w, files[i + size], &sf[(k + 1) % 2]);
        if (sf[k % 2].rc)
            err = sf[k % 2].err;
        else
            rc = mir_embed_collect(w, m, files[i], out + (size_t)i * D, &st, &err);
        if (probe) mir_probe_end(probe, phase);
        if (rc) {
            memset(out + (size_t)i * D, 0, D * sizeof *out);
            mir_log(MIR_LOG_WARN, "embedding: %s", err.msg);
        } else {
            ok[i] = 1;
        }
    }
    mir_worker_free(w);
    MPI_Allreduce(MPI_IN_PLACE, out, (int)((size_t)n_files * D), MPI_FLOAT, MPI_SUM, comm);
    MPI_Allreduce(MPI_IN_PLACE, ok, n_files, MPI_UINT8_T, MPI_SUM, comm);
    int failed = 0;
    for (int i = 0; i < n_files; i++) failed += !ok[i];
    return failed;
}

void mir_opcode_shares(const double *counts, float *out) {
    double total = 0;
    for (int k = 0; k < MIR_N_OPCODES; k++) total += counts[k];
    for (int k = 0; k < MIR_N_OPCODES; k++) out[k] = total > 0 ? (float)(counts[k] / total) : 0.0f;
}
