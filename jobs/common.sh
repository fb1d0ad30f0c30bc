# jobs/common.sh: what the Slurm, PBS and local pipelines share (sourced, never run): the variables
# and their defaults, how the programs are found and launched, and the body of each stage. The batch
# scripts in jobs/slurm/ and jobs/pbs/ are thin: scheduler directives, then one mir_stage_* call.
#
# Variables (environment; the pipeline.sh scripts also take them as options and export them to the jobs):
#   MIR_OUT_DIR          where everything is written (default: <project>/out/jobs); must be on a file
#                        system that every node sees (docs/scale.md)
#   MIR_DATA_DIR         raw data sets for mir-analyze (default: <project>/../shared/data)
#   MIR_INPUTS           what mir-preprocess reads: files, directories, @lists, space-separated (required
#                        for the preprocess stage; pipeline.sh takes them as arguments)
#   MIR_PREPROCESS_ARGS  more mir-preprocess options, e.g. "--compile -I /path/include"
#   MIR_CORPUS           corpus file (default: $MIR_OUT_DIR/corpus.h5)
#   MIR_MODEL            model file and its checkpoints (default: $MIR_OUT_DIR/model.h5)
#   MIR_CONFIG           model size: tiny | small | base | a config file (default: small)
#   MIR_STEPS            optimiser steps in all (default: 1500)
#   MIR_BATCH            global batch (default: 16, raised to a multiple of MIR_MICRO_BATCH x ranks)
#   MIR_MICRO_BATCH      modules per micro-batch (default: 4)
#   MIR_CHECKPOINT_EVERY steps between checkpoints (default: 100)
#   MIR_SEED             seed of training and of the analysis (default: 1234 for training, 1 for analysis
#                        unless set)
#   MIR_TRAIN_ARGS       more mir-train options, e.g. "--warmup 200 --eval-every 250 --lr 1e-3"
#   MIR_EMBEDDINGS       embeddings file (default: $MIR_OUT_DIR/embeddings.h5)
#   MIR_INFER_INPUTS     what mir-infer embeds (default: the corpus, $MIR_CORPUS)
#   MIR_INFER_ARGS       more mir-infer options
#   MIR_TASKS            downstream tasks (default: "devmap coarsen")
#   MIR_SEEDS            seeds of the sweep, one array job per task and seed (default: "1 2 3")
#   MIR_ANALYZE_ARGS     more mir-analyze options, e.g. "--seeds 10 --no-ablations"
#   MIR_ANALYSIS_DIR     analysis output root (default: $MIR_OUT_DIR/analysis; the sweep writes
#                        $MIR_ANALYSIS_DIR/seed-K/TASK/)
#   MIR_LAUNCHER         srun | mpirun | none (default: srun under Slurm, mpirun elsewhere)
#   MIR_SRUN_MPI         srun --mpi= plugin (default: pmix; empty: the site's MpiDefault)
#   MIR_MPIRUN           the mpirun command (default: mpirun); MIR_MPIRUN_ARGS: its extra options
#   MIR_RANKS            MPI ranks (default: the scheduler's task count; locally, the number of cores)
#   MIR_BIN_DIR          folder holding mir-preprocess, mir-train, mir-infer, mir-analyze; else each is
#                        taken from MIR_PREPROCESS / MIR_TRAIN / MIR_INFER / MIR_ANALYZE (full paths), else
#                        from PATH, else from MIR_BUILD_DIR (default: <project>/build)
#   MIR_STRICT           1: a stage that processed all but some modules (exit status 3) fails the job
#                        (default 0: the corpus or embeddings are complete without them, the chain goes on)
#   OPENBLAS_NUM_THREADS, OMP_NUM_THREADS   default 1: one rank per core beats threads (docs/scale.md)
#   OPENBLAS_CORETYPE    passed to the ranks when set: where the programs warn that OpenBLAS runs generic
#                        kernels on an AVX2/AVX-512 CPU, set the value they name (docs/scale.md)

# --- where things are --------------------------------------------------------------------------------
MIR_JOBS_DIR=${MIR_JOBS_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)}
MIR_ROOT=${MIR_ROOT:-$(cd "$MIR_JOBS_DIR/.." && pwd)}

