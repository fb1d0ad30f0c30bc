/*
 * irmodule.c: LLVM module -> normalised statement words + ProGraML-style graph (see irmodule.h).
 *
 * Statement text comes from ONE call to LLVMPrintModuleToString per module: printing instruction by
 * instruction (LLVMPrintValueToString) rebuilds the function's slot table on every call, which is
 * quadratic in the function's size. The printed function bodies are split into statements (an
 * instruction starts on a line indented by two spaces; switch cases and landingpad clauses continue it),
 * and their number is checked against the instruction list the API gives, function by function.
 * With a word limit (mir_extract_module_limited) the defined functions are printed one at a time instead,
 * until the limit is reached: one function's print costs a walk over the module's types and metadata plus
 * its own text, so the module's globals, declarations and later functions are never formatted.
 */
#include "irmodule.h"

#include <llvm-c/BitReader.h>
#include <llvm-c/DebugInfo.h>
#include <llvm-c/IRReader.h>
#include <stdlib.h>
#include <string.h>

#include "probe.h"

/* ------------------------------------------------------------------------------------------------ */
/* graph storage                                                                                    */

void mir_graph_init(mir_graph *g) {
    memset(g, 0, sizeof *g);
    mir_words_init(&g->node_text);
}

void mir_graph_clear(mir_graph *g) {
    g->n_nodes = g->n_edges = 0;
    mir_words_clear(&g->node_text);
}

void mir_graph_free(mir_graph *g) {
    free(g->node_kind);
    free(g->node_function);
    free(g->edge_src);
    free(g->edge_dst);
    free(g->edge_flow);
    free(g->edge_position);
    mir_words_free(&g->node_text);
    memset(g, 0, sizeof *g);
}

static int32_t graph_add_node(mir_graph *g, int kind, int32_t function, const char *text, size_t len) {
    if (g->n_nodes == g->node_cap) {
        size_t cap = g->node_cap ? 2 * g->node_cap : 256;
        g->node_kind = mir_realloc(g->node_kind, cap * sizeof *g->node_kind);
        g->node_function = mir_realloc(g->node_function, cap * sizeof *g->node_function);
        g->node_cap = cap;
    }
    g->node_kind[g->n_nodes] = (int8_t)kind;
    g->node_function[g->n_nodes] = function;
    mir_words_push(&g->node_text, text, len);
    return (int32_t)g->n_nodes++;
}

static void graph_add_edge(mir_graph *g, int32_t src, int32_t dst, int flow, int32_t position) {
    if (g->n_edges == g->edge_cap) {
        size_t cap = g->edge_cap ? 2 * g->edge_cap : 512;
        g->edge_src = mir_realloc(g->edge_src, cap * sizeof *g->edge_src);
        g->edge_dst = mir_realloc(g->edge_dst, cap * sizeof *g->edge_dst);
        g->edge_flow = mir_realloc(g->edge_flow, cap * sizeof *g->edge_flow);
        g->edge_position = mir_realloc(g->edge_position, cap * sizeof *g->edge_position);
        g->edge_cap = cap;
    }
    g->edge_src[g->n_edges] = src;
    g->edge_dst[g->n_edges] = dst;
    g->edge_flow[g->n_edges] = (int8_t)flow;
    g->edge_position[g->n_edges] = position;
    g->n_edges++;
}

void mir_extract_init(mir_extract *x) {
    memset(x, 0, sizeof *x);
    mir_words_init(&x->words);
    mir_graph_init(&x->graph);
}

void mir_extract_free(mir_extract *x) {
    mir_words_free(&x->words);
    mir_graph_free(&x->graph);
}

/* ------------------------------------------------------------------------------------------------ */
/* pointer -> int32 map (open addressing), for LLVMValueRef/LLVMTypeRef -> node id or word            */

typedef struct ptrmap {
    uintptr_t *keys; /* 0 = empty */
    int32_t *vals;
    size_t cap, n;
} ptrmap;

static void ptrmap_init(ptrmap *m, size_t cap_hint) {
    size_t cap = 64;
    while (cap < 2 * cap_hint) cap *= 2;
    m->keys = mir_calloc(cap, sizeof *m->keys);
    m->vals = mir_malloc(cap * sizeof *m->vals);
    m->cap = cap;
    m->n = 0;
}

