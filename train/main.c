/*
 * mir-train: pre-train the multi-modal encoder on a corpus, MPI data-parallel.
 *   mpirun -np N mir-train --corpus corpus.h5 -o model.h5 [options]
 * The work is in trainer.c (with datastream.c, eval.c, optim.c); this file parses the command line and sets the exit status.
 */
#include <getopt.h>
#include <math.h>
#include <mpi.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "schema.h"
#include "grid.h"
#include "blascheck.h"
#include "trainer.h"

static void usage(FILE *f) {
    fprintf(f,
"usage: mpirun -np N mir-train --corpus corpus.h5 -o model.h5 [options]\n"
"\n"
"Pre-train the MIREncoder model (transformer over IR tokens, relational graph network over the program\n"
"graph) with masked-token prediction, graph auto-encoding (masked node text, edge reconstruction) and\n"
"IR-graph matching. Data parallel over MPI ranks: each step's global batch is cut into micro-batches\n"
"that are shared out over the ranks; gradients are summed with one MPI_Allreduce per step.\n"
"\n"
"options:\n"
"      --corpus FILE        corpus from mir-preprocess (required)\n"
"  -o, --output FILE        model file to write; checkpoints go there too (required)\n"
"      --config SPEC        tiny | small (default) | base | FILE with \"key = value\" lines (max_seq,\n"
"                           d_model, n_heads, n_layers, d_ff, n_graph_layers, max_nodes,\n"
"                           stats: 1 adds the opcode-statistics auto-encoding head, 2 the same\n"
"                           with each instruction weighted by 10^(its loop depth),\n"
"                           contrastive: 1 adds InfoNCE between the modules of one source, which\n"
"                           needs a corpus from mir-preprocess --opt-levels and an even --micro-batch,\n"
"                           statements: 1 makes a position of the token encoder an IR statement (mean of\n"
"                           its sub-word pieces; max_seq counts statements; masked statements predict\n"
"                           their pieces), which needs a corpus from mir-preprocess --statement-sep)\n"
"      --steps S            optimiser steps in all (default 1000); with --resume, the new total\n"
"      --batch B            global batch, modules per step (default 16); a multiple of\n"
"                           --micro-batch times the number of ranks\n"
"      --micro-batch M      modules per micro-batch (default 4)\n"
"      --lr X               peak learning rate (default 1e-3); --lr-min X final (default 1e-4)\n"
"      --warmup S           linear warm-up steps (default 50), then cosine decay to --lr-min\n"
"      --weight-decay X     AdamW weight decay (default 0.01)\n"
"      --clip X             clip the global gradient norm at X (default 1; 0: off)\n"
"      --seed K             seed of initialisation, data order and masking (default 1234)\n"
"      --resume             continue from OUTPUT if it exists (same corpus): bit-for-bit the same\n"
"                           result as an uninterrupted run with the same number of ranks\n"
"      --checkpoint-every S write OUTPUT every S steps (default 200; 0: only at the end)\n"
"      --eval-every S       held-out evaluation every S steps (default: only at the end)\n"
"      --eval-modules N     held-out modules per evaluation (default 256; 0: all)\n"
"      --max-graph-nodes N  skip modules with larger graphs (default 200000)\n"
"      --metrics FILE       per-step CSV (default OUTPUT.metrics.csv; evaluations in .eval.csv)\n"
"      --progress-interval S seconds between progress lines (default 10)\n"
"      --stop-after S       checkpoint and exit after S steps, as on SIGTERM (for tests)\n"
"      --grid PxQ           model parallelism: groups of P x Q ranks share the wide weight matrices, block-\n"
"                           cyclic, multiplied with ScaLAPACK's PSGEMM; ranks / (P x Q) such groups share\n"
"                           the batch (default: 1x1, plain data parallelism, unless the model does not fit\n"
"                           in a rank's share of memory; the log says which layout and why). Checkpoints\n"
"                           do not depend on the layout: a run may resume under another one.\n"
"      --block NB           block size of the block-cyclic weights (default 64)\n"
"  -q, --quiet              only errors\n"
"  -h, --help               this text\n"
"\n"
"SIGTERM or SIGUSR1: finish the current step, checkpoint, exit 0 (a batch scheduler can requeue the\n"
"job with --resume). Exit status: 0 done, 1 error (the message names the file and the reason), 2 usage.\n");
}