mir_log() { echo "mir-jobs: $*" >&2; }
mir_die() { echo "mir-jobs: error: $*" >&2; exit 1; }

# mir_help FILE: print the comment block at the top of FILE (after the #! line and #SBATCH/#PBS lines)
mir_help() {
  awk 'NR == 1 && /^#!/ { next } /^#(SBATCH|PBS)/ { next } /^#/ { sub(/^# ?/, ""); print; next } { exit }' "$1"
}

# mir_defaults: fill in every variable that is not set, and export them all (the jobs inherit them)
mir_defaults() {
  : "${MIR_OUT_DIR:=$MIR_ROOT/out/jobs}"
  : "${MIR_DATA_DIR:=$MIR_ROOT/../shared/data}"
  : "${MIR_INPUTS:=}"
  : "${MIR_PREPROCESS_ARGS:=}"
  : "${MIR_CORPUS:=$MIR_OUT_DIR/corpus.h5}"
  : "${MIR_MODEL:=$MIR_OUT_DIR/model.h5}"
  : "${MIR_CONFIG:=small}"
  : "${MIR_STEPS:=1500}"
  : "${MIR_BATCH:=}"
  : "${MIR_MICRO_BATCH:=4}"
  : "${MIR_CHECKPOINT_EVERY:=100}"
  : "${MIR_SEED:=}"
  : "${MIR_TRAIN_ARGS:=}"
  : "${MIR_EMBEDDINGS:=$MIR_OUT_DIR/embeddings.h5}"
  : "${MIR_INFER_INPUTS:=$MIR_CORPUS}"
  : "${MIR_INFER_ARGS:=}"
  : "${MIR_TASKS:=devmap coarsen}"
  : "${MIR_SEEDS:=1 2 3}"
  : "${MIR_ANALYZE_ARGS:=}"
  : "${MIR_ANALYSIS_DIR:=$MIR_OUT_DIR/analysis}"
  : "${MIR_LOG_DIR:=$MIR_OUT_DIR/logs}"
  if [[ -z "${MIR_LAUNCHER:-}" ]]; then
    if [[ -n "${SLURM_JOB_ID:-}" || "${MIR_SCHEDULER:-}" == slurm ]]; then MIR_LAUNCHER=srun; else MIR_LAUNCHER=mpirun; fi
  fi
  : "${MIR_SRUN_MPI=pmix}"
  : "${MIR_MPIRUN:=mpirun}"
  : "${MIR_MPIRUN_ARGS:=}"
  : "${MIR_BUILD_DIR:=$MIR_ROOT/build}"
  : "${MIR_STRICT:=0}"
  : "${OPENBLAS_NUM_THREADS:=1}"
  : "${OMP_NUM_THREADS:=1}"
  export MIR_JOBS_DIR MIR_ROOT MIR_OUT_DIR MIR_DATA_DIR MIR_INPUTS MIR_PREPROCESS_ARGS MIR_CORPUS MIR_MODEL \
    MIR_CONFIG MIR_STEPS MIR_BATCH MIR_MICRO_BATCH MIR_CHECKPOINT_EVERY MIR_SEED MIR_TRAIN_ARGS \
    MIR_EMBEDDINGS MIR_INFER_INPUTS MIR_INFER_ARGS MIR_TASKS MIR_SEEDS MIR_ANALYZE_ARGS MIR_ANALYSIS_DIR \
    MIR_LOG_DIR MIR_LAUNCHER MIR_SRUN_MPI MIR_MPIRUN MIR_MPIRUN_ARGS MIR_BUILD_DIR MIR_STRICT \
    OPENBLAS_NUM_THREADS OMP_NUM_THREADS
  case "$MIR_LAUNCHER" in srun | mpirun | none) ;; *) mir_die "MIR_LAUNCHER=$MIR_LAUNCHER: srun, mpirun or none" ;; esac
  [[ "$MIR_STEPS" =~ ^[0-9]+$ ]] || mir_die "MIR_STEPS=$MIR_STEPS is not a number"
}

