#!/usr/bin/env bash
# mir-analyze coarsen --finetune (analysis/finetune.h, MIR_FT_REGRESS) with a tiny model trained here, all 17
# kernels, one seed: the fine-tuned rows and their paired verdicts are in summary.json and summary.md, the
# training loss falls (the head's warm-up, from both starts), and the choices are the same in two runs at 2
# ranks and in a run at 1 rank (deterministic for a seed, whatever rank runs a fold). Skipped (77) without the
# data set.
source "$(dirname "$0")/common.sh"
TR=${MIR_TRAIN:?}; AN=${MIR_ANALYZE:?}
DATA=${MIR_DATA_DIR:-${MIR_ANALYZE_DATA:?}}
for f in thread_coarsening/pact-2014-runtimes.csv thread_coarsening/task_threadcoarsening.zip; do
  [[ -r $DATA/$f ]] || { echo "finetune_coarsen: $DATA/$f missing: SKIPPED"; exit 77; }
done
export OPENBLAS_NUM_THREADS=1
"$PP" -q -o "$WORK/c.h5" "$SRC"/tests/data/ir
"$TR" -q --corpus "$WORK/c.h5" --config tiny --steps 3 --batch 4 --micro-batch 2 -o "$WORK/m.h5"

expect_status 2 "$AN" coarsen --model "$WORK/m.h5" --finetune --finetune-epochs 0
ARGS=(coarsen -q --model "$WORK/m.h5" --data "$DATA" --seeds 1 --no-ablations --xgb-rounds 10 --mlp-epochs 10
      --finetune --finetune-epochs 2)
t0=$SECONDS
mpi 2 "$AN" "${ARGS[@]}" --out "$WORK/a"
mpi 2 "$AN" "${ARGS[@]}" --out "$WORK/b"
"$AN" "${ARGS[@]}" --out "$WORK/c"
echo "finetune_coarsen: 3 runs in $((SECONDS - t0)) s"
for o in b c; do
  cmp "$WORK/a/coarsen/summary.json" "$WORK/$o/coarsen/summary.json"
  cmp "$WORK/a/coarsen/predictions-regression.csv" "$WORK/$o/coarsen/predictions-regression.csv"
done

"$PY" - "$WORK/a/coarsen" <<'PY'
import sys, json, csv
o = sys.argv[1]
s = json.load(open(f"{o}/summary.json"))
ft = s["finetune"]
gpus = ("Cypress", "Tahiti", "Fermi", "Kepler")
for start in ("pretrained", "random"):
    for a in (ft[start], ft["safe"][start]):
        assert set(a) == set(s["regression"]), (a.keys(), s["regression"].keys())   # shaped like "regression"
        for g in gpus:
            assert 0 < a[g]["speedup"] < 10, (start, g, a)
        assert 0 < a["geomean"] < 10 and 0 <= a["losses"] <= 1 and 0 < a["worst"] <= 10, a
    l = ft["train_loss"][start]
    assert l["head_last_epoch"] < 0.5 * l["head_first_epoch"], ("the head's training loss did not fall", start, l)
    assert l["last_epoch"] < l["head_first_epoch"], ("the end-to-end loss is above the untrained head's", start, l)
    print(f"finetune_coarsen: {start} start: training loss {l['head_first_epoch']:.4f} -> {l['head_last_epoch']:.4f} "
          f"(head alone), {l['first_epoch']:.4f} -> {l['last_epoch']:.4f} (end to end); geomean "
          f"{ft[start]['geomean']:.3f}, safe {ft['safe'][start]['geomean']:.3f}")
assert ft["epochs"] == 2 and ft["window"] > 0 and ft["max_nodes"] > 0 and ft["trainings"] == 2 * 17, ft
for name in ("finetuned_vs_frozen", "finetuned_pretrained_vs_random", "finetuned_vs_opcodes", "finetuned_safe_vs_default"):
    q = s["paired"][name]
    assert q["lo"] <= q["diff"] <= q["hi"] and q["verdict"] in ("better", "worse", "no measurable difference"), q
# one regression and one safe choice per (start, GPU, kernel), each a measured factor
rows = list(csv.DictReader(open(f"{o}/predictions-regression.csv")))
for fs in ("finetuned-pretrained", "finetuned-random"):
    for p in ("regression", "safe"):
        mine = [r for r in rows if r["features"] == fs and r["predictor"] == p]
        assert len(mine) == 4 * 17, (fs, p, len(mine))
        assert all(r["speedup"] not in ("nan", "") and float(r["speedup"]) > 0 for r in mine), (fs, p)
md = open(f"{o}/summary.md").read()
assert "### Fine-tuning" in md and "Cost:" in md and "encoder fine-tuned from random weights, regression" in md, \
    "summary.md lacks the fine-tuning rows"
print("finetune_coarsen: rows, paired verdicts, falling loss, same choices at 1 and 2 ranks: PASSED")
PY