enum { O_CORPUS = 256, O_CONFIG, O_STEPS, O_BATCH, O_MICRO, O_LR, O_LRMIN, O_WARMUP, O_WD, O_CLIP, O_SEED, O_RESUME,
       O_CKPT, O_EVAL, O_EVALN, O_MAXG, O_METRICS, O_PROG, O_STOP, O_GRID, O_BLOCK };

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    int rank, nranks;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &nranks);
    mir_train_options o;
    mir_train_options_default(&o);
    static const struct option lo[] = {
        {"corpus", 1, 0, O_CORPUS}, {"output", 1, 0, 'o'}, {"config", 1, 0, O_CONFIG}, {"steps", 1, 0, O_STEPS},
        {"batch", 1, 0, O_BATCH}, {"micro-batch", 1, 0, O_MICRO}, {"lr", 1, 0, O_LR}, {"lr-min", 1, 0, O_LRMIN},
        {"warmup", 1, 0, O_WARMUP}, {"weight-decay", 1, 0, O_WD}, {"clip", 1, 0, O_CLIP}, {"seed", 1, 0, O_SEED},
        {"resume", 0, 0, O_RESUME}, {"checkpoint-every", 1, 0, O_CKPT}, {"eval-every", 1, 0, O_EVAL},
        {"eval-modules", 1, 0, O_EVALN}, {"max-graph-nodes", 1, 0, O_MAXG}, {"metrics", 1, 0, O_METRICS},
        {"progress-interval", 1, 0, O_PROG}, {"stop-after", 1, 0, O_STOP}, {"grid", 1, 0, O_GRID}, {"block", 1, 0, O_BLOCK}, {"quiet", 0, 0, 'q'},
        {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    int c, li, bad = 0;
    int64_t v;
    mir_error num_err = {{0}}; /* a refused number */
    /* an integer option's value into dst, within [min, max]; else bad, and num_err says why */
#define INT(dst, min, max) do { if (mir_cli_int(opt, optarg, min, max, &v, &num_err)) bad = 1; else dst = v; } while (0)
    /* a number option's value (any, but NaN) into dst */
#define NUM(dst) do { if (mir_cli_double(opt, optarg, -INFINITY, INFINITY, &dst, &num_err)) bad = 1; } while (0)
    while ((li = -1, c = getopt_long(argc, argv, "o:qh", lo, &li)) != -1) {
        const char *opt = mir_cli_name(lo, li);
        switch (c) {
        case O_CORPUS: o.corpus = optarg; break;
        case 'o': o.output = optarg; break;
        case O_CONFIG: o.config = optarg; break;
        case O_STEPS: INT(o.steps, 1, INT64_MAX); break;
        case O_BATCH: INT(o.global_batch, 1, INT32_MAX); break;
        case O_MICRO: INT(o.micro_batch, 1, INT32_MAX); break;
        case O_LR: if (mir_cli_positive(opt, optarg, &o.lr, &num_err)) bad = 1; break;
        case O_LRMIN: NUM(o.lr_min); break;
        case O_WARMUP: INT(o.warmup, 1, INT32_MAX); break;
        case O_WD: NUM(o.weight_decay); break;
        case O_CLIP: NUM(o.clip); break;
        case O_SEED: if (mir_cli_uint64(opt, optarg, &o.seed, &num_err)) bad = 1; break;
        case O_RESUME: o.resume = 1; break;
        case O_CKPT: INT(o.checkpoint_every, 0, INT64_MAX); break;
        case O_EVAL: INT(o.eval_every, 0, INT64_MAX); break;
        case O_EVALN: INT(o.eval_modules, 0, INT32_MAX); break;
        case O_MAXG: INT(o.max_graph_nodes, 0, INT64_MAX); break;
        case O_METRICS: o.metrics = optarg; break;
        case O_PROG: NUM(o.progress_interval_s); break;
        case O_STOP: INT(o.stop_after, 0, INT64_MAX); break;
        case O_GRID:
            if (mir_grid_parse(optarg, &o.grid_p, &o.grid_q)) bad = 1;
            break;
        case O_BLOCK: INT(o.block, 1, INT32_MAX); break;
        case 'q': o.quiet = 1; break;
        case 'h':
            if (rank == 0) usage(stdout);
            MPI_Finalize();
            return MIR_EXIT_OK;
        default: bad = 1;
        }
    }
    mir_log_init("mir-train", rank, nranks, o.quiet ? MIR_LOG_ERROR : MIR_LOG_INFO);
    if (num_err.msg[0] && rank == 0) mir_log(MIR_LOG_ERROR, "%s", num_err.msg);
    if (!bad && (!o.corpus || !o.output)) {
        if (rank == 0) mir_log(MIR_LOG_ERROR, "--corpus and -o are required");
        bad = 1;
    }
    if (bad || optind < argc) {
        if (rank == 0) fprintf(stderr, "try 'mir-train --help'\n");
        MPI_Finalize();
        return MIR_EXIT_USAGE;
    }
    if (rank == 0) mir_blas_check();
    mir_train_result res;
    mir_error err = {{0}};
    int rc = mir_train_run(&o, MPI_COMM_WORLD, &res, &err);
    if (rc && rank == 0) mir_log(MIR_LOG_ERROR, "%s", err.msg);
    if (!rc && !o.quiet) {
        /* where the time and memory went, slowest rank */
        double rss = (double)mir_peak_rss_bytes() / 1048576.0;
        double t[6] = {res.seconds, res.pgemm_s, res.grid_comm_s, res.allreduce_s, rank ? rss : 0, rss};
        MPI_Allreduce(MPI_IN_PLACE, t, 6, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
        int64_t steps = res.steps_done - res.first_step;
        if (rank == 0 && steps > 0)
            mir_log(MIR_LOG_INFO, "timing: %lld steps in %.2f s (%.4f s/step): PSGEMM %.4f s/step, assembling its "
                    "results %.4f s/step, gradient sums %.4f s/step; peak memory %.1f MiB per rank (%.1f on rank 0, "
                    "which also gathers the checkpoint) (grid %dx%d)",
                    (long long)steps, t[0], t[0] / steps, t[1] / steps, t[2] / steps, t[3] / steps,
                    nranks > 1 ? t[4] : rss, rss, res.grid_p, res.grid_q);
    }
    MPI_Finalize();
    return rc ? MIR_EXIT_FATAL : MIR_EXIT_OK;
}