# mir_abs PATH: PATH made absolute against the current directory (jobs may start elsewhere)
mir_abs() { case "$1" in /*) echo "$1" ;; *) echo "$PWD/$1" ;; esac; }

# mir_abs_paths: make the file and folder variables absolute (a submitting shell's relative paths mean
# nothing where the job starts); inputs are words, each made absolute, "@list" as "@/abs/list"
mir_abs_paths() {
  local v w out
  for v in MIR_OUT_DIR MIR_DATA_DIR MIR_CORPUS MIR_MODEL MIR_EMBEDDINGS MIR_ANALYSIS_DIR MIR_LOG_DIR \
           MIR_BUILD_DIR; do
    printf -v "$v" '%s' "$(mir_abs "${!v}")"
  done
  for v in MIR_INPUTS MIR_INFER_INPUTS; do
    out=""
    for w in ${!v}; do
      case "$w" in @*) w="@$(mir_abs "${w#@}")" ;; *) w=$(mir_abs "$w") ;; esac
      out+="${out:+ }$w"
    done
    printf -v "$v" '%s' "$out"
  done
  [[ -z "${MIR_BIN_DIR:-}" ]] || MIR_BIN_DIR=$(mir_abs "$MIR_BIN_DIR")
  [[ "$MIR_CONFIG" != */* && ! -f "$MIR_CONFIG" ]] || MIR_CONFIG=$(mir_abs "$MIR_CONFIG")
}

# mir_find_bin NAME: the full path of a program (MIR_BIN_DIR, its own variable, PATH, the build tree)
mir_find_bin() {
  local name=$1 var sub p
  case "$name" in
    mir-preprocess) var=MIR_PREPROCESS sub=preprocess ;;
    mir-train) var=MIR_TRAIN sub=train ;;
    mir-infer) var=MIR_INFER sub=infer ;;
    mir-analyze) var=MIR_ANALYZE sub=analysis ;;
    *) mir_die "unknown program $name" ;;
  esac
  for p in ${MIR_BIN_DIR:+"$MIR_BIN_DIR/$name"} ${!var:+"${!var}"} "$(command -v "$name" 2>/dev/null || true)" \
           "$MIR_BUILD_DIR/$sub/$name"; do
    [[ -n "$p" && -x "$p" && ! -d "$p" ]] && { mir_abs "$p"; return 0; }
  done
  mir_die "$name not found: set MIR_BIN_DIR, or $var, or put it on PATH, or build it into $MIR_BUILD_DIR"
}

# mir_ranks: how many MPI ranks this job runs
mir_ranks() {
  if [[ -n "${MIR_RANKS:-}" ]]; then echo "$MIR_RANKS"
  elif [[ -n "${SLURM_NTASKS:-}" ]]; then echo "$SLURM_NTASKS"
  elif [[ -n "${PBS_NODEFILE:-}" && -r "${PBS_NODEFILE:-}" ]]; then wc -l <"$PBS_NODEFILE" | tr -d ' '
  else nproc
  fi
}

# mir_launch_cmd CMD...: set MIR_CMD to CMD under the chosen launcher, on all the job's ranks
mir_launch_cmd() {
  local n extra=()
  n=$(mir_ranks)
  case "$MIR_LAUNCHER" in
    srun)
      read -r -a extra <<<"${MIR_SRUN_ARGS:-}"
      MIR_CMD=(srun ${MIR_SRUN_MPI:+"--mpi=$MIR_SRUN_MPI"} --ntasks="$n" "${extra[@]}" "$@") ;;
    mpirun)
      local mpirun=()
      read -r -a mpirun <<<"$MIR_MPIRUN"
      read -r -a extra <<<"$MIR_MPIRUN_ARGS"
      # Open MPI passes only named variables to ranks on other nodes
      if "${mpirun[@]}" --version 2>/dev/null | grep -q "Open MPI"; then
        extra=(-x OPENBLAS_NUM_THREADS -x OMP_NUM_THREADS "${extra[@]}")
        [[ -n "${OPENBLAS_CORETYPE:-}" ]] && extra=(-x OPENBLAS_CORETYPE "${extra[@]}")
        # under PBS, the allocated hosts (an Open MPI built with tm support finds them itself as well)
        [[ -n "${PBS_NODEFILE:-}" && -r "${PBS_NODEFILE:-}" ]] && extra=(--hostfile "$PBS_NODEFILE" "${extra[@]}")
      fi
      MIR_CMD=("${mpirun[@]}" -np "$n" "${extra[@]}" "$@") ;;
    none) MIR_CMD=("$@") ;;
  esac
}

