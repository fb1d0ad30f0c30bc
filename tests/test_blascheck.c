/* test_blascheck: which OpenBLAS kernels the programs warn about (model/blascheck.h). */
#include <string.h>

#include "blascheck.h"
#include "mir_test.h"

static int same(const char *a, const char *b) { return (!a && !b) || (a && b && !strcmp(a, b)); }

int main(void) {
    /* generic or pre-AVX2 kernels on AVX2 / AVX-512 CPUs: name the kernel to ask for */
    CHECK(same(mir_blas_better_core("Prescott", 1, 1, 0), "SkylakeX"));
    CHECK(same(mir_blas_better_core("Prescott", 1, 0, 0), "Haswell"));
    CHECK(same(mir_blas_better_core("Prescott", 1, 0, 1), "Zen"));
    CHECK(same(mir_blas_better_core("Sandybridge", 1, 0, 0), "Haswell"));
    CHECK(same(mir_blas_better_core("Nehalem", 1, 1, 0), "SkylakeX"));
    CHECK(same(mir_blas_better_core("Core2", 1, 0, 1), "Zen"));
    /* kernels that already use AVX2 or AVX-512: nothing to say, whatever the case of the name */
    CHECK(same(mir_blas_better_core("Haswell", 1, 1, 0), NULL));
    CHECK(same(mir_blas_better_core("SKYLAKEX", 1, 1, 0), NULL));
    CHECK(same(mir_blas_better_core("Zen", 1, 0, 1), NULL));
    CHECK(same(mir_blas_better_core("Cooperlake", 1, 1, 0), NULL));
    CHECK(same(mir_blas_better_core("SapphireRapids", 1, 1, 0), NULL));
    /* a CPU without AVX2: the old kernels are the right ones */
    CHECK(same(mir_blas_better_core("Prescott", 0, 0, 0), NULL));
    CHECK(same(mir_blas_better_core("Sandybridge", 0, 0, 1), NULL));
    /* no name: nothing to compare */
    CHECK(same(mir_blas_better_core("", 1, 1, 0), NULL));
    CHECK(same(mir_blas_better_core(NULL, 1, 1, 0), NULL));
    /* the running library reports a kernel name */
    CHECK(mir_blas_core()[0] != '\0');
    return mir_test_finish("test_blascheck");
}
