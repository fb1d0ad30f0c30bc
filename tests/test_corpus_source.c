/*
 * test_corpus_source CORPUS: open CORPUS with mir_corpus_open (format/corpus.h) and print one line per module,
 * "index<TAB>source", so that tests/mpi/opt_levels.sh can compare what the reader gives with what the file
 * holds, or with source[i] = i for a corpus without /modules/source. Exit status 1 if the corpus cannot be opened.
 */
#include <mpi.h>
#include <stdio.h>

#include "corpus.h"

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    if (argc != 2) {
        fprintf(stderr, "usage: test_corpus_source CORPUS\n");
        MPI_Finalize();
        return 2;
    }
    mir_corpus c;
    mir_error err = {{0}};
    int rc = 0;
    if (mir_corpus_open(&c, argv[1], MPI_COMM_SELF, &err)) {
        fprintf(stderr, "test_corpus_source: %s\n", err.msg);
        rc = 1;
    } else {
        for (int64_t i = 0; i < c.n; i++) printf("%lld\t%lld\n", (long long)i, (long long)c.source[i]);
        mir_corpus_close(&c);
    }
    MPI_Finalize();
    return rc;
}
