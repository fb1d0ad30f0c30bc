#!/usr/bin/env bash
# scripts/compare-devmap on hand-made runs, 2 seeds, grouped AMD, 4 rows in 3 benchmarks. A is a set of two
# replicates (a1, a2), B one run. Share of seeds right per row (A averaged over its replicates):
#   X (rows 0, 1; oracle GPU): a1 votes 2, 2; a2 votes 2, 0 -> A 1, 0.5 (X: 0.75); b votes 1, 1 -> 0.5, 0.5
#   Y (row 2; oracle CPU):     a1 0, a2 0 -> A 1;   b 2 -> 0
#   Z (row 3; oracle CPU):     a1 2, a2 1 -> A 0.25; b 0 -> 1
# Benchmark differences in points: X +25 (weight 2), Y +100, Z -75; mean (2*25 + 100 - 75) / 4 = 18.75;
# var = 3/2 * ((2*6.25)^2 + 81.25^2 + 93.75^2) / 4^2 = 1457.52, t(0.975, 2) = 4.3027: half 164.26, so
# [-145.51, +183.01], no measurable difference. Accuracy A (1 + 0.5 + 1 + 0.25) / 4 = 68.75 %, B 50.0 %.
# Then: B against A is the mirror image; a run against itself is +0.00 [+0.00, +0.00]; FEATURES_B and the
# ":FEATURES" suffix pick other rows of the same file; a missing folder is an error naming the file.
set -euo pipefail
SRC=${MIR_SOURCE_DIR:?set by CTest}
W=$(mktemp -d); trap 'rm -rf "$W"' EXIT
/usr/bin/python3 - "$W" <<'PY'
import os, sys
w = sys.argv[1]
head = "platform,protocol,features,row,benchmark,dataset,suite,kernel,oracle,runtime_cpu,runtime_gpu,fold,classifier,predicted,speedup,gpu_votes,seeds\n"
bench = ["X", "X", "Y", "Z"]
oracle = ["GPU", "GPU", "CPU", "CPU"]
votes = {"a1": [2, 2, 0, 2], "a2": [2, 0, 0, 1], "b": [1, 1, 2, 0]}
for run, v in votes.items():
    os.makedirs(f"{w}/{run}/devmap")
    with open(f"{w}/{run}/devmap/predictions.csv", "w") as f:
        f.write(head)
        for feat, vv in (("mirencoder", v), ("opcodes", votes["b"])):
            for i in range(4):
                f.write(f"amd,grouped,{feat},{i},{bench[i]},d,s,{bench[i]}.ll,{oracle[i]},1,1,0,xgboost,GPU,1,{vv[i]},2\n")
PY
C="$SRC/scripts/compare-devmap"
out=$("$C" "$W/a1,$W/a2" "$W/b"); echo "$out"
grep -qx "grouped    amd    accuracy A  68.8  B  50.0  A-B +18.75 \[-145.51, +183.01\] points over 4 rows, 3 benchmarks: no measurable difference" <<<"$out" || { echo "FAIL: A vs B"; exit 1; }
"$C" "$W/b" "$W/a1,$W/a2" | grep -q "A-B -18.75 \[-183.01, +145.51\]" || { echo "FAIL: mirror"; exit 1; }
"$C" "$W/a1" "$W/a1" | grep -q "A-B +0.00 \[+0.00, +0.00\] .*no measurable difference$" || { echo "FAIL: self"; exit 1; }
# a1 against the counts (b's votes in every file): same as a1 against b, by either way of naming them
x=$("$C" "$W/a1" "$W/b" | sed 's/.*A-B//'); y=$("$C" "$W/a1" "$W/a1" mirencoder opcodes | sed 's/.*A-B//')
z=$("$C" "$W/a1" "$W/a2:opcodes" | sed 's/.*A-B//')
[[ "$x" == "$y" && "$x" == "$z" ]] || { echo "FAIL: features ($x / $y / $z)"; exit 1; }
set +e; err=$("$C" "$W/a1" "$W/none" 2>&1); rc=$?; set -e
[[ $rc == 1 && "$err" == *"$W/none/predictions.csv"* ]] || { echo "FAIL: missing folder (rc $rc: $err)"; exit 1; }
echo PASS
