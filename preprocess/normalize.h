/*
 * normalize.h: IR statement normalisation. Input is ONE statement as printed by LLVM 16's
 * AsmWriter (an instruction line, or a function's `define ...` header line without the trailing `{`);
 * output is its list of normalised words, ready for the sub-word vocabulary.
 *
 * Rules (documented in docs/formats.md, tested in tests/test_normalize.c):
 *  - local SSA values and labels: %x, %12, %"a b"           -> "%ID"
 *  - identified struct types %struct.Foo / %class.X / %union.U -> "%struct" / "%class" / "%union";
 *    other named types (the caller says which names are types)  -> "%type"
 *  - globals @name: external (declared-only) functions and intrinsics keep their name ("@get_global_id",
 *    intrinsics lose their type-mangling suffix: "@llvm.memcpy.p0.p0.i64" -> "@llvm.memcpy");
 *    functions defined in the module -> "@FN"; global variables and aliases -> "@GV"
 *  - integer literals: -1..16 and powers of two up to 2^20 kept as written; other integers -> "<int+N>"
 *    or "<int-N>" with N their number of decimal digits; true/false/null/undef/poison/zeroinitializer kept
 *  - floating literals: 0.0, 1.0, -1.0, 0.5, 2.0 kept in that canonical spelling, others (including hex
 *    floats 0x...) -> "<fp>"
 *  - string constants c"..." -> "c\"<str>\""; inline asm strings -> "<asm>"
 *  - metadata attachments (", !dbg !12", ", !tbaa !3"), attribute group refs (#0), comments (; ...) dropped;
 *    other metadata operands (!12, !{...}) -> "!MD"
 *  - typed pointers written by older LLVM ("i32*", "float addrspace(1)*") become "ptr" / "ptr addrspace(1)",
 *    so old and new IR share one vocabulary (LLVM 16 already prints opaque pointers; this is for text
 *    from other producers)
 *  - punctuation ( ) [ ] { } < > = are words of their own; commas are dropped; "..." (varargs) is a word
 *  - every other lexeme (opcodes, types, keywords, flags, predicates) is kept as written.
 */
#ifndef MIR_NORMALIZE_H
#define MIR_NORMALIZE_H

#include <stddef.h>
#include <stdint.h>

/* What a global (@name) or a %name refers to; answered by the caller who knows the module. */
typedef enum {
    MIR_SYM_UNKNOWN = 0,   /* not known to the module: treated as external function for @, local for % */
    MIR_SYM_EXTERNAL_FN,   /* declared, not defined: keep name */
    MIR_SYM_DEFINED_FN,    /* defined in this module: "@FN" */
    MIR_SYM_GLOBAL_VAR,    /* global variable / alias / ifunc: "@GV" */
    MIR_SYM_TYPE,          /* %name is a named type */
} mir_sym_kind;

/* Callback: classify a symbol. sigil is '@' or '%'; name (not NUL-terminated, no sigil, unquoted) of len bytes. */
typedef mir_sym_kind (*mir_sym_classify_fn)(void *ctx, char sigil, const char *name, size_t len);

/* A list of words stored back to back in one arena: word i is text + off[i], length len[i], NUL-terminated. */
typedef struct mir_words {
    char *text;        /* arena */
    size_t text_bytes, text_cap;
    uint32_t *off;     /* (n) offsets into text */
    uint32_t *len;     /* (n) lengths */
    size_t n, cap;
    int overflow;      /* 1: the arena went past max_bytes (its offsets are 32-bit): the words are not valid,
                          and whoever filled it fails the work (mir_extract_module: an extraction error) */
    size_t max_bytes;  /* 0: UINT32_MAX (the offsets' limit); smaller only in tests */
} mir_words;

void mir_words_init(mir_words *w);
void mir_words_clear(mir_words *w);       /* keep memory, drop words and the overflow mark */
void mir_words_free(mir_words *w);
void mir_words_push(mir_words *w, const char *s, size_t len);
static inline const char *mir_words_get(const mir_words *w, size_t i) { return w->text + w->off[i]; }

/* Normalise one statement (len bytes at line, need not be NUL-terminated) and append its words to out.
 * classify may be NULL (all @ treated as external, all % as locals except %struct./%class./%union.).
 * Returns the number of words appended. Never fails: unknown lexemes are kept verbatim. */
size_t mir_normalize_statement(const char *line, size_t len, mir_sym_classify_fn classify, void *ctx,
                               mir_words *out);

/* The one-word spelling of a type for graph node text: the printed type with spaces removed and
 * named types normalised as above ("i32", "ptr", "ptraddrspace(1)", "<4xfloat>", "[8xi32]", "%struct",
 * "{i32,ptr}"); written into out (NUL-terminated, truncated to cap-1 bytes). Returns its length. */
size_t mir_normalize_type(const char *type_text, size_t len, mir_sym_classify_fn classify, void *ctx,
                          char *out, size_t cap);

#endif
