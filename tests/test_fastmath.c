/* test_fastmath.c: mir_expf / mir_tanhf against libm in double, over the whole useful range. */
#include "fastmath.h"
#include "mir_test.h"

int main(void) {
    double worst_exp = 0, worst_tanh = 0;
    for (double x = -87.0; x <= 88.0; x += 0.000731) {
        double ref = exp((double)(float)x), got = mir_expf((float)x);
        double rel = fabs(got - ref) / ref;
        if (rel > worst_exp) worst_exp = rel;
    }
    for (double x = -12.0; x <= 12.0; x += 0.0000937) {
        double ref = tanh((double)(float)x), got = mir_tanhf((float)x);
        double err = fabs(got - ref) / fmax(fabs(ref), 1e-3);
        if (err > worst_tanh) worst_tanh = err;
    }
    printf("mir_expf worst relative error %.2e, mir_tanhf worst error %.2e\n", worst_exp, worst_tanh);
    CHECK(worst_exp < 3e-7);
    CHECK(worst_tanh < 5e-7);
    CHECK(mir_expf(-100.0f) == 0.0f);
    CHECK(isinf(mir_expf(100.0f)));
    CHECK(isnan(mir_expf(NAN)));
    CHECK(mir_expf(0.0f) == 1.0f);
    CHECK(mir_tanhf(20.0f) == 1.0f && mir_tanhf(-20.0f) == -1.0f && mir_tanhf(0.0f) == 0.0f);
    CHECK_NEAR(mir_expf(-87.0f), exp(-87.0), 1e-38 * 1e-6 + exp(-87.0) * 3e-7);
    return mir_test_finish("test_fastmath");
}
