#!/usr/bin/env bash
# jobs/slurm/pipeline.sh: submit the whole pipeline to Slurm as a chain of jobs, each starting only when
# the one before it succeeded (sbatch --dependency=afterok, --kill-on-invalid-dep=yes: when a stage fails,
# the jobs after it are cancelled instead of waiting forever):
#
#   preprocess.sbatch -> train.sbatch -> infer.sbatch
#                                    \-> analyze.sbatch (and/or analyze-array.sbatch, the "sweep")
#
#   jobs/slurm/pipeline.sh [OPTIONS] [INPUT...]
#
# INPUTs (files, directories, @lists) are what mir-preprocess reads (MIR_INPUTS). Options (each sets the
# variable beside it; the environment works as well, see jobs/common.sh and jobs/README.md):
#   --out DIR            MIR_OUT_DIR: corpus.h5, model.h5, embeddings.h5, analysis/, logs/ (default:
#                        <project>/out/jobs; use a shared file system)
#   --data DIR           MIR_DATA_DIR: raw data sets for the analysis (default: <project>/../shared/data)
#   --config C           MIR_CONFIG: tiny | small | base | FILE (default: small)
#   --steps N            MIR_STEPS: training steps (default: 1500)
#   --stages "LIST"      MIR_STAGES: of preprocess train infer analyze sweep (default: "preprocess train
#                        infer analyze"); analyze and sweep are left out, with a message, when the data
#                        sets are not in MIR_DATA_DIR
#   --tasks "LIST"       MIR_TASKS: devmap coarsen (default: both)
#   --seeds "LIST"       MIR_SEEDS: seeds of the sweep (default: "1 2 3")
#   --nodes N            MIR_NODES: nodes per job (default: 1)
#   --ntasks-per-node N  MIR_NTASKS_PER_NODE: MPI ranks per node, one per core (default: 8)
#   --time T             MIR_TIME: time limit of every job (default: 01:00:00); MIR_TRAIN_TIME for the
#                        training job (default: MIR_TIME)
#   --signal-secs S      MIR_SIGNAL_SECS: SIGUSR1 to train.sbatch S seconds before its time limit, to
#                        checkpoint and requeue (default: 300)
#   --launcher L         MIR_LAUNCHER: srun | mpirun (default: srun)
#   --partition P, --account A, --qos Q   MIR_PARTITION, MIR_ACCOUNT, MIR_QOS (default: the site's)
#   --sbatch "ARGS"      MIR_SBATCH_ARGS: more sbatch options for every job, e.g. "--mem-per-cpu=1G"
#   --dry-run            print the sbatch commands instead of running them
#   -h, --help           this text
# Also: MIR_SWEEP_NTASKS (ranks per sweep element, default MIR_NTASKS_PER_NODE on one node),
# MIR_ARRAY_MAX (most sweep elements at once), MIR_JOB_PREFIX (job names, default "mir").
#
# Prints the job ids and writes them to MIR_OUT_DIR/jobs.tsv (stage, job id); logs go to
# MIR_OUT_DIR/logs/NAME-JOBID.out. Exit status: 0 submitted, 1 an error (the jobs already submitted
# are cancelled), 2 bad usage.
set -euo pipefail
source "$(cd "$(dirname "$0")/.." && pwd)/common.sh"

mir_pipeline_args "$MIR_JOBS_DIR/slurm/pipeline.sh" "$@"
mir_pipeline_prepare slurm
dry=$MIR_DRY_RUN

common=(--parsable --export=ALL --kill-on-invalid-dep=yes --chdir="$MIR_OUT_DIR")
[[ -n "${MIR_PARTITION:-}" ]] && common+=(--partition="$MIR_PARTITION")
[[ -n "${MIR_ACCOUNT:-}" ]] && common+=(--account="$MIR_ACCOUNT")
[[ -n "${MIR_QOS:-}" ]] && common+=(--qos="$MIR_QOS")
read -r -a extra <<<"${MIR_SBATCH_ARGS:-}"
common+=("${extra[@]}")
res=(--nodes="$MIR_NODES" --ntasks-per-node="$MIR_NTASKS_PER_NODE" --cpus-per-task=1)

jobs_tsv=$MIR_OUT_DIR/jobs.tsv
((dry)) || : >"$jobs_tsv"
# a chain cut short is no use: when a submission fails, cancel the jobs already submitted
trap 'rc=$?; if ((rc != 0)) && [[ -s $jobs_tsv ]]; then
  mir_log "cancelling the jobs already submitted: $(cut -f2 "$jobs_tsv" | tr "\n" " ")"
  scancel $(cut -f2 "$jobs_tsv"); fi' EXIT
submit() { # STAGE DEPENDENCY SCRIPT SBATCH-OPTIONS...: prints the job id
  local stage=$1 dep=$2 script=$3 id
  shift 3
  local cmd=(sbatch "${common[@]}" --job-name="$MIR_JOB_PREFIX-$stage" ${dep:+--dependency=afterok:$dep} "$@"
    "$MIR_JOBS_DIR/slurm/$script")
  if ((dry)); then
    echo "${cmd[*]}" >&2
    id="<$stage>"
  else
    id=$("${cmd[@]}") || { echo "pipeline.sh: sbatch failed for $stage" >&2; exit 1; }
    id=${id%%;*}
    printf '%s\t%s\n' "$stage" "$id" >>"$jobs_tsv"
  fi
  echo "$stage: job $id${dep:+ (after $dep)}" >&2
  echo "$id"
}

log=$MIR_LOG_DIR/%x-%j.out
pre="" trained=""
if mir_has_stage preprocess; then
  pre=$(submit preprocess "" preprocess.sbatch "${res[@]}" --time="$MIR_TIME" --output="$log")
fi
if mir_has_stage train; then
  trained=$(submit train "$pre" train.sbatch "${res[@]}" --time="$MIR_TRAIN_TIME" --output="$log" \
    --signal=B:USR1@"$MIR_SIGNAL_SECS" --requeue --open-mode=append)
fi
if mir_has_stage infer; then
  submit infer "$trained" infer.sbatch "${res[@]}" --time="$MIR_TIME" --output="$log" >/dev/null
fi
if mir_has_stage analyze; then
  submit analyze "$trained" analyze.sbatch "${res[@]}" --time="$MIR_TIME" --output="$log" >/dev/null
fi
if mir_has_stage sweep; then
  n=$(mir_sweep_size)
  submit sweep "$trained" analyze-array.sbatch --nodes=1 --ntasks-per-node="$MIR_SWEEP_NTASKS" --cpus-per-task=1 \
    --time="$MIR_TIME" --array="0-$((n - 1))${MIR_ARRAY_MAX:+%$MIR_ARRAY_MAX}" \
    --output="$MIR_LOG_DIR/%x-%A_%a.out" >/dev/null
fi
((dry)) || mir_log "submitted: $MIR_STAGES (job ids in $jobs_tsv, logs in $MIR_LOG_DIR)"