static void ptrmap_free(ptrmap *m) {
    free(m->keys);
    free(m->vals);
}

static inline size_t ptr_hash(uintptr_t k) {
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    return (size_t)k;
}

static int32_t *ptrmap_slot(ptrmap *m, const void *key, int *found);

static void ptrmap_rehash(ptrmap *m) {
    ptrmap old = *m;
    ptrmap_init(m, old.cap);
    for (size_t i = 0; i < old.cap; i++)
        if (old.keys[i]) {
            int found;
            *ptrmap_slot(m, (const void *)old.keys[i], &found) = old.vals[i];
        }
    ptrmap_free(&old);
}

/* Slot for key; inserts the key (value unset) if absent, *found says which. */
static int32_t *ptrmap_slot(ptrmap *m, const void *key, int *found) {
    if (2 * (m->n + 1) > m->cap) ptrmap_rehash(m);
    uintptr_t k = (uintptr_t)key;
    size_t i = ptr_hash(k) & (m->cap - 1);
    while (m->keys[i] && m->keys[i] != k) i = (i + 1) & (m->cap - 1);
    *found = m->keys[i] == k;
    if (!*found) {
        m->keys[i] = k;
        m->n++;
    }
    return &m->vals[i];
}

static int ptrmap_get(const ptrmap *m, const void *key, int32_t *val) {
    uintptr_t k = (uintptr_t)key;
    size_t i = ptr_hash(k) & (m->cap - 1);
    while (m->keys[i]) {
        if (m->keys[i] == k) {
            *val = m->vals[i];
            return 1;
        }
        i = (i + 1) & (m->cap - 1);
    }
    return 0;
}

/* ------------------------------------------------------------------------------------------------ */
/* parsing                                                                                          */

int mir_parse_ir(LLVMContextRef ctx, const char *data, size_t bytes, const char *name, LLVMModuleRef *out,
                 mir_error *err) {
    if (bytes == 0) return mir_fail(err, "%s: empty file", name);
    /* The IR reader needs a NUL after the text; the caller guarantees it, so no copy is made. */
    LLVMMemoryBufferRef buf = LLVMCreateMemoryBufferWithMemoryRange(data, bytes, name, 1);
    char *msg = NULL;
    LLVMModuleRef m = NULL;
    if (LLVMParseIRInContext(ctx, buf, &m, &msg)) { /* takes ownership of buf */
        /* LLVM's message already starts with the buffer name for text IR; bitcode errors do not. */
        if (msg && strncmp(msg, name, strlen(name)) == 0)
            mir_fail(err, "%s", msg);
        else
            mir_fail(err, "%s: %s", name, msg ? msg : "unknown LLVM parse error");
        LLVMDisposeMessage(msg);
        return -1;
    }
    if (msg) LLVMDisposeMessage(msg);
    *out = m;
    return 0;
}

/* ------------------------------------------------------------------------------------------------ */
/* statements                                                                                       */

typedef struct classify_ctx {
    LLVMModuleRef m;
    LLVMContextRef ctx;
    char buf[512];
} classify_ctx;

static mir_sym_kind classify_symbol(void *vctx, char sigil, const char *name, size_t len) {
    classify_ctx *c = vctx;
    if (len >= sizeof c->buf) return MIR_SYM_UNKNOWN;
    memcpy(c->buf, name, len);
    c->buf[len] = '\0';
    if (sigil == '@') {
        LLVMValueRef f = LLVMGetNamedFunction(c->m, c->buf);
        if (f) return LLVMIsDeclaration(f) ? MIR_SYM_EXTERNAL_FN : MIR_SYM_DEFINED_FN;
        if (LLVMGetNamedGlobal(c->m, c->buf) || LLVMGetNamedGlobalAlias(c->m, c->buf, len))
            return MIR_SYM_GLOBAL_VAR;
        return MIR_SYM_UNKNOWN;
    }
    return LLVMGetTypeByName2(c->ctx, c->buf) ? MIR_SYM_TYPE : MIR_SYM_UNKNOWN;
}

static const char *line_end(const char *p) {
    const char *e = strchr(p, '\n');
    return e ? e : p + strlen(p);
}

