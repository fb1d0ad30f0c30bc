#!/usr/bin/env bash
# scripts/compare-coarsen on two hand-made runs: 4 (kernel, GPU) units whose log speedups differ by 0.1, 0.2,
# 0.3 and 0.4 (two seeds each): mean 0.25, sd 0.1291, t(0.975, 3) = 3.1824, so the interval is
# 0.25 +- 0.2054 = [+0.045, +0.455], "better"; the reverse order gives "worse"; equal runs give 0 and "no
# measurable difference" (the interval collapses to [0, 0], which is not above or below 0). Replicate sets below.
set -euo pipefail
SRC=${MIR_SOURCE_DIR:?set by CTest}
W=$(mktemp -d); trap 'rm -rf "$W"' EXIT
/usr/bin/python3 - "$W" <<'PY'
import math, os, sys
w = sys.argv[1]
for name, shift in (("a", [0.1, 0.2, 0.3, 0.4]), ("b", [0, 0, 0, 0])):
    os.makedirs(f"{w}/{name}/coarsen")
    with open(f"{w}/{name}/coarsen/predictions-regression.csv", "w") as f:
        f.write("features,predictor,seed,gpu,kernel,predicted_factor,speedup,safe_margin\n")
        for u, s in enumerate(shift):
            for seed, base in ((0, 0.9), (1, 1.1)):  # per-seed values around the unit's mean
                for pred in ("regression", "safe"):
                    f.write(f"mirencoder,{pred},{seed},G,k{u},2,{math.exp(math.log(base) + s):.12g},0\n")
    with open(f"{w}/{name}/coarsen/predictions.csv", "w") as f:
        f.write("gpu,kernel,features,oracle_factor,oracle_speedup,classifier,predicted_factor,speedup,mean_speedup_over_seeds,seeds\n")
        for u, s in enumerate(shift):
            f.write(f"G,k{u},mirencoder,2,2,xgboost,2,1,{math.exp(s):.12g},2\n")
PY
out=$("$SRC/scripts/compare-coarsen" "$W/a" "$W/b")
echo "$out"
for p in classification regression safe; do
  grep -E "^$p +.*\+0\.250 \[\+0\.045, \+0\.455\] over 4 \(kernel, GPU\): better$" <<<"$out" >/dev/null ||
    { echo "FAIL: $p"; exit 1; }
done
"$SRC/scripts/compare-coarsen" "$W/b" "$W/a" | grep -c ": worse$" | grep -qx 3 || { echo "FAIL: reverse not worse"; exit 1; }
"$SRC/scripts/compare-coarsen" "$W/a" "$W/a" | grep -c "+0.000 \[+0.000, +0.000\] .*no measurable difference$" | grep -qx 3 ||
  { echo "FAIL: equal runs"; exit 1; }
# replicates: the set (a, b) against b averages each unit over the set, so the differences halve: mean 0.125,
# sd 0.06455, half 3.1824 * 0.06455 / 2 = 0.1027: [+0.022, +0.228]; a set of one run twice is that run
"$SRC/scripts/compare-coarsen" "$W/a,$W/b" "$W/b" | grep -c "+0.125 \[+0.022, +0.228\] over 4 (kernel, GPU): better$" |
  grep -qx 3 || { echo "FAIL: replicate set"; exit 1; }
[[ "$("$SRC/scripts/compare-coarsen" "$W/a,$W/a" "$W/b")" == "$out" ]] || { echo "FAIL: set of one run twice"; exit 1; }
echo PASS
