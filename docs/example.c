/*
 * example.c: embed LLVM IR files with a MIREncoder model through the C API, print one line per file
 * (name, then the embedding). Build against an installed MIREncoder:
 *     cc example.c $(pkg-config --cflags --libs mirencoder) -o example
 * or with CMake: find_package(MIREncoder) and target_link_libraries(example MIREncoder::mirencoder).
 *     ./example model.h5 kernel.ll ...
 */
#include <mir/mir.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s model.h5 file.ll...\n", argv[0]);
        return 2;
    }
    mir_error err;
    mir_model *m = mir_model_load(argv[1], &err);
    if (!m) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    size_t d = mir_embedding_dim(m);
    float *v = malloc(d * sizeof *v);
    int failed = 0;
    for (int i = 2; i < argc; i++) {
        if (mir_embed_file(m, argv[i], v, &err) != 0) {
            fprintf(stderr, "%s\n", err.msg);
            failed = 1;
            continue;
        }
        printf("%s", argv[i]);
        for (size_t k = 0; k < d; k++) printf(" %.9g", v[k]);
        printf("\n");
    }
    free(v);
    mir_model_free(m);
    return failed;
}
