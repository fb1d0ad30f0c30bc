/* inputs.c: input expansion and size-balanced dealing (see inputs.h). */
#include "inputs.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

static const char *extension(const char *path) {
    const char *slash = strrchr(path, '/');
    const char *dot = strrchr(path, '.');
    return dot && (!slash || dot > slash) ? dot + 1 : "";
}

mir_source_lang mir_source_lang_of(const char *path) {
    const char *e = extension(path);
    if (!strcmp(e, "c")) return MIR_SRC_C;
    if (!strcmp(e, "cc") || !strcmp(e, "cpp") || !strcmp(e, "cxx") || !strcmp(e, "C")) return MIR_SRC_CXX;
    if (!strcmp(e, "cl")) return MIR_SRC_OPENCL;
    if (!strcmp(e, "cu")) return MIR_SRC_CUDA;
    return MIR_SRC_IR;
}

int mir_input_wanted(const char *path, int compile) {
    const char *e = extension(path);
    if (!strcmp(e, "ll") || !strcmp(e, "bc")) return 1;
    return compile && mir_source_lang_of(path) != MIR_SRC_IR;
}

static void push(mir_input_list *l, const char *path) {
    MIR_GROW(l->items, l->cap, l->n + 1);
    mir_input *in = &l->items[l->n++];
    in->path = mir_strdup(path);
    struct stat st;
    in->bytes = stat(path, &st) == 0 ? (int64_t)st.st_size : -1;
    in->lang = mir_source_lang_of(path);
    in->opt = 0;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void walk(const char *dir, int compile, mir_input_list *l) {
    DIR *d = opendir(dir);
    if (!d) {
        push(l, dir); /* reported as unreadable later */
        return;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.' && (!e->d_name[1] || (e->d_name[1] == '.' && !e->d_name[2]))) continue;
        MIR_GROW(names, cap, n + 1);
        names[n++] = mir_strdup(e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof *names, cmp_str);
    size_t dl = strlen(dir);
    for (size_t i = 0; i < n; i++) {
        size_t len = dl + strlen(names[i]) + 2;
        char *p = mir_malloc(len);
        snprintf(p, len, "%s%s%s", dir, (dl && dir[dl - 1] == '/') ? "" : "/", names[i]);
        struct stat st;
        if (stat(p, &st) == 0 && S_ISDIR(st.st_mode))
            walk(p, compile, l);
        else if (mir_input_wanted(p, compile))
            push(l, p);
        free(p);
        free(names[i]);
    }
    free(names);
}

static int expand_one(const char *arg, int compile, mir_input_list *l, int depth, mir_error *err) {
    if (arg[0] == '@') {
        if (depth > 8) return mir_fail(err, "%s: @lists nested too deeply", arg + 1);
        FILE *f = fopen(arg + 1, "r");
        if (!f) return mir_fail(err, "%s: cannot read list: %s", arg + 1, strerror(errno));
        char *line = NULL;
        size_t cap = 0;
        ssize_t got;
        int rc = 0;
        while (!rc && (got = getline(&line, &cap, f)) >= 0) {
            while (got > 0 && (line[got - 1] == '\n' || line[got - 1] == '\r' || line[got - 1] == ' ')) line[--got] = 0;
            char *s = line;
            while (*s == ' ' || *s == '\t') s++;
            if (!*s || *s == '#') continue;
            rc = expand_one(s, compile, l, depth + 1, err);
        }
        free(line);
        fclose(f);
        return rc;
    }
    struct stat st;
    if (stat(arg, &st) == 0 && S_ISDIR(st.st_mode))
        walk(arg, compile, l);
    else
        push(l, arg); /* named explicitly: taken whatever its extension, or reported if missing */
    return 0;
}

static int cmp_input(const void *a, const void *b) {
    return strcmp(((const mir_input *)a)->path, ((const mir_input *)b)->path);
}

int mir_inputs_expand(char *const *args, int n_args, int compile, mir_input_list *list, mir_error *err) {
    memset(list, 0, sizeof *list);
    for (int i = 0; i < n_args; i++)
        if (expand_one(args[i], compile, list, 0, err)) {
            mir_inputs_free(list);
            return -1;
        }
    if (list->n) qsort(list->items, list->n, sizeof *list->items, cmp_input);
    size_t w = 0;
    for (size_t i = 0; i < list->n; i++) {
        if (w && !strcmp(list->items[w - 1].path, list->items[i].path)) {
            free(list->items[i].path);
            continue;
        }
        list->items[w++] = list->items[i];
    }
    list->n = w;
    return 0;
}

void mir_inputs_free(mir_input_list *list) {
    for (size_t i = 0; i < list->n; i++) free(list->items[i].path);
    free(list->items);
    memset(list, 0, sizeof *list);
}

void mir_inputs_at_levels(mir_input_list *list, const char *levels) {
    size_t nl = strlen(levels), n = 0;
    for (size_t i = 0; i < list->n; i++) n += list->items[i].lang != MIR_SRC_IR && nl ? nl : 1;
    mir_input *items = mir_calloc(n + 1, sizeof *items);
    size_t w = 0;
    for (size_t i = 0; i < list->n; i++) {
        mir_input *in = &list->items[i];
        if (in->lang == MIR_SRC_IR || nl == 0) {
            items[w++] = *in;
            continue;
        }
        for (size_t k = 0; k < nl; k++) {
            items[w] = *in;
            items[w].path = k ? mir_strdup(in->path) : in->path;
            items[w++].opt = levels[k];
        }
    }
    free(list->items);
    list->items = items;
    list->n = list->cap = w;
}

typedef struct {
    int64_t bytes;
    size_t index;
} sized;

static int cmp_sized_desc(const void *a, const void *b) {
    const sized *x = a, *y = b;
    if (x->bytes != y->bytes) return x->bytes > y->bytes ? -1 : 1;
    return x->index < y->index ? -1 : (x->index > y->index);
}

void mir_deal_by_size(const int64_t *bytes, size_t n, int nranks, int *owner) {
    sized *s = mir_malloc(n * sizeof *s);
    for (size_t i = 0; i < n; i++) s[i] = (sized){bytes[i] > 0 ? bytes[i] : 0, i};
    qsort(s, n, sizeof *s, cmp_sized_desc);
    int64_t *load = mir_calloc((size_t)nranks, sizeof *load);
    for (size_t k = 0; k < n; k++) {
        int best = 0;
        for (int r = 1; r < nranks; r++)
            if (load[r] < load[best]) best = r;
        owner[s[k].index] = best;
        load[best] += s[k].bytes + 4096; /* a fixed per-module cost, so empty files spread too */
    }
    free(load);
    free(s);
}
