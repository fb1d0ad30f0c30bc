/*
 * kernel_features.h: per-kernel features of the analyses, computed once per kernel file and shared by all rows
 * that use it.
 *
 *   opcode counts: the number of instructions of each LLVM opcode over every function of the module
 *                  (LLVMGetInstructionOpcode; MIR_N_OPCODES slots indexed by the LLVMOpcode value) —
 *                  the trivial baseline the embeddings must beat.
 *   embeddings:    mir_embed_file with the given model (infer/embed.c, the one code path), 2 x d_model
 *                  floats: the token half, then the graph half.
 *
 * The _mpi functions deal the files to the ranks of comm (file i to rank i mod size) and give every rank
 * the full matrix (one MPI_Allreduce). A file that cannot be read or parsed gives a row of zeros and
 * ok[i] = 0 with its reason logged; the result does not depend on the number of ranks.
 */
#ifndef MIR_KERNEL_FEATURES_H
#define MIR_KERNEL_FEATURES_H
#include <mpi.h>

#include "mir/mir.h"
#include "irmodule.h" /* MIR_OPCODE_MAX */
#include "mir_common.h"

#define MIR_N_OPCODES (MIR_OPCODE_MAX + 1) /* LLVMOpcode values 0..68 (LLVMFreeze = 68 in LLVM 16) */
struct mir_probe;

/* Opcode counts of IR text in memory (NUL-terminated), parsed in this process: counts (MIR_N_OPCODES)
 * overwritten. Files from elsewhere go through mir_opcode_counts_mpi, which parses in a supervised worker. */
int mir_opcode_counts_text(const char *text, const char *name, double *counts, mir_error *err);
/* Opcode shares: out[k] = counts[k] / (sum of counts), all zero for a module without instructions. The
 * size-free form of the counts (the ablation that asks whether the baseline's lead is the instruction mix or
 * the absolute counts). */
void mir_opcode_shares(const double *counts, float *out);
/* Column name of opcode slot k ("add", "getelementptr", or "op<k>" for an unused value). */
const char *mir_opcode_slot_name(int k, char *buf, size_t cap);

/* out (n_files, MIR_N_OPCODES); ok (n_files). Returns the number of files that failed. */
int mir_opcode_counts_mpi(char *const *files, int n_files, double *out, uint8_t *ok, MPI_Comm comm,
                          struct mir_probe *probe, int phase);
/* out (n_files, mir_embedding_dim(m)); ok (n_files). Returns the number of files that failed. */
int mir_embed_files_mpi(const mir_model *m, char *const *files, int n_files, float *out, uint8_t *ok, MPI_Comm comm,
                        struct mir_probe *probe, int phase);

#endif
