#!/usr/bin/env bash
# mir-analyze devmap --finetune (analysis/finetune.h) on a subset with a tiny model trained here: the fine-tuning
# rows and paired verdicts are in summary.json, the training loss falls from the first epoch to the last (from
# both starts; the heads' warm-up and the end-to-end epochs), and the figures are the same in two runs at 2 ranks and in a run at 1 rank (deterministic for
# a seed, whatever rank runs a fold). Skipped (77) without the data set.
source "$(dirname "$0")/common.sh"
TR=${MIR_TRAIN:?}; AN=${MIR_ANALYZE:?}
DATA=${MIR_DATA_DIR:-${MIR_ANALYZE_DATA:?}}
for f in devmap/cgo17-amd.csv devmap/task_devmap.zip; do
  [[ -r $DATA/$f ]] || { echo "finetune: $DATA/$f missing: SKIPPED"; exit 77; }
done
export OPENBLAS_NUM_THREADS=1
"$PP" -q -o "$WORK/c.h5" "$SRC"/tests/data/ir
"$TR" -q --corpus "$WORK/c.h5" --config tiny --steps 3 --batch 4 --micro-batch 2 -o "$WORK/m.h5"

expect_status 2 "$AN" devmap --model "$WORK/m.h5" --finetune --finetune-epochs 0
ARGS=(devmap -q --model "$WORK/m.h5" --data "$DATA" --limit 60 --seeds 1 --no-ablations --xgb-rounds 10
      --mlp-epochs 10 --finetune --finetune-epochs 3)
t0=$SECONDS
mpi 2 "$AN" "${ARGS[@]}" --out "$WORK/a"
KERNELS="$WORK/a/data/devmap/task_devmap/kernels_ir"
mpi 2 "$AN" "${ARGS[@]}" --out "$WORK/b" --kernels "$KERNELS"
"$AN" "${ARGS[@]}" --out "$WORK/c" --kernels "$KERNELS"
echo "finetune: 3 runs in $((SECONDS - t0)) s"
cmp "$WORK/a/devmap/summary.json" "$WORK/b/devmap/summary.json"
cmp "$WORK/a/devmap/summary.json" "$WORK/c/devmap/summary.json"
cmp "$WORK/a/devmap/predictions.csv" "$WORK/c/devmap/predictions.csv"

"$PY" - "$WORK/a/devmap" <<'PY'
import sys, json, csv
o = sys.argv[1]
s = json.load(open(f"{o}/summary.json"))
ft = s["finetune"]
for start in ("pretrained", "random"):
    for p in ("stratified", "grouped", "suite"):
        for plat in ("amd", "nvidia"):
            a = ft[start][p][plat]["accuracy"]
            assert 0 <= a <= 100, (start, p, plat, a)
    l = ft["train_loss"][start]
    assert l["heads_last_epoch"] < l["heads_first_epoch"], ("the heads' training loss did not fall", start, l)
    assert l["last_epoch"] < l["first_epoch"], ("the end-to-end training loss did not fall", start, l)
    print(f"finetune: {start} start: training loss {l['heads_first_epoch']:.4f} -> {l['heads_last_epoch']:.4f} "
          f"(heads alone), {l['first_epoch']:.4f} -> {l['last_epoch']:.4f} (end to end)")
assert ft["epochs"] == 3 and ft["window"] > 0 and ft["max_nodes"] > 0, ft
for name in ("finetuned_vs_frozen", "finetuned_pretrained_vs_random", "finetuned_vs_opcodes"):
    for p in ("stratified", "grouped", "suite"):
        for plat in ("amd", "nvidia"):
            q = s["paired"][f"{name}.{p}.{plat}"]
            assert q["lo"] <= q["diff"] <= q["hi"] and q["verdict"] in ("better", "worse", "no measurable difference"), q
# every row predicted once per (platform, protocol) by each start
rows = list(csv.DictReader(open(f"{o}/predictions.csv")))
for fs in ("finetuned-pretrained", "finetuned-random"):
    mine = [r for r in rows if r["features"] == fs]
    assert len(mine) == 2 * 3 * 60, (fs, len(mine))
    assert all(r["predicted"] in ("CPU", "GPU") for r in mine)
md = open(f"{o}/summary.md").read()
assert "## Fine-tuning" in md and "Cost:" in md and "finetuned_vs_frozen" in md, "summary.md lacks the fine-tuning rows"
print("finetune: rows, paired verdicts, falling loss, same figures at 1 and 2 ranks: PASSED")
PY
