/* test_paired.c: the paired t interval (analysis/paired.h) against figures worked out by hand. */
#include "mir_test.h"
#include "paired.h"

int main(void) {
    mir_paired p;
    /* d = {2, 3, 1, 2}: mean 2, sample variance 2/3, standard error sqrt(2/3/4) = 0.408248,
     * t(0.975, 3) = 3.182446, half width 1.299228 */
    const double a[] = {3, 5, 4, 6}, b[] = {1, 2, 3, 4};
    mir_paired_t(a, b, 4, &p);
    CHECK_EQ_INT(p.n, 4);
    CHECK(fabs(p.diff - 2.0) < 1e-12);
    CHECK(fabs(p.lo - 0.700772) < 1e-5);
    CHECK(fabs(p.hi - 3.299228) < 1e-5);
    CHECK_EQ_STR(p.verdict, "better");
    /* swapped: the same interval negated, "worse" */
    mir_paired_t(b, a, 4, &p);
    CHECK(fabs(p.lo + 3.299228) < 1e-5 && fabs(p.hi + 0.700772) < 1e-5);
    CHECK_EQ_STR(p.verdict, "worse");
    /* d = {1, -1, 2, -2, 0}: mean 0, the interval straddles 0 */
    const double c[] = {1, -1, 2, -2, 0}, z[] = {0, 0, 0, 0, 0};
    mir_paired_t(c, z, 5, &p);
    CHECK(fabs(p.diff) < 1e-12);
    /* variance 10/4 = 2.5, se sqrt(2.5/5) = 0.707107, t(4) = 2.776445: half 1.963243 */
    CHECK(fabs(p.hi - 1.963243) < 1e-5 && fabs(p.lo + 1.963243) < 1e-5);
    CHECK_EQ_STR(p.verdict, "no measurable difference");
    /* NaN units are left out; one unit left gives no verdict */
    const double an[] = {NAN, 2, NAN}, bn[] = {1, 1, 1};
    mir_paired_t(an, bn, 3, &p);
    CHECK_EQ_INT(p.n, 1);
    CHECK(isinf(p.lo) && isinf(p.hi));
    CHECK_EQ_STR(p.verdict, "no measurable difference");
    /* the t quantile: table and the expansion beyond it (t(0.975, 40) = 2.0211, t(0.975, 120) = 1.9799) */
    CHECK(fabs(mir_t975(1) - 12.7062) < 1e-4);
    CHECK(fabs(mir_t975(40) - 2.0211) < 2e-4);
    CHECK(fabs(mir_t975(120) - 1.9799) < 2e-4);
    CHECK(mir_t975(31) < mir_t975(30) && mir_t975(31) > 2.0);
    /* weighted (clustered): equal weights give the plain interval's mean; weights 1, 3 on d = {1, 0}: diff =
     * 1/4, e = {1 * 3/4, 3 * -1/4} = {0.75, -0.75}, var = 2 * 1.125 / 16 = 0.140625, se 0.375, t(1) 12.706205 */
    const double w1[] = {1, 1, 1, 1};
    mir_paired_t_weighted(a, b, w1, 4, &p);
    CHECK(fabs(p.diff - 2.0) < 1e-12);
    CHECK(fabs(p.lo - 0.700772) < 1e-5 && fabs(p.hi - 3.299228) < 1e-5);
    const double aw[] = {1, 0}, bw[] = {0, 0}, ww[] = {1, 3};
    mir_paired_t_weighted(aw, bw, ww, 2, &p);
    CHECK(fabs(p.diff - 0.25) < 1e-12);
    CHECK(fabs(p.hi - (0.25 + 12.706205 * 0.375)) < 1e-5);
    CHECK_EQ_STR(p.verdict, "no measurable difference");
    printf("test_paired: %d checks, %d failed\n", mir_test_checks, mir_test_failures);
    return mir_test_failures != 0;
}