/* Number of instructions of a defined function, through the API. */
static int64_t count_instructions(LLVMValueRef f) {
    int64_t n = 0;
    for (LLVMBasicBlockRef bb = LLVMGetFirstBasicBlock(f); bb; bb = LLVMGetNextBasicBlock(bb))
        for (LLVMValueRef i = LLVMGetFirstInstruction(bb); i; i = LLVMGetNextInstruction(i)) n++;
    return n;
}

/* Where statement words go: all of them, or until a limit (irmodule.h) is reached; with statement_sep a
 * MIR_SEP_WORD after each statement's words. */
typedef struct stmt_sink {
    mir_extract *x;
    classify_ctx *cc;
    int64_t max_words;      /* 0: no limit */
    int64_t max_statements; /* 0: no limit */
    int statement_sep;
    int64_t n_nonempty;     /* non-empty words so far, separators not counted */
    int64_t n_statements;   /* statements put so far */
} stmt_sink;

static int limit_reached(const stmt_sink *s) {
    return (s->max_words && s->n_nonempty >= s->max_words) ||
           (s->max_statements && s->n_statements >= s->max_statements);
}

static void put_statement(stmt_sink *s, const char *stmt, size_t len) {
    if (limit_reached(s)) {
        s->x->words_cut = 1;
        return;
    }
    size_t from = s->x->words.n;
    mir_normalize_statement(stmt, len, classify_symbol, s->cc, &s->x->words);
    for (size_t i = from; i < s->x->words.n; i++) s->n_nonempty += s->x->words.len[i] > 0;
    if (s->statement_sep) mir_words_push(&s->x->words, MIR_SEP_WORD, sizeof MIR_SEP_WORD - 1);
    s->n_statements++;
}

/* One printed function, from its `define` line at p: its header and instructions go to the sink, its
 * statements are counted and checked against the API's instruction count. Returns the position after the
 * closing brace's line in *end. */
static int walk_function(const char *p, LLVMValueRef fn, stmt_sink *s, const char **end, mir_error *err) {
    const char *e = line_end(p);
    /* header without the opening brace */
    const char *h_end = e;
    while (h_end > p && (h_end[-1] == ' ' || h_end[-1] == '{')) h_end--;
    put_statement(s, p, (size_t)(h_end - p));
    p = *e ? e + 1 : e;
    int64_t n_stmt = 0;
    const char *stmt = NULL;
    for (;;) {
        if (!*p) break;
        e = line_end(p);
        int closes = p[0] == '}';
        int indented2 = p[0] == ' ' && p[1] == ' ' && p[2] != ' ' && p[2] != ']' && p[2] != '\n' && p[2];
        int continuation = p[0] == ' ' && !indented2;
        if (stmt && !continuation) {
            /* the statement ends before this line */
            put_statement(s, stmt, (size_t)(p - 1 - stmt));
            stmt = NULL;
        }
        if (closes) break;
        if (indented2) {
            stmt = p;
            n_stmt++;
        }
        p = *e ? e + 1 : e;
    }
    if (stmt) put_statement(s, stmt, (size_t)(p - stmt));
    int64_t n_api = count_instructions(fn);
    if (n_api != n_stmt)
        return mir_fail(err, "function %s: %lld printed statements but %lld instructions",
                        LLVMGetValueName2(fn, &(size_t){0}), (long long)n_stmt, (long long)n_api);
    s->x->n_functions++;
    s->x->n_instructions += n_api;
    if (*p) p = *line_end(p) ? line_end(p) + 1 : line_end(p);
    *end = p;
    return 0;
}

/* LLVM prints a module's target triple and data layout raw: a line break in one (text IR may hold one inside the
 * quotes) shifts the whole-module walk's lines, and a line of it can read as a definition (found by fuzz_ingest).
 * Such a module is printed one function at a time, as the limited walk always does. */
static int header_has_newline(LLVMModuleRef m) {
    const char *t = LLVMGetTarget(m), *d = LLVMGetDataLayoutStr(m);
    return (t && strchr(t, '\n')) || (d && strchr(d, '\n'));
}

static LLVMValueRef next_definition(LLVMValueRef fn) {
    while (fn && LLVMIsDeclaration(fn)) fn = LLVMGetNextFunction(fn);
    return fn;
}

