#!/usr/bin/env bash
# jobs/pbs/pipeline.sh: submit the whole pipeline to PBS Pro or Torque as a chain of jobs, each waiting
# for the one before it to succeed (qsub -W depend=afterok:ID); the PBS twin of jobs/slurm/pipeline.sh,
# with the same variables and defaults (jobs/common.sh, jobs/README.md):
#
#   preprocess.pbs -> train.pbs -> infer.pbs
#                              \-> analyze.pbs (and/or analyze-array.pbs, the "sweep", a job array)
#
#   jobs/pbs/pipeline.sh [OPTIONS] [INPUT...]
#
# INPUTs (files, directories, @lists) are what mir-preprocess reads (MIR_INPUTS). Options:
#   --out DIR            MIR_OUT_DIR (default: <project>/out/jobs; use a shared file system)
#   --data DIR           MIR_DATA_DIR: raw data sets for the analysis (default: <project>/../shared/data)
#   --config C           MIR_CONFIG: tiny | small | base | FILE (default: small)
#   --steps N            MIR_STEPS (default: 1500)
#   --stages "LIST"      MIR_STAGES: of preprocess train infer analyze sweep (default: "preprocess train
#                        infer analyze"); analyze and sweep are left out, with a message, without the data
#   --tasks "LIST"       MIR_TASKS (default: "devmap coarsen");  --seeds "LIST"  MIR_SEEDS (default "1 2 3")
#   --nodes N            MIR_NODES (default: 1)
#   --ntasks-per-node N  MIR_NTASKS_PER_NODE: MPI ranks per node, one per core (default: 8)
#   --time T             MIR_TIME: walltime of every job (default: 01:00:00; MIR_TRAIN_TIME for training)
#   --signal-secs S      MIR_SIGNAL_SECS: train.pbs checkpoints and continues in a new job S seconds
#                        before its walltime (default: 300)
#   --queue Q, --account A   MIR_QUEUE (qsub -q), MIR_ACCOUNT (qsub -A)
#   --qsub "ARGS"        MIR_QSUB_ARGS: more qsub options for every job
#   --launcher L         MIR_LAUNCHER: mpirun | none (default: mpirun; MIR_MPIRUN names the command)
#   --dry-run            print the qsub commands instead of running them
#   -h, --help           this text
# MIR_PBS_FLAVOR: pro (default: -l select=N:ncpus=C:mpiprocs=C, arrays with -J) or torque
# (-l nodes=N:ppn=C, arrays with -t). Job ids go to MIR_OUT_DIR/jobs.tsv; each job appends its output to
# MIR_OUT_DIR/logs/STAGE.log (sweep-INDEX.log for the array), PBS's own to logs/STAGE.pbs.out.
# Not tested against a real PBS here (the Slurm scripts are, tests/slurm/slurm_pipeline.sh); the stages
# run the same jobs/common.sh code as the Slurm and local pipelines.
set -euo pipefail
source "$(cd "$(dirname "$0")/.." && pwd)/common.sh"

mir_pipeline_args "$MIR_JOBS_DIR/pbs/pipeline.sh" "$@"
: "${MIR_LAUNCHER:=mpirun}"
mir_pipeline_prepare pbs
: "${MIR_PBS_FLAVOR:=pro}"
export MIR_PBS_FLAVOR
dry=$MIR_DRY_RUN

select_res() { # NODES RANKS_PER_NODE: the resource request in this PBS's syntax
  case "$MIR_PBS_FLAVOR" in
    pro) echo "select=$1:ncpus=$2:mpiprocs=$2" ;;
    torque) echo "nodes=$1:ppn=$2" ;;
    *) mir_die "MIR_PBS_FLAVOR=$MIR_PBS_FLAVOR: pro or torque" ;;
  esac
}
common=(-V -j oe)
[[ -n "${MIR_QUEUE:-}" ]] && common+=(-q "$MIR_QUEUE")
[[ -n "${MIR_ACCOUNT:-}" ]] && common+=(-A "$MIR_ACCOUNT")
read -r -a extra <<<"${MIR_QSUB_ARGS:-}"
common+=("${extra[@]}")
res=(-l "$(select_res "$MIR_NODES" "$MIR_NTASKS_PER_NODE")")

jobs_tsv=$MIR_OUT_DIR/jobs.tsv
((dry)) || : >"$jobs_tsv"
# a chain cut short is no use: when a submission fails, delete the jobs already submitted
trap 'rc=$?; if ((rc != 0)) && [[ -s $jobs_tsv ]]; then
  mir_log "deleting the jobs already submitted: $(cut -f2 "$jobs_tsv" | tr "\n" " ")"
  qdel $(cut -f2 "$jobs_tsv"); fi' EXIT
submit() { # STAGE DEPENDENCY SCRIPT QSUB-OPTIONS...: prints the job id
  local stage=$1 dep=$2 script=$3 id
  shift 3
  local out=$MIR_LOG_DIR/$stage.pbs.out
  # array elements: PBS Pro names each element's file by ^array_index^, Torque appends -INDEX itself
  [[ $stage == sweep && $MIR_PBS_FLAVOR == pro ]] && out=$MIR_LOG_DIR/sweep.^array_index^.pbs.out
  local cmd=(qsub "${common[@]}" -N "$MIR_JOB_PREFIX-$stage" -o "$out"
    ${dep:+-W depend=afterok:$dep} "$@" "$MIR_JOBS_DIR/pbs/$script")
  if ((dry)); then
    echo "${cmd[*]}" >&2
    id="<$stage>"
  else
    id=$("${cmd[@]}") || { echo "pipeline.sh: qsub failed for $stage" >&2; exit 1; }
    printf '%s\t%s\n' "$stage" "$id" >>"$jobs_tsv"
  fi
  echo "$stage: job $id${dep:+ (after $dep)}" >&2
  echo "$id"
}

# train.pbs submits its own continuation with these options
MIR_PBS_QSUB_TRAIN="${common[*]} -N $MIR_JOB_PREFIX-train -o $MIR_LOG_DIR/train.pbs.out ${res[*]} -l walltime=$MIR_TRAIN_TIME -r y"
export MIR_PBS_QSUB_TRAIN
pre="" trained=""
if mir_has_stage preprocess; then
  pre=$(submit preprocess "" preprocess.pbs "${res[@]}" -l walltime="$MIR_TIME")
fi
if mir_has_stage train; then
  trained=$(submit train "$pre" train.pbs "${res[@]}" -l walltime="$MIR_TRAIN_TIME" -r y)
fi
if mir_has_stage infer; then
  submit infer "$trained" infer.pbs "${res[@]}" -l walltime="$MIR_TIME" >/dev/null
fi
if mir_has_stage analyze; then
  submit analyze "$trained" analyze.pbs "${res[@]}" -l walltime="$MIR_TIME" >/dev/null
fi
if mir_has_stage sweep; then
  n=$(mir_sweep_size)
  array=(-J "0-$((n - 1))")
  [[ "$MIR_PBS_FLAVOR" == torque ]] && array=(-t "0-$((n - 1))")
  submit sweep "$trained" analyze-array.pbs -l "$(select_res 1 "$MIR_SWEEP_NTASKS")" \
    -l walltime="$MIR_TIME" "${array[@]}" >/dev/null
fi
((dry)) || mir_log "submitted: $MIR_STAGES (job ids in $jobs_tsv, logs in $MIR_LOG_DIR)"