mir_launch() { # CMD...: run CMD under the launcher
  mir_launch_cmd "$@"
  "${MIR_CMD[@]}"
}

# mir_run_tool NAME CMD...: launch CMD; exit status 3 (some modules failed, the output is complete) is a
# success unless MIR_STRICT=1. Returns the status to use.
mir_run_tool() {
  local name=$1 rc
  shift
  mir_launch_cmd "$@"
  mir_log "$name: $(mir_ranks) ranks: ${MIR_CMD[*]}"
  set +e
  "${MIR_CMD[@]}"
  rc=$?
  set -e
  if [[ $rc == 3 && "$MIR_STRICT" != 1 ]]; then
    mir_log "$name: some modules failed (exit status 3; listed above); the output is complete without them"
    rc=0
  fi
  mir_log "$name: exit status $rc"
  return "$rc"
}

mir_job_header() { # STAGE: one line naming the job, host and time (the logs of requeued jobs append)
  mir_log "== $1: job ${SLURM_JOB_ID:-${PBS_JOBID:-local}} on $(hostname -s), $(date '+%F %T'), restart ${SLURM_RESTART_COUNT:-0}"
}

# --- the stages ------------------------------------------------------------------------------------

mir_stage_preprocess() { # [more mir-preprocess arguments]
  mir_job_header preprocess
  local pp inputs
  pp=$(mir_find_bin mir-preprocess)
  [[ -n "$MIR_INPUTS" ]] || mir_die "preprocess: no inputs: set MIR_INPUTS (or give them to pipeline.sh)"
  read -r -a inputs <<<"$MIR_INPUTS"
  mkdir -p "$(dirname "$MIR_CORPUS")"
  # shellcheck disable=SC2086
  mir_run_tool mir-preprocess "$pp" --no-progress --failures "$MIR_CORPUS.failures.tsv" -o "$MIR_CORPUS" \
    $MIR_PREPROCESS_ARGS "$@" "${inputs[@]}"
}

# mir_model_step FILE: the step stored in a model file's /state (empty when unknown: no file, no h5dump)
mir_model_step() {
  [[ -f "$1" ]] && command -v h5dump >/dev/null || return 0
  h5dump -a /state/step "$1" 2>/dev/null | sed -n 's/^ *(0): *\([0-9]*\).*/\1/p' | head -n 1
}

# mir_train_batch: the global batch, a multiple of micro-batch x ranks (mir-train requires it)
mir_train_batch() {
  local unit=$((MIR_MICRO_BATCH * $(mir_ranks)))
  if [[ -n "$MIR_BATCH" ]]; then echo "$MIR_BATCH"; return; fi
  echo $(((16 + unit - 1) / unit * unit))
}