static int walk_printed_function(LLVMValueRef fn, stmt_sink *s, mir_error *err);

/* Every defined function, from one print of the whole module. */
static int statements_from_module(LLVMModuleRef m, stmt_sink *s, mir_error *err) {
    char *text = LLVMPrintModuleToString(m);
    const char *p = text;
    LLVMValueRef fn = next_definition(LLVMGetFirstFunction(m));
    int rc = 0;
    while (*p) {
        if (strncmp(p, "define ", 7) != 0) {
            const char *e = line_end(p);
            p = *e ? e + 1 : e;
            continue;
        }
        if (!fn) {
            rc = mir_fail(err, "printed module has more function definitions than the module lists");
            break;
        }
        if ((rc = walk_function(p, fn, s, &p, err))) break;
        fn = next_definition(LLVMGetNextFunction(fn));
    }
    LLVMDisposeMessage(text);
    /* The C API's string ends at the first NUL byte, and a module string (a triple, a section name, a global's
     * initialiser) may hold one: then the print stops before some definitions. Those are printed one at a
     * time, so no function's statements are silently lost (found by fuzz_ingest). */
    for (; !rc && fn; fn = next_definition(LLVMGetNextFunction(fn))) rc = walk_printed_function(fn, s, err);
    return rc;
}

/* One defined function printed on its own (LLVMPrintValueToString), its statements to the sink. */
static int walk_printed_function(LLVMValueRef fn, stmt_sink *s, mir_error *err) {
    char *text = LLVMPrintValueToString(fn);
    /* comment lines ("; Function Attrs: ...") come before the header */
    const char *p = text;
    while (*p && strncmp(p, "define ", 7) != 0) p = *line_end(p) ? line_end(p) + 1 : line_end(p);
    int rc = *p ? walk_function(p, fn, s, &p, err)
                : mir_fail(err, "function %s: no define line in its printed form", LLVMGetValueName2(fn, &(size_t){0}));
    LLVMDisposeMessage(text);
    return rc;
}

/* Defined functions printed one at a time (LLVMPrintValueToString) until the sink's limit is reached; the
 * functions after that are neither printed nor checked, only counted through the API. */
static int statements_by_function(LLVMModuleRef m, stmt_sink *s, mir_error *err) {
    LLVMValueRef fn = next_definition(LLVMGetFirstFunction(m));
    for (; fn; fn = next_definition(LLVMGetNextFunction(fn))) {
        if (limit_reached(s)) {
            s->x->words_cut = 1;
            s->x->n_functions++;
            s->x->n_instructions += count_instructions(fn);
            continue;
        }
        int rc = walk_printed_function(fn, s, err);
        if (rc) return rc;
    }
    return 0;
}

/* ------------------------------------------------------------------------------------------------ */
/* graph                                                                                            */

typedef struct graph_builder {
    mir_graph *g;
    ptrmap inst_node;  /* instruction -> its node */
    ptrmap value_node; /* operand value (result, argument, global, constant) -> its variable/constant node */
    ptrmap fn_index;   /* defined function -> index */
    ptrmap type_word;  /* LLVMTypeRef -> offset of its normalised spelling in type_text */
    mir_words type_text;
    classify_ctx *cc;
} graph_builder;

static const char *type_spelling(graph_builder *b, LLVMTypeRef t, size_t *len) {
    int found;
    int32_t *slot = ptrmap_slot(&b->type_word, t, &found);
    if (!found) {
        char *s = LLVMPrintTypeToString(t);
        char word[256];
        size_t n = mir_normalize_type(s, strlen(s), classify_symbol, b->cc, word, sizeof word);
        LLVMDisposeMessage(s);
        *slot = (int32_t)b->type_text.n;
        mir_words_push(&b->type_text, word, n);
    }
    *len = b->type_text.len[*slot];
    return mir_words_get(&b->type_text, (size_t)*slot);
}

