#!/usr/bin/env bash
# jobs/local/pipeline.sh: the same pipeline as jobs/slurm/pipeline.sh and jobs/pbs/pipeline.sh, on a
# workstation: the stages one after the other under plain mpirun, with the same variables and defaults
# (jobs/common.sh, jobs/README.md), stopping at the first stage that fails.
#
#   jobs/local/pipeline.sh [OPTIONS] [INPUT...]
#
# INPUTs (files, directories, @lists) are what mir-preprocess reads (MIR_INPUTS). Options (each sets the
# variable beside it):
#   --out DIR        MIR_OUT_DIR (default: <project>/out/jobs)
#   --data DIR       MIR_DATA_DIR: raw data sets for the analysis (default: <project>/../shared/data)
#   --config C       MIR_CONFIG: tiny | small | base | FILE (default: small)
#   --steps N        MIR_STEPS (default: 1500)
#   --stages "LIST"  MIR_STAGES: of preprocess train infer analyze sweep (default: "preprocess train infer
#                    analyze"); analyze and sweep are left out, with a message, without the data sets
#   --tasks "LIST"   MIR_TASKS (default: "devmap coarsen");  --seeds "LIST"  MIR_SEEDS (sweep; "1 2 3")
#   --ranks N        MIR_RANKS: MPI ranks (default: the number of cores)
#   --launcher L     MIR_LAUNCHER: mpirun | none (default: mpirun)
#   -h, --help       this text
# SIGUSR1 or SIGTERM during training: mir-train checkpoints and stops; run the same command again and
# it resumes (training always runs with --resume). Logs: MIR_OUT_DIR/logs/STAGE.log (appended).
# Exit status: 0 every stage done; otherwise that of the failed stage (2: bad usage).
set -euo pipefail
source "$(cd "$(dirname "$0")/.." && pwd)/common.sh"

mir_pipeline_args "$MIR_JOBS_DIR/local/pipeline.sh" "$@"
: "${MIR_LAUNCHER:=mpirun}" "${MIR_RANKS:=$(nproc)}"
export MIR_RANKS
mir_pipeline_prepare local
MIR_OWN_SESSION=1   # mpirun for training in a session of its own: Ctrl-C reaches only this shell

# SIGUSR1 during training: there is no queue to go back to; stop here (138 = 128 + SIGUSR1)
no_requeue() { mir_log "train: stopped at a checkpoint; run this command again to resume"; exit 138; }
run_stage() { # STAGE: run it with its output on the terminal and appended to its log; a failure exits
  local stage=$1 i rc=0
  mir_log "== $stage (log: $MIR_LOG_DIR/$stage.log)"
  case "$stage" in
    preprocess) mir_stage_preprocess ;;
    train) mir_stage_train no_requeue ;;
    infer) mir_stage_infer ;;
    analyze) mir_stage_analyze ;;
    sweep) # every element, then the first failure's status
      for ((i = 0; i < $(mir_sweep_size); i++)); do (mir_stage_sweep "$i") || rc=${rc/#0/$?}; done
      return "$rc" ;;
  esac > >(trap '' INT; exec tee -a "$MIR_LOG_DIR/$stage.log") 2>&1   # tee outlives a Ctrl-C
}
for s in preprocess train infer analyze sweep; do   # in this order, whatever the order in MIR_STAGES
  mir_has_stage "$s" || continue
  # stages run in subshells (a failure ends the subshell with its status, and then this script),
  # training in this shell so that signals reach its trap
  if [[ $s == train ]]; then run_stage train; else (run_stage "$s"); fi
done
mir_log "done: $MIR_STAGES in $MIR_OUT_DIR"