# mir_stage_train REQUEUE_FUNCTION [more mir-train arguments]
# Runs mir-train --resume (a fresh start when the model file does not exist yet) in the background and
# waits for it. USR1 (the scheduler's warning before the time limit), TERM or INT make it forward USR1 to
# the launcher: mir-train finishes the current step, writes its checkpoint and exits 0. After USR1, when
# the model has not reached MIR_STEPS, REQUEUE_FUNCTION is called (scontrol requeue, or a PBS
# continuation job) so that the next run resumes from the checkpoint, and the stage succeeds. After TERM
# (cancelled, requeued by the scheduler, killed at the time limit without a warning) or INT it only
# checkpoints and fails (143, 130) unless the training was complete: running it again resumes.
mir_stage_train() {
  local requeue=$1 tr pid rc=0 step
  shift
  mir_job_header train
  tr=$(mir_find_bin mir-train)
  [[ -f "$MIR_CORPUS" ]] || mir_die "train: corpus $MIR_CORPUS does not exist (run the preprocess stage)"
  mkdir -p "$(dirname "$MIR_MODEL")"
  local args=(--corpus "$MIR_CORPUS" -o "$MIR_MODEL" --config "$MIR_CONFIG" --steps "$MIR_STEPS"
    --batch "$(mir_train_batch)" --micro-batch "$MIR_MICRO_BATCH" --checkpoint-every "$MIR_CHECKPOINT_EVERY"
    --resume)
  [[ -n "$MIR_SEED" ]] && args+=(--seed "$MIR_SEED")
  local extra=()
  read -r -a extra <<<"$MIR_TRAIN_ARGS"
  step=$(mir_model_step "$MIR_MODEL")
  mir_log "train: model $MIR_MODEL at step ${step:-0} of $MIR_STEPS"
  MIR_SIGNAL=""
  trap 'MIR_SIGNAL=USR1' USR1
  trap 'MIR_SIGNAL=${MIR_SIGNAL:-TERM}' TERM
  trap 'MIR_SIGNAL=${MIR_SIGNAL:-INT}' INT   # Ctrl-C when run by hand (jobs/local)
  mir_launch_cmd "$tr" "${args[@]}" "${extra[@]}" "$@"
  # run by hand (jobs/local), the launcher gets a session of its own: Ctrl-C then reaches only this shell,
  # which asks for a checkpoint, instead of killing the ranks
  if [[ "${MIR_OWN_SESSION:-0}" == 1 ]] && command -v setsid >/dev/null; then MIR_CMD=(setsid "${MIR_CMD[@]}"); fi
  mir_log "train: $(mir_ranks) ranks: ${MIR_CMD[*]}"
  "${MIR_CMD[@]}" &   # the launcher itself is the child, so that it receives the forwarded signal
  pid=$!
  local forwarded=0
  while :; do
    set +e
    wait "$pid"
    rc=$?
    set -e
    # wait returns early (status > 128) when a trapped signal arrives; the launcher is still there
    if kill -0 "$pid" 2>/dev/null; then
      if [[ -n "$MIR_SIGNAL" && $forwarded == 0 ]]; then
        mir_log "train: got SIG$MIR_SIGNAL: asking mir-train to checkpoint and stop (SIGUSR1 to the launcher)"
        kill -USR1 "$pid" 2>/dev/null || true
        forwarded=1
      fi
      continue
    fi
    break
  done
  trap - USR1 TERM INT
  mir_log "train: mir-train exit status $rc"
  [[ $rc == 0 ]] || return "$rc"
  step=$(mir_model_step "$MIR_MODEL")
  if [[ "$MIR_SIGNAL" == USR1 && "$step" != "$MIR_STEPS" ]]; then
    mir_log "train: checkpoint at step ${step:-?} of $MIR_STEPS: requeueing to resume"
    "$requeue"
    return 0
  fi
  if [[ -n "$MIR_SIGNAL" && "$step" != "$MIR_STEPS" ]]; then
    # not done: fail, so that nothing that needs the trained model runs after it (a requeue by Slurm
    # itself, which sent the TERM, still happens)
    mir_log "train: stopped by SIG$MIR_SIGNAL at step ${step:-?} of $MIR_STEPS; run it again to resume"
    [[ "$MIR_SIGNAL" == INT ]] && return 130
    return 143
  fi
  [[ -z "$step" || "$step" == "$MIR_STEPS" ]] || mir_log "train: warning: the model is at step $step, not $MIR_STEPS"
  return 0
}

mir_stage_infer() { # [more mir-infer arguments]
  mir_job_header infer
  local inf inputs extra=()
  inf=$(mir_find_bin mir-infer)
  [[ -f "$MIR_MODEL" ]] || mir_die "infer: model $MIR_MODEL does not exist (run the train stage)"
  read -r -a inputs <<<"$MIR_INFER_INPUTS"
  read -r -a extra <<<"$MIR_INFER_ARGS"
  mkdir -p "$(dirname "$MIR_EMBEDDINGS")"
  mir_run_tool mir-infer "$inf" --model "$MIR_MODEL" -o "$MIR_EMBEDDINGS" "${extra[@]}" "$@" "${inputs[@]}"
}