/* Node of an operand value (created on first use), or -1 for operands that are not data. */
static int32_t value_node(graph_builder *b, LLVMValueRef v, int32_t function) {
    int found;
    int32_t *slot = ptrmap_slot(&b->value_node, v, &found);
    if (found) return *slot;
    int kind;
    switch (LLVMGetValueKind(v)) {
    case LLVMInstructionValueKind:
    case LLVMArgumentValueKind:
        kind = MIR_NODE_VARIABLE;
        break;
    case LLVMGlobalVariableValueKind:
    case LLVMGlobalAliasValueKind:
    case LLVMGlobalIFuncValueKind:
        kind = MIR_NODE_VARIABLE;
        function = -1;
        break;
    case LLVMBasicBlockValueKind:
    case LLVMMetadataAsValueValueKind:
        *slot = -1;
        return -1;
    default: /* constants of every kind, functions used as values, inline asm */
        kind = MIR_NODE_CONSTANT;
        function = -1;
        break;
    }
    size_t len;
    const char *t = type_spelling(b, LLVMTypeOf(v), &len);
    int32_t id = graph_add_node(b->g, kind, function, t, len);
    /* the slot may have moved if the node map grew: look it up again */
    *ptrmap_slot(&b->value_node, v, &found) = id;
    return id;
}

static int is_call(LLVMOpcode op) { return op == LLVMCall || op == LLVMInvoke || op == LLVMCallBr; }

static LLVMValueRef entry_instruction(LLVMValueRef f) {
    LLVMBasicBlockRef bb = LLVMGetEntryBasicBlock(f);
    return bb ? LLVMGetFirstInstruction(bb) : NULL;
}

static int32_t inst_node(graph_builder *b, LLVMValueRef i) {
    int32_t id = -1;
    if (i) ptrmap_get(&b->inst_node, i, &id);
    return id;
}

/* An edge to a defined function's entry instruction, none if its entry block is empty (bitcode the reader
 * accepts without verifying; text IR cannot say it; found by tests/fuzz): never an edge to node -1. */
static void edge_to_entry(graph_builder *b, int32_t src, LLVMValueRef f) {
    int32_t entry = inst_node(b, entry_instruction(f));
    if (entry >= 0) graph_add_edge(b->g, src, entry, MIR_FLOW_CALL, 0);
}

/* Call edges between every return of f and node `to`. */
static void returns_to(graph_builder *b, LLVMValueRef f, int32_t to) {
    for (LLVMBasicBlockRef bb = LLVMGetFirstBasicBlock(f); bb; bb = LLVMGetNextBasicBlock(bb)) {
        LLVMValueRef t = LLVMGetBasicBlockTerminator(bb);
        if (t && LLVMGetInstructionOpcode(t) == LLVMRet)
            graph_add_edge(b->g, inst_node(b, t), to, MIR_FLOW_CALL, 0);
    }
}

