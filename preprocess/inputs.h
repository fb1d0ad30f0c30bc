/*
 * inputs.h: turn command-line INPUTs into the sorted list of modules, and deal them to ranks.
 * An INPUT is a file, a directory (searched recursively for known extensions) or @list.txt (one INPUT per
 * line; blank lines and lines starting with '#' ignored; relative paths are taken relative to the current
 * directory). A path that does not exist is kept, so that it is reported as a failed module.
 */
#ifndef MIR_INPUTS_H
#define MIR_INPUTS_H

#include <stdint.h>

#include "mir_common.h"

typedef enum { MIR_SRC_IR = 0, MIR_SRC_C, MIR_SRC_CXX, MIR_SRC_OPENCL, MIR_SRC_CUDA } mir_source_lang;

typedef struct mir_input {
    char *path;
    int64_t bytes;   /* file size, -1 if it cannot be stat'ed */
    int lang;        /* mir_source_lang, from the extension */
    char opt;        /* clang level for this module ('0'..'3', 's', 'z'), or 0: the run's single level */
} mir_input;

typedef struct mir_input_list {
    mir_input *items;
    size_t n, cap;
} mir_input_list;

/* Language of a path by extension: .ll/.bc (and anything unknown) -> IR; .c; .cc/.cpp/.cxx/.C; .cl; .cu. */
mir_source_lang mir_source_lang_of(const char *path);
/* 1 if a directory walk should pick this file: .ll/.bc always, sources only when compile is set. */
int mir_input_wanted(const char *path, int compile);

/* Expand args into list (sorted by path, duplicates removed). Returns 0, or -1 if an @list is unreadable. */
int mir_inputs_expand(char *const *args, int n_args, int compile, mir_input_list *list, mir_error *err);
void mir_inputs_free(mir_input_list *list);

/* --opt-levels: replace every source (lang != MIR_SRC_IR) by one item per level, in the order of levels
 * (e.g. "02": the -O0 item, then the -O2 item, next to each other), each with its opt set; IR items stay
 * one each, opt 0. The list keeps its path order, so the result depends only on the list and levels. */
void mir_inputs_at_levels(mir_input_list *list, const char *levels);

/* Deal n items of the given sizes to nranks ranks, largest first, each to the rank with the least work
 * so far (ties: lowest rank). owner[i] receives the rank of item i. Deterministic. */
void mir_deal_by_size(const int64_t *bytes, size_t n, int nranks, int *owner);

#endif