# mir_analysis_data TASK: succeeds when MIR_DATA_DIR holds what mir-analyze TASK reads
mir_analysis_data() {
  local f files
  case "$1" in
    devmap) files="devmap/cgo17-amd.csv devmap/cgo17-nvidia.csv devmap/task_devmap.zip" ;;
    coarsen) files="thread_coarsening/pact-2014-runtimes.csv thread_coarsening/task_threadcoarsening.zip" ;;
    *) mir_log "unknown task $1 (devmap, coarsen)"; return 1 ;;
  esac
  for f in $files; do [[ -r "$MIR_DATA_DIR/$f" ]] || return 1; done
}

# mir_analyze TASK SEED OUT [more mir-analyze arguments]: one mir-analyze run
mir_analyze() {
  local task=$1 seed=$2 out=$3 an extra=()
  shift 3
  an=$(mir_find_bin mir-analyze)
  [[ -f "$MIR_MODEL" ]] || mir_die "analyze: model $MIR_MODEL does not exist (run the train stage)"
  mir_analysis_data "$task" || mir_die "analyze: $task: the data sets are not in $MIR_DATA_DIR (MIR_DATA_DIR)"
  read -r -a extra <<<"$MIR_ANALYZE_ARGS"
  mkdir -p "$out"
  mir_run_tool "mir-analyze $task" "$an" "$task" --model "$MIR_MODEL" --data "$MIR_DATA_DIR" --out "$out" \
    --seed "$seed" "${extra[@]}" "$@"
}

mir_stage_analyze() { # [more mir-analyze arguments]: every task of MIR_TASKS, one after the other
  mir_job_header analyze
  local task
  for task in $MIR_TASKS; do
    mir_analyze "$task" "${MIR_SEED:-1}" "$MIR_ANALYSIS_DIR" "$@"
  done
}