static void build_graph(LLVMModuleRef m, mir_graph *g, classify_ctx *cc, int64_t n_instructions) {
    graph_builder b = {.g = g, .cc = cc};
    ptrmap_init(&b.inst_node, (size_t)n_instructions);
    ptrmap_init(&b.value_node, (size_t)n_instructions);
    ptrmap_init(&b.fn_index, 64);
    ptrmap_init(&b.type_word, 64);
    mir_words_init(&b.type_text);

    const int32_t root = graph_add_node(g, MIR_NODE_INSTRUCTION, -1, MIR_ROOT_TEXT, strlen(MIR_ROOT_TEXT));

    /* 1. instruction nodes, in program order */
    int32_t fi = 0;
    for (LLVMValueRef f = LLVMGetFirstFunction(m); f; f = LLVMGetNextFunction(f)) {
        if (LLVMIsDeclaration(f)) continue;
        int found;
        *ptrmap_slot(&b.fn_index, f, &found) = fi;
        for (LLVMBasicBlockRef bb = LLVMGetFirstBasicBlock(f); bb; bb = LLVMGetNextBasicBlock(bb))
            for (LLVMValueRef i = LLVMGetFirstInstruction(bb); i; i = LLVMGetNextInstruction(i)) {
                const char *op = mir_opcode_name(LLVMGetInstructionOpcode(i));
                int32_t id = graph_add_node(g, MIR_NODE_INSTRUCTION, fi, op, strlen(op));
                *ptrmap_slot(&b.inst_node, i, &found) = id;
            }
        fi++;
    }

    /* 2. edges, walking the instructions in the same order */
    for (LLVMValueRef f = LLVMGetFirstFunction(m); f; f = LLVMGetNextFunction(f)) {
        if (LLVMIsDeclaration(f)) continue;
        int32_t fidx = 0;
        ptrmap_get(&b.fn_index, f, &fidx);
        edge_to_entry(&b, root, f);
        returns_to(&b, f, root);
        for (LLVMBasicBlockRef bb = LLVMGetFirstBasicBlock(f); bb; bb = LLVMGetNextBasicBlock(bb)) {
            for (LLVMValueRef i = LLVMGetFirstInstruction(bb); i; i = LLVMGetNextInstruction(i)) {
                int32_t me = inst_node(&b, i);
                LLVMOpcode op = LLVMGetInstructionOpcode(i);
                /* control */
                LLVMValueRef next = LLVMGetNextInstruction(i);
                if (next) {
                    graph_add_edge(g, me, me + 1, MIR_FLOW_CONTROL, 0);
                } else {
                    unsigned ns = LLVMIsATerminatorInst(i) ? LLVMGetNumSuccessors(i) : 0;
                    for (unsigned s = 0; s < ns; s++) {
                        LLVMValueRef first = LLVMGetFirstInstruction(LLVMGetSuccessor(i, s));
                        if (first) graph_add_edge(g, me, inst_node(&b, first), MIR_FLOW_CONTROL, (int32_t)s);
                    }
                }
                /* data: operands in, result out */
                int nops = LLVMGetNumOperands(i);
                LLVMValueRef callee = is_call(op) ? LLVMGetCalledValue(i) : NULL;
                for (int k = 0; k < nops; k++) {
                    LLVMValueRef v = LLVMGetOperand(i, (unsigned)k);
                    if (!v) continue;
                    if (callee && v == callee && k == nops - 1 && LLVMGetValueKind(v) == LLVMFunctionValueKind)
                        continue; /* a direct callee is a call edge, not data */
                    int32_t src = value_node(&b, v, fidx);
                    if (src >= 0) graph_add_edge(g, src, me, MIR_FLOW_DATA, k);
                }
                if (LLVMGetTypeKind(LLVMTypeOf(i)) != LLVMVoidTypeKind)
                    graph_add_edge(g, me, value_node(&b, i, fidx), MIR_FLOW_DATA, 0);
                /* call */
                if (callee) {
                    if (LLVMGetValueKind(callee) == LLVMFunctionValueKind && !LLVMIsDeclaration(callee)) {
                        edge_to_entry(&b, me, callee);
                        returns_to(&b, callee, me);
                    } else {
                        graph_add_edge(g, me, root, MIR_FLOW_CALL, 0);
                        graph_add_edge(g, root, me, MIR_FLOW_CALL, 0);
                    }
                }
            }
        }
    }
    ptrmap_free(&b.inst_node);
    ptrmap_free(&b.value_node);
    ptrmap_free(&b.fn_index);
    ptrmap_free(&b.type_word);
    mir_words_free(&b.type_text);
}

int mir_extract_module(LLVMModuleRef m, mir_extract *x, const mir_extract_probe *probe, mir_error *err) {
    return mir_extract_module_opts(m, NULL, x, probe, err);
}

int mir_extract_module_limited(LLVMModuleRef m, int64_t max_words, mir_extract *x, const mir_extract_probe *probe,
                               mir_error *err) {
    mir_extract_options o = {.max_words = max_words};
    return mir_extract_module_opts(m, &o, x, probe, err);
}

