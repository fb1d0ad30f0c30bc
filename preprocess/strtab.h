/*
 * strtab.h: per-rank word interning for mir-preprocess (private to preprocess/): word -> local id, with each
 * word's count and whether it is some graph node's text. The run holds one (preprocess_impl.h).
 */
#ifndef MIR_PP_STRTAB_H
#define MIR_PP_STRTAB_H

#include <stddef.h>
#include <stdint.h>

typedef struct strtab {
    char *text;
    size_t text_bytes, text_cap;
    uint32_t *off, *len; /* (n) */
    int64_t *count;      /* (n) */
    uint8_t *node_text;  /* (n) 1 if the word is some graph node's text */
    size_t n, cap;
    int32_t *slots;      /* open addressing, -1 empty */
    size_t n_slots;
} strtab;

void mir_pp_strtab_init(strtab *t);
void mir_pp_strtab_free(strtab *t);

static inline const char *strtab_get(const strtab *t, int32_t id) { return t->text + t->off[id]; }

/* Intern word (adding n to its count); returns its local id. */
int32_t mir_pp_strtab_add(strtab *t, const char *w, size_t len, int64_t n);

#endif
