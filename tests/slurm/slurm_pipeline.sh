#!/usr/bin/env bash
# The batch scripts (jobs/) against a real Slurm on this machine (CTest label "slurm", issue 7):
#  - installs Debian's slurm-wlm and munge with apt-get when they are missing (CI runs as root on a fresh
#    Debian 12), then starts a private munged, slurmctld and slurmd: a generated slurm.conf in a temporary
#    folder, one node named after `hostname -s` with the machine's cores, no cgroups (proctrack/linuxproc,
#    task/none), free ports, its own munge key and socket, so nothing of the machine's setup is touched;
#  - case 1: jobs/slurm/pipeline.sh with tiny settings (a corpus of tests/data/ir, --config tiny, 40 steps,
#    mpirun as the launcher): preprocess -> train -> infer, analyze and the analyze-array sweep; every job
#    and array element must end COMPLETED with exit code 0, and corpus.h5, model.h5 (at step 40),
#    embeddings.h5 (one row per module) and the analysis outputs must be there. The analysis needs the
#    data sets (MIR_DATA_DIR, default ../shared/data): without them it is left out, and said so;
#  - case 2: train.sbatch alone (srun as the launcher), long enough to be interrupted twice: an
#    administrator's `scontrol requeue` once the first checkpoint exists, then the warning signal
#    (SIGUSR1 to the batch shell, as --signal=B:USR1@... sends it) that makes the script checkpoint and
#    requeue itself. Each restart must resume from its checkpoint (the log's "resuming ... at step N" with
#    N > 0 and rising; the metrics CSV, appended by every run, never goes back to step 1 and misses no
#    step), the job must end COMPLETED after 2 restarts, and the final model must have all its steps;
#  - jobs/pbs/*, jobs/local/pipeline.sh: bash -n; the local pipeline runs for real (tiny settings), and so
#    do the PBS stage scripts, run by hand as a PBS mom would run them (there is no PBS server here).
# The daemons run as children of this script and are stopped at the end by their pids (trap EXIT; and by
# a deadline of its own, 540 s, inside CTest's 600). Exit status 77 (skipped) only when Slurm is
# absent and cannot be installed (not root, or no apt-get).
set -euo pipefail
SRC=${MIR_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
PY=/usr/bin/python3   # Debian's, which has h5py (a pyenv python on PATH may not)
t_start=$SECONDS
say() { echo "slurm_pipeline [$((SECONDS - t_start)) s]: $*"; }
fail() { echo "FAIL: $*"; exit 1; }
# a Slurm job around this test (a cluster's CI) must not leak into the jobs it submits
while read -r v; do unset "$v"; done < <(env | sed -n 's/^\(SLURM_[A-Z_]*\)=.*/\1/p')

# --- Slurm and munge ------------------------------------------------------------------------------------
need=(slurmctld slurmd sbatch scontrol squeue sinfo scancel munged)
missing() { local c; for c in "${need[@]}"; do command -v "$c" >/dev/null || return 0; done; return 1; }
if missing; then
  if [[ $(id -u) != 0 ]] || ! command -v apt-get >/dev/null; then
    echo "slurm_pipeline: SKIPPED: Slurm is not installed and cannot be (needs root and apt-get):"
    echo "  apt-get install slurm-wlm munge"
    exit 77
  fi
  say "installing slurm-wlm and munge (apt-get)"
  apt_install() {
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -q --no-install-recommends \
      slurm-wlm munge >"${TMPDIR:-/tmp}/mir-slurm-apt.log" 2>&1
  }
  if ! apt_install; then
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 update -q >/dev/null 2>&1 || true
    apt_install || { tail -n 20 "${TMPDIR:-/tmp}/mir-slurm-apt.log"; fail "apt-get install slurm-wlm munge"; }
  fi
  missing && fail "slurm-wlm and munge installed, but one of ${need[*]} is still missing"
fi
command -v h5dump >/dev/null || fail "h5dump missing (hdf5-tools, scripts/install-deps)"

# --- the private cluster ----------------------------------------------------------------------------------
# under /tmp, not $TMPDIR: munged wants every folder above its socket searchable by all, and a short path
T=$(mktemp -d /tmp/mir-slurm.XXXXXX)
chmod 755 "$T"
mkdir -p "$T/munge" "$T/run" "$T/state" "$T/spool" "$T/log" "$T/tmp" "$T/out"
chmod 700 "$T/munge"
pids_of() { local f; for f in "$@"; do cat "$f" 2>/dev/null; done; return 0; }
cleanup() {
  local rc=$? p n
  set +e
  if [[ -n "${SLURM_CONF:-}" && -s "$T/run/slurmctld.pid" ]]; then
    scancel --user="$(id -un)" >/dev/null 2>&1   # only this private cluster's jobs: all of them ours
    for n in $(seq 1 20); do [[ -z "$(squeue -h -t R,CG 2>/dev/null)" ]] && break; sleep 0.5; done
  fi
  if [[ $rc != 0 && $rc != 77 ]]; then
    echo "---- slurmctld.log (last lines)"; tail -n 25 "$T/log/slurmctld.log" 2>/dev/null
    echo "---- slurmd.log (last lines)"; tail -n 25 "$T/log/slurmd.log" 2>/dev/null
    find "$T/out" -name '*.out' -o -name '*.log' | sort | while read -r f; do echo "---- $f"; tail -n 30 "$f"; done
  fi
  # the daemons, by their process ids (children of this script) and the pid files they wrote; slurmd
  # first, munged last
  local pids
  pids=$(printf '%s\n' "${daemons[@]}" $(pids_of "$T/run/slurmd.pid" "$T/run/slurmctld.pid" "$T/run/munged.pid") |
    awk 'NF && !seen[$0]++')
  for p in $pids; do kill -TERM "$p" 2>/dev/null; done
  for p in $pids; do
    for n in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null
  done
  [[ -z "${watchdog:-}" ]] || kill -TERM "$watchdog" 2>/dev/null
  if [[ "${MIR_KEEP_TMP:-0}" == 1 ]]; then echo "kept $T"; else rm -rf "$T"; fi
  say "done (exit status $rc)"
  exit "$rc"
}
daemons=()
trap cleanup EXIT
trap 'exit 1' TERM INT   # through cleanup
# a deadline of its own, inside CTest's: a test killed from outside could not stop its daemons
deadline=${MIR_SLURM_TEST_DEADLINE:-540}
(trap 'kill "$s" 2>/dev/null; exit 0' TERM; sleep "$deadline" & s=$!
  wait "$s" && { echo "FAIL: slurm_pipeline still running after $deadline s: stopping"; kill -TERM $$; }) &
watchdog=$!

if command -v mungekey >/dev/null; then
  mungekey -c -k "$T/munge/munge.key"
else
  dd if=/dev/urandom of="$T/munge/munge.key" bs=1024 count=1 status=none
fi
chmod 400 "$T/munge/munge.key"
# the daemons stay in the foreground, as children of this script (their output in $T/log)
munged -F --socket="$T/run/munge.sock" --key-file="$T/munge/munge.key" --pid-file="$T/run/munged.pid" \
  --log-file="$T/log/munged.log" --seed-file="$T/munge/seed" >>"$T/log/munged.out" 2>&1 &
daemons+=($!)
for i in $(seq 1 50); do [[ -S $T/run/munge.sock ]] && break; sleep 0.1; done
[[ -S $T/run/munge.sock ]] || { cat "$T/log/munged.log" "$T/log/munged.out"; fail "munged did not start"; }

# two free TCP ports (asked from the kernel, then released for the daemons)
read -r ctld_port slurmd_port < <("$PY" -c '
import socket
s = [socket.socket() for _ in range(2)]
for x in s: x.bind(("127.0.0.1", 0))
print(*[x.getsockname()[1] for x in s])')
H=$(hostname -s)
CPUS=$(nproc)
# what slurmd finds must not fall short of what slurm.conf says, or the node is drained
MEM=$(awk '/^MemTotal:/ { m = int($2 / 1024 / 2); print (m < 1024 ? m : 1024) }' /proc/meminfo)
cat >"$T/slurm.conf" <<EOF
# generated by tests/slurm/slurm_pipeline.sh: one node, no cgroups, everything under $T
ClusterName=mirtest
SlurmctldHost=$H(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
AuthType=auth/munge
CredType=cred/munge
# cred_expire: a requeued job waits this long before it may start again (default 120 s)
AuthInfo=socket=$T/run/munge.sock,cred_expire=10
SlurmUser=$(id -un)
SlurmdUser=$(id -un)
StateSaveLocation=$T/state
SlurmdSpoolDir=$T/spool
SlurmctldPidFile=$T/run/slurmctld.pid
SlurmdPidFile=$T/run/slurmd.pid
SlurmctldLogFile=$T/log/slurmctld.log
SlurmdLogFile=$T/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
# keep finished jobs' records (state, exit code) for the checks: there is no slurmdbd for sacct
MinJobAge=86400
KillWait=10
SchedulerParameters=sched_interval=2
MailProg=/bin/true
TmpFS=$T/tmp
NodeName=$H NodeAddr=127.0.0.1 CPUs=$CPUS RealMemory=$MEM State=UNKNOWN
PartitionName=test Nodes=$H Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF=$T/slurm.conf
slurmctld -D -f "$SLURM_CONF" >>"$T/log/slurmctld.out" 2>&1 &
daemons=($! "${daemons[@]}")
slurmd -D -f "$SLURM_CONF" >>"$T/log/slurmd.out" 2>&1 &
daemons=($! "${daemons[@]}")   # slurmd first when stopping
for i in $(seq 1 120); do
  state=$(sinfo -h -n "$H" -o %T 2>/dev/null || true)
  [[ $state == idle ]] && break
  sleep 0.5
done
[[ $state == idle ]] || { cat "$T"/log/*.out; fail "the node is not idle after 60 s (sinfo: '$state')"; }
say "Slurm $(sinfo -V | awk '{print $2}') up: node $H, $CPUS CPUs, ports $ctld_port/$slurmd_port, in $T"

# --- helpers ---------------------------------------------------------------------------------------------
# job_states ID: "JobId State ExitCode Restarts" for the job (each element of an array)
job_states() {
  scontrol -o show job "$1" | tr ' ' '\n' |
    awk -F= '$1 == "JobId" { id = $2 } $1 == "JobState" { s = $2 } $1 == "Restarts" { r = $2 }
             $1 == "ExitCode" { print id, s, $2, r }'
}
# wait_jobs SECONDS ID...: until every job (and array element) has ended
wait_jobs() {
  local limit=$1 id busy
  shift
  local t0=$SECONDS
  while :; do
    busy=0
    for id in "$@"; do
      while read -r _ s _ _; do
        case "$s" in COMPLETED | FAILED | CANCELLED | TIMEOUT | NODE_FAIL | OUT_OF_MEMORY | BOOT_FAIL | DEADLINE) ;;
          *) busy=1 ;; esac
      done < <(job_states "$id")
    done
    ((busy)) || return 0
    ((SECONDS - t0 < limit)) || { squeue; fail "jobs $* not finished after $limit s"; }
    sleep 1
  done
}
h5step() { h5dump -a /state/step "$1" 2>/dev/null | sed -n 's/^ *(0): *\([0-9]*\).*/\1/p' | head -n 1; }

export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_btl_vader_single_copy_mechanism=none   # containers often forbid CMA
export OMPI_MCA_rmaps_base_oversubscribe=1
export OPENBLAS_NUM_THREADS=1
export MIR_BUILD_DIR=${MIR_BUILD_DIR:-$SRC/build}
DATA=${MIR_DATA_DIR:-${MIR_ANALYZE_DATA:-$SRC/../shared/data}}
RANKS=$((CPUS < 2 ? CPUS : 2))
# programs: CTest gives their paths (MIR_PREPROCESS ...); the scripts find them through these variables

# --- case 1: the whole pipeline ----------------------------------------------------------------------------
O=$T/out/pipeline
stages="preprocess train infer analyze sweep"
if [[ ! -r $DATA/devmap/task_devmap.zip || ! -r $DATA/thread_coarsening/task_threadcoarsening.zip ]]; then
  say "NOTE: no data sets in $DATA: the analyze and sweep stages are left out (set MIR_DATA_DIR)"
  stages="preprocess train infer"
fi
say "case 1: jobs/slurm/pipeline.sh ($stages), mpirun, $RANKS ranks"
MIR_MICRO_BATCH=2 MIR_CHECKPOINT_EVERY=10 MIR_SEEDS="1" MIR_SWEEP_NTASKS=1 \
  MIR_ANALYZE_ARGS="--seeds 1 --no-ablations --limit 40 --xgb-rounds 10 --mlp-epochs 10 -q" \
  MIR_MPIRUN_ARGS="--oversubscribe" \
  "$SRC/jobs/slurm/pipeline.sh" --out "$O" --data "$DATA" --config tiny --steps 40 --launcher mpirun \
  --ntasks-per-node "$RANKS" --time 00:10:00 --stages "$stages" --tasks "devmap coarsen" "$SRC/tests/data/ir"
[[ -s $O/jobs.tsv ]] || fail "pipeline.sh wrote no $O/jobs.tsv"
mapfile -t ids < <(cut -f2 "$O/jobs.tsv")
n_stages=$(wc -w <<<"$stages")
[[ ${#ids[@]} == "$n_stages" ]] || fail "pipeline.sh submitted ${#ids[@]} jobs, not $n_stages"
wait_jobs 300 "${ids[@]}"
say "case 1: all jobs ended"
bad=0
while IFS=$'\t' read -r stage id; do
  while read -r jid s ec r; do
    printf '  %-10s job %-8s %-10s exit %s\n' "$stage" "$jid" "$s" "$ec"
    [[ $s == COMPLETED && $ec == 0:0 ]] || bad=1
  done < <(job_states "$id")
done <"$O/jobs.tsv"
((bad == 0)) || fail "a pipeline job did not complete with exit code 0"
[[ -s $O/corpus.h5 ]] || fail "no corpus.h5"
[[ $(h5step "$O/model.h5") == 40 ]] || fail "model.h5 is at step '$(h5step "$O/model.h5")', not 40"
# one MPI job of RANKS ranks, not RANKS one-rank jobs: rank 0 names itself (mir-train[0]) and reads once
if ((RANKS > 1)); then
  [[ $(grep -c '^mir-train\[0\]: .*corpus.h5: 5 modules' "$O"/logs/mir-train-*.out) == 1 ]] ||
    fail "mir-train did not run as one job of $RANKS ranks"
fi
"$PY" - "$O" <<'PY'
import sys, h5py
o = sys.argv[1]
c = h5py.File(f"{o}/corpus.h5")
e = h5py.File(f"{o}/embeddings.h5")
n = len(c["modules/status"]) if "modules/status" in c else None
emb = e["embeddings"]
assert emb.ndim == 2 and emb.shape[0] >= 5 and emb.shape[1] > 0, emb.shape
assert n is None or emb.shape[0] == n, (emb.shape, n)
print(f"  corpus: {n} modules; embeddings {emb.shape[0]} x {emb.shape[1]}")
PY
if [[ " $stages " == *" analyze "* ]]; then
  for f in analysis/devmap/summary.json analysis/coarsen/summary.json analysis/seed-1/devmap/summary.json \
           analysis/seed-1/coarsen/summary.json analysis/devmap/summary.md; do
    [[ -s $O/$f ]] || fail "no $f"
  done
  "$PY" -c "import json,sys; [json.load(open(f)) for f in sys.argv[1:]]" "$O"/analysis/*/summary.json \
    "$O"/analysis/seed-1/*/summary.json
  say "case 1: analysis outputs present"
fi
say "case 1: PASSED"

# --- case 2: requeue and resume ---------------------------------------------------------------------------
# How many steps make a run of about 20 s here: a short run of the same job first (the speed under srun
# and this machine's load, not a guess).
Q=$T/out/requeue
mkdir -p "$Q"
train_job() { # MODEL STEPS CHECKPOINT_EVERY: submit train.sbatch (srun launcher), print the job id
  local id
  id=$(MIR_OUT_DIR=$Q MIR_CORPUS=$O/corpus.h5 MIR_MODEL=$1 MIR_CONFIG=tiny MIR_STEPS=$2 MIR_MICRO_BATCH=2 \
    MIR_BATCH=$((2 * RANKS)) MIR_CHECKPOINT_EVERY=$3 MIR_LAUNCHER=srun MIR_SRUN_MPI=pmix \
    MIR_TRAIN_ARGS="--progress-interval 5" \
    sbatch --parsable --export=ALL --nodes=1 --ntasks-per-node="$RANKS" --time=00:15:00 --signal=B:USR1@60 \
    --output="$Q/train-%j.out" --chdir="$Q" "$SRC/jobs/slurm/train.sbatch")
  echo "${id%%;*}"
}
id=$(train_job "$Q/probe.h5" 200 100)
wait_jobs 120 "$id"
read -r _ s ec _ < <(job_states "$id")
[[ $s == COMPLETED && $ec == 0:0 && $(h5step "$Q/probe.h5") == 200 ]] ||
  fail "the 200-step train.sbatch job $id ended $s, exit code $ec, model at step $(h5step "$Q/probe.h5")"
steps=$("$PY" - "$Q/probe.h5.metrics.csv" <<'PY'
import sys, csv
rows = list(csv.DictReader(open(sys.argv[1])))
secs = max(float(rows[-1]["elapsed_s"]) - float(rows[19]["elapsed_s"]), 0.01)   # leave out the start-up
rate = (len(rows) - 20) / secs
print(min(200000, max(400, int(rate * 20) // 100 * 100)))
PY
)
ckpt=$((steps / 25))
say "case 2: train.sbatch, srun --mpi=pmix, $steps steps (about 20 s unloaded), checkpoint every $ckpt"
M=$Q/model.h5
id=$(train_job "$M" "$steps" "$ckpt")
LOG=$Q/train-$id.out
# wait_for SECONDS DESCRIPTION CONDITION...: poll CONDITION (a command) every 0.2 s
wait_for() {
  local limit=$1 what=$2 t0=$SECONDS
  shift 2
  until "$@"; do
    ((SECONDS - t0 < limit)) || fail "$what: not after $limit s"
    sleep 0.2
  done
}
jstate() { job_states "$id" | awk '{print $2}'; }
running_from() { # N: the job runs and its log says it resumed at step > N
  [[ $(jstate) == RUNNING ]] || return 1
  local at
  at=$(sed -n 's/.*resuming .* at step \([0-9]*\) of.*/\1/p' "$LOG" | tail -n 1)
  [[ -n $at && $at -gt $1 ]]
}
ckpt_beyond() { local s; s=$(h5step "$M"); [[ -n $s && $s -gt $1 ]]; }

wait_for 60 "first checkpoint of job $id" ckpt_beyond 0
[[ $(jstate) == RUNNING ]] || fail "job $id is $(jstate) at its first checkpoint (too fast? $steps steps)"
s1=$(h5step "$M")
say "case 2: checkpoint at step $s1: scontrol requeue $id"
scontrol requeue "$id"
wait_for 60 "job $id running again, resumed" running_from 0
r1=$(sed -n 's/.*resuming .* at step \([0-9]*\) of.*/\1/p' "$LOG" | tail -n 1)
say "case 2: resumed at step $r1"
wait_for 60 "a checkpoint after step $r1" ckpt_beyond "$r1"
[[ $(jstate) == RUNNING ]] || fail "job $id is $(jstate) before the warning signal (too fast? $steps steps)"
say "case 2: SIGUSR1 to the batch shell (as --signal=B:USR1@... would)"
scancel --batch --signal=USR1 "$id"
wait_for 60 "the script's own requeue" grep -q "requeueing to resume" "$LOG"
wait_for 60 "job $id running again, resumed after step $r1" running_from "$r1"
r2=$(sed -n 's/.*resuming .* at step \([0-9]*\) of.*/\1/p' "$LOG" | tail -n 1)
say "case 2: resumed at step $r2; waiting for the end ($steps steps)"
wait_jobs 300 "$id"
read -r _ s ec restarts < <(job_states "$id")
echo "  train job $id: $s, exit $ec, $restarts restarts"
[[ $s == COMPLETED && $ec == 0:0 ]] || fail "train job $id ended $s, exit code $ec"
[[ $restarts == 2 ]] || fail "train job $id restarted $restarts times, not 2"
[[ $(h5step "$M") == "$steps" ]] || fail "the final model is at step $(h5step "$M"), not $steps"
[[ $(grep -c "== train: job $id" "$LOG") == 3 ]] || fail "the log (--open-mode=append) does not hold 3 runs"
grep -q "got SIGUSR1" "$LOG" || fail "the script did not log the warning signal"
"$PY" - "$M.metrics.csv" "$steps" "$r1" "$r2" <<'PY'
import sys, csv
path, steps, r1, r2 = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
rows = [int(r["step"]) for r in csv.DictReader(open(path))]
# the runs append to one CSV; a run resumed from its checkpoint goes on from the step after it (or goes back
# to it, when steps after the last checkpoint were lost), a run started over would begin at step 1 again
back = [(a, b) for a, b in zip(rows, rows[1:]) if b != a + 1]
print(f"  metrics: {len(rows)} rows, steps {rows[0]}..{rows[-1]}; discontinuities {back}")
assert rows.count(1) == 1, "a run started over from step 1"
assert all(b > 1 for a, b in back), back
assert 0 < r1 < r2 < steps, (r1, r2, steps)
assert rows[-1] == steps and set(rows) == set(range(1, steps + 1)), "steps missing"
PY
say "case 2: PASSED (requeued by scontrol at step $r1, by itself on SIGUSR1 at step $r2, finished at $steps)"

# --- the PBS and local scripts -------------------------------------------------------------------------------
for f in "$SRC"/jobs/common.sh "$SRC"/jobs/slurm/* "$SRC"/jobs/pbs/* "$SRC"/jobs/local/*; do
  bash -n "$f" || fail "bash -n $f"
done
"$SRC/jobs/pbs/pipeline.sh" --help | grep -q "qsub" || fail "jobs/pbs/pipeline.sh --help"
say "local: jobs/local/pipeline.sh (preprocess train infer)"
L=$T/out/local
MIR_RANKS=$RANKS MIR_MICRO_BATCH=2 MIR_MPIRUN_ARGS="--oversubscribe" \
  "$SRC/jobs/local/pipeline.sh" --out "$L" --config tiny --steps 10 --stages "preprocess train infer" \
  "$SRC/tests/data/ir" >"$T/out/local.log" 2>&1 || { cat "$T/out/local.log"; fail "jobs/local/pipeline.sh"; }
[[ $(h5step "$L/model.h5") == 10 && -s $L/embeddings.h5 ]] || { cat "$T/out/local.log"; fail "local outputs"; }
# no PBS server here: run the PBS stage scripts the way a PBS mom would (a copy of the script, the PBS_*
# variables, the allocated hosts in PBS_NODEFILE), to run their bodies and jobs/common.sh under them
say "pbs: preprocess.pbs, train.pbs, infer.pbs with PBS's variables set by hand"
P=$T/out/pbs
mkdir -p "$P/spool"
for ((i = 0; i < RANKS; i++)); do echo localhost; done >"$P/nodefile"
for stage in preprocess train infer; do
  cp "$SRC/jobs/pbs/$stage.pbs" "$P/spool/1$stage.fake.SC"
  (cd "$P" && env -u MIR_JOBS_DIR PBS_JOBID="1$stage.fake" PBS_NODEFILE="$P/nodefile" PBS_O_WORKDIR="$SRC" \
    MIR_OUT_DIR="$P" MIR_INPUTS="$SRC/tests/data/ir" MIR_CONFIG=tiny MIR_STEPS=10 MIR_MICRO_BATCH=2 \
    MIR_MPIRUN_ARGS="--oversubscribe" MIR_TIME=00:10:00 bash "$P/spool/1$stage.fake.SC") ||
    { cat "$P/logs/$stage.log"; fail "jobs/pbs/$stage.pbs"; }
done
[[ $(h5step "$P/model.h5") == 10 && -s $P/embeddings.h5 ]] || fail "PBS stage outputs"
grep -q -- "--hostfile $P/nodefile" "$P/logs/train.log" || fail "mpirun under PBS did not get PBS_NODEFILE"
grep -q "SIGUSR1 to this script in 300 s" "$P/logs/train.log" || fail "train.pbs did not arm its warning"
say "PASSED"
