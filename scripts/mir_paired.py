"""Paired intervals for the compare-* scripts (the same arithmetic as analysis/paired.c): Student's t quantile
from the regularised incomplete beta function, the paired t interval, and its cluster-robust weighted form; and
the mean of a unit over a set of replicate runs."""
import math


def mean_over_set(per, value=lambda x: x):
    """The units every run of the set has (per: one dict unit -> x per run), each the mean of value(x) over the
    runs. A replicate set (models pre-trained with different seeds) compares through these means."""
    keys = set.intersection(*(set(u) for u in per))
    return {k: sum(value(u[k]) for u in per) / len(per) for k in keys}


def betacf(a, b, x):
    # continued fraction of the regularised incomplete beta function (modified Lentz)
    tiny = 1e-300
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1.0)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 300):
        m2 = 2 * m
        for num in (m * (b - m) * x / ((a + m2 - 1) * (a + m2)), -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1))):
            d = 1.0 + num * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + num / c
            c = c if abs(c) > tiny else tiny
            h *= d * c
        if abs(d * c - 1.0) < 1e-15:
            break
    return h


def ibeta(a, b, x):
    if x <= 0:
        return 0.0
    if x >= 1:
        return 1.0
    lb = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log(1 - x)
    if x < (a + 1) / (a + b + 2):
        return math.exp(lb) * betacf(a, b, x) / a
    return 1.0 - math.exp(lb) * betacf(b, a, 1 - x) / b


def t_cdf(t, df):
    p = 0.5 * ibeta(df / 2.0, 0.5, df / (df + t * t))
    return 1 - p if t > 0 else p


def t_quantile(q, df):
    lo, hi = 0.0, 100.0
    for _ in range(200):
        mid = (lo + hi) / 2
        if t_cdf(mid, df) < q:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def verdict(lo, hi):
    return "better" if lo > 0 else "worse" if hi < 0 else "no measurable difference"


def paired_t(diff):
    """Mean of the differences and its 95 % interval (paired Student t; n >= 2)."""
    n = len(diff)
    mean = sum(diff) / n
    sd = math.sqrt(sum((x - mean) ** 2 for x in diff) / (n - 1))
    half = t_quantile(0.975, n - 1) * sd / math.sqrt(n)
    return mean, mean - half, mean + half


def paired_t_weighted(diff, w):
    """Clustered units: unit i has weight w[i] and mean difference diff[i]. The mean is sum w d / sum w (the
    row-level mean difference); the interval is the cluster-robust one, var = n / (n - 1) * sum w^2 (d - mean)^2
    / (sum w)^2, with n - 1 degrees of freedom (analysis/paired.h, mir_paired_t_weighted)."""
    n, sw = len(diff), sum(w)
    mean = sum(wi * d for wi, d in zip(w, diff)) / sw
    var = n / (n - 1) * sum((wi * (d - mean)) ** 2 for wi, d in zip(w, diff)) / sw ** 2
    half = t_quantile(0.975, n - 1) * math.sqrt(var)
    return mean, mean - half, mean + half
