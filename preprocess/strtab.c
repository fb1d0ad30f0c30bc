/*
 * strtab.c: per-rank word interning (see strtab.h): open addressing over one growing text buffer.
 */
#include "strtab.h"

#include <stdlib.h>
#include <string.h>

#include "mir_common.h"

void mir_pp_strtab_init(strtab *t) {
    memset(t, 0, sizeof *t);
    t->n_slots = 1024;
    t->slots = mir_malloc(t->n_slots * sizeof *t->slots);
    memset(t->slots, 0xff, t->n_slots * sizeof *t->slots);
}

void mir_pp_strtab_free(strtab *t) {
    free(t->text);
    free(t->off);
    free(t->len);
    free(t->count);
    free(t->node_text);
    free(t->slots);
}

static void strtab_rehash(strtab *t) {
    free(t->slots);
    t->n_slots *= 2;
    t->slots = mir_malloc(t->n_slots * sizeof *t->slots);
    memset(t->slots, 0xff, t->n_slots * sizeof *t->slots);
    for (size_t id = 0; id < t->n; id++) {
        size_t h = mir_hash64(t->text + t->off[id], t->len[id]) & (t->n_slots - 1);
        while (t->slots[h] >= 0) h = (h + 1) & (t->n_slots - 1);
        t->slots[h] = (int32_t)id;
    }
}

/* Intern word (adding n to its count); returns its local id. */
int32_t mir_pp_strtab_add(strtab *t, const char *w, size_t len, int64_t n) {
    if (2 * (t->n + 1) > t->n_slots) strtab_rehash(t);
    size_t h = mir_hash64(w, len) & (t->n_slots - 1);
    for (;;) {
        int32_t id = t->slots[h];
        if (id < 0) break;
        if (t->len[id] == len && memcmp(t->text + t->off[id], w, len) == 0) {
            t->count[id] += n;
            return id;
        }
        h = (h + 1) & (t->n_slots - 1);
    }
    MIR_GROW(t->text, t->text_cap, t->text_bytes + len + 1);
    if (t->n == t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 1024;
        t->off = mir_realloc(t->off, cap * sizeof *t->off);
        t->len = mir_realloc(t->len, cap * sizeof *t->len);
        t->count = mir_realloc(t->count, cap * sizeof *t->count);
        t->node_text = mir_realloc(t->node_text, cap * sizeof *t->node_text);
        t->cap = cap;
    }
    memcpy(t->text + t->text_bytes, w, len);
    t->text[t->text_bytes + len] = 0;
    t->off[t->n] = (uint32_t)t->text_bytes;
    t->len[t->n] = (uint32_t)len;
    t->count[t->n] = n;
    t->node_text[t->n] = 0;
    t->text_bytes += len + 1;
    t->slots[h] = (int32_t)t->n;
    return (int32_t)t->n++;
}
