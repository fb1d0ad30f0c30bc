/*
 * irmodule.h: from one LLVM module (read through the LLVM-C API) to the two modalities.
 *
 *  tokens: the module's statements in program order (per defined function: its `define` header, then its
 *          instructions block by block), each printed by LLVM's own AsmWriter and normalised to words
 *          (normalize.h). Encoding words to sub-word ids happens later, once the vocabulary is known. With
 *          mir_extract_options.statement_sep each statement's words are followed by MIR_SEP_WORD ([SEP]).
 *  graph:  a ProGraML-style multigraph (docs/formats.md draws it):
 *          node 0 is the module's "[external]" root (an instruction node of no function);
 *          one instruction node per instruction (text: opcode name), then variable nodes (results of
 *          instructions, function arguments, global variables; text: their type) and constant nodes (one per
 *          distinct constant value, including constant expressions, inline asm and functions used as values;
 *          text: their type), created in first-use order while walking the instructions in program order;
 *          control edges: instruction -> next instruction in its block (position 0), terminator -> first
 *          instruction of its i-th successor (position i);
 *          data edges: instruction -> its result variable (position 0), operand value -> instruction
 *          (position = operand index; basic-block, metadata and called-function operands have none);
 *          call edges: call/invoke -> entry instruction of a defined callee and each of the callee's returns
 *          -> the call; a call to an external or indirect callee -> root and root -> the call; root -> entry
 *          instruction of every defined function and each return of it -> root. A function whose entry block
 *          is empty (invalid, but the bitcode reader does not verify) has no entry edges.
 */
#ifndef MIR_IRMODULE_H
#define MIR_IRMODULE_H

#include <llvm-c/Core.h>
#include <stdint.h>
#include <string.h>

#include "mir_common.h"
#include "normalize.h"
#include "schema.h" /* node kinds MIR_NODE_*, flows MIR_FLOW_* */

#define MIR_ROOT_TEXT "[external]"

typedef struct mir_graph {
    size_t n_nodes, n_edges;
    int8_t *node_kind;      /* (n_nodes) MIR_NODE_* */
    int32_t *node_function; /* (n_nodes) index of the defined function (definition order), -1 for root and globals */
    mir_words node_text;    /* (n_nodes) one word per node */
    int32_t *edge_src;      /* (n_edges) node index within the module */
    int32_t *edge_dst;      /* (n_edges) */
    int8_t *edge_flow;      /* (n_edges) MIR_FLOW_* */
    int32_t *edge_position; /* (n_edges) */
    size_t node_cap, edge_cap;
} mir_graph;

void mir_graph_init(mir_graph *g);
void mir_graph_clear(mir_graph *g);
void mir_graph_free(mir_graph *g);

/* Everything extracted from one module before vocabulary encoding. */
typedef struct mir_extract {
    mir_words words;         /* normalised words of all statements, in program order (a prefix of them when
                                words_cut) */
    mir_graph graph;         /* always the whole module's */
    int64_t n_functions;     /* defined functions (all of them, also when words_cut) */
    int64_t n_instructions;  /* their instructions (all of them) */
    int words_cut;           /* 1: a word limit stopped the statements before the module's last one */
} mir_extract;

void mir_extract_init(mir_extract *x);
void mir_extract_free(mir_extract *x);

/* Phases of extraction, each bracketed by the caller's probe if given (may be NULL). */
struct mir_probe;
typedef struct mir_extract_probe {
    struct mir_probe *probe;
    int phase_tokens, phase_graph;
} mir_extract_probe;

/* Parse IR (text .ll or bitcode .bc, told apart by content) from bytes at data (data[bytes] must be '\0').
 * name is used in messages. On success *out is a module owned by ctx. */
int mir_parse_ir(LLVMContextRef ctx, const char *data, size_t bytes, const char *name, LLVMModuleRef *out,
                 mir_error *err);

/* With mir_extract_options.statement_sep, the word put after every statement's words (also a statement
 * that normalises to no word): the spelling of the special token [SEP] (MIR_TOK_SEP, wordpiece.h), which
 * encodes to that one id. No normalised word spells it (brackets are words of their own, normalize.h), so
 * readers tell it apart by its text; it is not a word of the corpus (mir-preprocess neither counts it for the
 * vocabulary nor splits it into pieces). */
#define MIR_SEP_WORD "[SEP]"
static inline int mir_is_sep_word(const char *w, size_t len) {
    return len == sizeof MIR_SEP_WORD - 1 && memcmp(w, MIR_SEP_WORD, len) == 0;
}

/* How much of a module's statements to extract, and how. The zero value is the whole module as today. */
typedef struct mir_extract_options {
    int64_t max_words;      /* 0: no limit; N > 0: as mir_extract_module_limited (non-empty words; the
                               MIR_SEP_WORDs are not counted) */
    int64_t max_statements; /* 0: no limit; N > 0: the first N statements (the unit of a statement-level
                               model's windows); the graph is still whole */
    int statement_sep;      /* 1: MIR_SEP_WORD after every statement's words (mir-preprocess --statement-sep) */
} mir_extract_options;

/* Extract tokens and graph of module m into x (cleared first). Debug info is stripped from m first.
 * Returns 0, or -1 with err filled if the module's printed form does not match its instruction list. */
int mir_extract_module(LLVMModuleRef m, mir_extract *x, const mir_extract_probe *probe, mir_error *err);

/* The same with a word limit, for readers of a module's first tokens only (infer/embed.c: one window).
 * max_words = 0 is mir_extract_module (the whole module printed once, every statement normalised).
 * max_words = N > 0: the defined functions are printed one at a time (LLVMPrintValueToString) and their
 * statements normalised in program order until the words hold at least N non-empty words (every
 * non-empty word encodes to at least one sub-word token, so the first N tokens are there); the statement
 * that reaches N is finished, so the words are exactly the first words.n of the unlimited extraction.
 * Skipped when the limit is reached: the normalisation of the remaining statements, the printing of the
 * remaining functions, and for those functions the printed-statement vs instruction-count check (their
 * instructions are still counted through the API). The graph is always built whole. x->words_cut says
 * whether anything was skipped. */
int mir_extract_module_limited(LLVMModuleRef m, int64_t max_words, mir_extract *x, const mir_extract_probe *probe,
                               mir_error *err);

/* The general form: o (NULL: the zero options) says the limits and whether statements are separated. With
 * any limit, the functions are printed one at a time as mir_extract_module_limited describes, and the words
 * are exactly the first words.n of the unlimited extraction with the same statement_sep; x->words_cut says
 * whether anything was skipped. Both limits may be set: extraction stops at the first reached. */
int mir_extract_module_opts(LLVMModuleRef m, const mir_extract_options *o, mir_extract *x,
                            const mir_extract_probe *probe, mir_error *err);

/* LLVM opcode name as the textual IR spells it ("add", "getelementptr", ...). */
const char *mir_opcode_name(LLVMOpcode op);
/* The largest LLVMOpcode value of LLVM 16 (LLVMFreeze). */
#define MIR_OPCODE_MAX 68

#endif