# mir_sweep_size: number of array elements (tasks x seeds)
mir_sweep_size() {
  local t s
  read -r -a t <<<"$MIR_TASKS"
  read -r -a s <<<"$MIR_SEEDS"
  echo $((${#t[@]} * ${#s[@]}))
}

mir_stage_sweep() { # INDEX [more mir-analyze arguments]: element INDEX of the tasks x seeds sweep
  local i=$1 t s
  shift
  mir_job_header "sweep element $i"
  read -r -a t <<<"$MIR_TASKS"
  read -r -a s <<<"$MIR_SEEDS"
  [[ "$i" =~ ^[0-9]+$ ]] && ((i < ${#t[@]} * ${#s[@]})) ||
    mir_die "sweep: array index '$i' outside 0..$(($(mir_sweep_size) - 1)) (MIR_TASKS x MIR_SEEDS)"
  local task=${t[$((i % ${#t[@]}))]} seed=${s[$((i / ${#t[@]}))]}
  mir_log "sweep: element $i: task $task, seed $seed"
  mir_analyze "$task" "$seed" "$MIR_ANALYSIS_DIR/seed-$seed" "$@"
}

# --- what the three pipeline.sh scripts share ------------------------------------------------------

# mir_pipeline_args HELP_FILE ARGS...: the options of the pipeline.sh scripts (each sets a variable; an
# option a scheduler has no use for is accepted and left unused), INPUTs into MIR_INPUTS, --dry-run into
# MIR_DRY_RUN. Exits 0 after --help, 2 on bad usage.
mir_pipeline_args() {
  local help=$1 inputs=() a
  shift
  MIR_DRY_RUN=${MIR_DRY_RUN:-0}
  while (($#)); do
    case "$1" in
      -h | --help) mir_help "$help"; exit 0 ;;
      --dry-run) MIR_DRY_RUN=1; shift; continue ;;
      --) shift; for a in "$@"; do inputs+=("$(mir_abs "$a")"); done; break ;;
      -*)
        [[ $# -ge 2 ]] || { echo "pipeline.sh: $1 needs a value (--help)" >&2; exit 2; }
        case "$1" in
          --out) MIR_OUT_DIR=$2 ;; --data) MIR_DATA_DIR=$2 ;; --config) MIR_CONFIG=$2 ;;
          --steps) MIR_STEPS=$2 ;; --stages) MIR_STAGES=$2 ;; --tasks) MIR_TASKS=$2 ;; --seeds) MIR_SEEDS=$2 ;;
          --nodes) MIR_NODES=$2 ;; --ntasks-per-node) MIR_NTASKS_PER_NODE=$2 ;; --ranks) MIR_RANKS=$2 ;;
          --time) MIR_TIME=$2 ;; --signal-secs) MIR_SIGNAL_SECS=$2 ;; --launcher) MIR_LAUNCHER=$2 ;;
          --partition) MIR_PARTITION=$2 ;; --account) MIR_ACCOUNT=$2 ;; --qos) MIR_QOS=$2 ;;
          --queue) MIR_QUEUE=$2 ;; --sbatch) MIR_SBATCH_ARGS=$2 ;; --qsub) MIR_QSUB_ARGS=$2 ;;
          *) echo "pipeline.sh: unknown option $1 (--help)" >&2; exit 2 ;;
        esac
        shift 2 ;;
      *) inputs+=("$(mir_abs "$1")"); shift ;;
    esac
  done
  ((${#inputs[@]} == 0)) || MIR_INPUTS="${inputs[*]}"
  MIR_OUT_DIR=$(mir_abs "${MIR_OUT_DIR:-$MIR_ROOT/out/jobs}")
}

# mir_pipeline_prepare SCHEDULER: defaults, checks before anything runs (stages, inputs, the data sets
# for the analysis, the programs: their full paths are exported so that every job runs the same ones)
mir_pipeline_prepare() {
  local s t p
  MIR_SCHEDULER=$1 mir_defaults
  mir_abs_paths
  : "${MIR_STAGES:=preprocess train infer analyze}"
  : "${MIR_NODES:=1}" "${MIR_NTASKS_PER_NODE:=8}" "${MIR_TIME:=01:00:00}" "${MIR_SIGNAL_SECS:=300}"
  : "${MIR_TRAIN_TIME:=$MIR_TIME}" "${MIR_SWEEP_NTASKS:=$MIR_NTASKS_PER_NODE}" "${MIR_JOB_PREFIX:=mir}"
  export MIR_STAGES MIR_NODES MIR_NTASKS_PER_NODE MIR_TIME MIR_TRAIN_TIME MIR_SIGNAL_SECS MIR_SWEEP_NTASKS \
    MIR_JOB_PREFIX
  for s in $MIR_STAGES; do
    case "$s" in preprocess | train | infer | analyze | sweep) ;;
      *) echo "pipeline.sh: unknown stage $s (preprocess train infer analyze sweep)" >&2; exit 2 ;; esac
  done
  if mir_has_stage preprocess && [[ -z "$MIR_INPUTS" ]]; then
    echo "pipeline.sh: no inputs for mir-preprocess: give them as arguments or in MIR_INPUTS (--help)" >&2
    exit 2
  fi
  if mir_has_stage analyze || mir_has_stage sweep; then
    for t in $MIR_TASKS; do
      if ! mir_analysis_data "$t"; then
        mir_log "NOTE: the $t data sets are not in $MIR_DATA_DIR (MIR_DATA_DIR): analyze and sweep are left out"
        MIR_STAGES=$(sed -E 's/(^| )(analyze|sweep)( |$)/ /g; s/^ +| +$//g' <<<"$MIR_STAGES")
        break
      fi
    done
  fi
  for s in $MIR_STAGES; do
    case "$s" in
      preprocess) p=$(mir_find_bin mir-preprocess); export MIR_PREPROCESS=$p ;;
      train) p=$(mir_find_bin mir-train); export MIR_TRAIN=$p ;;
      infer) p=$(mir_find_bin mir-infer); export MIR_INFER=$p ;;
      analyze | sweep) p=$(mir_find_bin mir-analyze); export MIR_ANALYZE=$p ;;
    esac
  done
  [[ "$MIR_DRY_RUN" == 1 ]] || mkdir -p "$MIR_OUT_DIR" "$MIR_LOG_DIR"
}

mir_has_stage() { [[ " $MIR_STAGES " == *" $1 "* ]]; }