int mir_extract_module_opts(LLVMModuleRef m, const mir_extract_options *o, mir_extract *x,
                            const mir_extract_probe *probe, mir_error *err) {
    mir_words_clear(&x->words);
    mir_graph_clear(&x->graph);
    x->n_functions = x->n_instructions = 0;
    x->words_cut = 0;
    LLVMStripModuleDebugInfo(m);
    classify_ctx cc = {.m = m, .ctx = LLVMGetModuleContext(m)};
    stmt_sink sink = {.x = x, .cc = &cc};
    if (o) {
        sink.max_words = o->max_words > 0 ? o->max_words : 0;
        sink.max_statements = o->max_statements > 0 ? o->max_statements : 0;
        sink.statement_sep = o->statement_sep != 0;
    }
    int limited = sink.max_words || sink.max_statements || header_has_newline(m);
    mir_probe *p = probe ? probe->probe : NULL;
    if (p) mir_probe_begin(p, probe->phase_tokens);
    int rc = limited ? statements_by_function(m, &sink, err) : statements_from_module(m, &sink, err);
    if (p) mir_probe_end(p, probe->phase_tokens);
    if (rc) return rc;
    if (x->words.overflow)
        return mir_fail(err, "its statements make over 4 GiB of words, more than a module may hold (32-bit offsets)");
    if (p) mir_probe_begin(p, probe->phase_graph);
    build_graph(m, &x->graph, &cc, x->n_instructions);
    if (p) mir_probe_end(p, probe->phase_graph);
    if (x->graph.node_text.overflow)
        return mir_fail(err, "its graph's node texts make over 4 GiB, more than a module may hold (32-bit offsets)");
    return 0;
}

const char *mir_opcode_name(LLVMOpcode op) {
    switch (op) {
    case LLVMRet: return "ret";
    case LLVMBr: return "br";
    case LLVMSwitch: return "switch";
    case LLVMIndirectBr: return "indirectbr";
    case LLVMInvoke: return "invoke";
    case LLVMUnreachable: return "unreachable";
    case LLVMCallBr: return "callbr";
    case LLVMFNeg: return "fneg";
    case LLVMAdd: return "add";
    case LLVMFAdd: return "fadd";
    case LLVMSub: return "sub";
    case LLVMFSub: return "fsub";
    case LLVMMul: return "mul";
    case LLVMFMul: return "fmul";
    case LLVMUDiv: return "udiv";
    case LLVMSDiv: return "sdiv";
    case LLVMFDiv: return "fdiv";
    case LLVMURem: return "urem";
    case LLVMSRem: return "srem";
    case LLVMFRem: return "frem";
    case LLVMShl: return "shl";
    case LLVMLShr: return "lshr";
    case LLVMAShr: return "ashr";
    case LLVMAnd: return "and";
    case LLVMOr: return "or";
    case LLVMXor: return "xor";
    case LLVMAlloca: return "alloca";
    case LLVMLoad: return "load";
    case LLVMStore: return "store";
    case LLVMGetElementPtr: return "getelementptr";
    case LLVMTrunc: return "trunc";
    case LLVMZExt: return "zext";
    case LLVMSExt: return "sext";
    case LLVMFPToUI: return "fptoui";
    case LLVMFPToSI: return "fptosi";
    case LLVMUIToFP: return "uitofp";
    case LLVMSIToFP: return "sitofp";
    case LLVMFPTrunc: return "fptrunc";
    case LLVMFPExt: return "fpext";
    case LLVMPtrToInt: return "ptrtoint";
    case LLVMIntToPtr: return "inttoptr";
    case LLVMBitCast: return "bitcast";
    case LLVMAddrSpaceCast: return "addrspacecast";
    case LLVMICmp: return "icmp";
    case LLVMFCmp: return "fcmp";
    case LLVMPHI: return "phi";
    case LLVMCall: return "call";
    case LLVMSelect: return "select";
    case LLVMUserOp1: return "userop1";
    case LLVMUserOp2: return "userop2";
    case LLVMVAArg: return "va_arg";
    case LLVMExtractElement: return "extractelement";
    case LLVMInsertElement: return "insertelement";
    case LLVMShuffleVector: return "shufflevector";
    case LLVMExtractValue: return "extractvalue";
    case LLVMInsertValue: return "insertvalue";
    case LLVMFreeze: return "freeze";
    case LLVMFence: return "fence";
    case LLVMAtomicCmpXchg: return "cmpxchg";
    case LLVMAtomicRMW: return "atomicrmw";
    case LLVMResume: return "resume";
    case LLVMLandingPad: return "landingpad";
    case LLVMCleanupRet: return "cleanupret";
    case LLVMCatchRet: return "catchret";
    case LLVMCatchPad: return "catchpad";
    case LLVMCleanupPad: return "cleanuppad";
    case LLVMCatchSwitch: return "catchswitch";
    }
    return "unknown";
}
