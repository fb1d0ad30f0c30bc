/*
 * mir-analyze: the downstream analyses of the embeddings (docs/analysis.md).
 *   mpirun -np N mir-analyze devmap|coarsen|vectorize --model model.h5 [--data DIR] [--out DIR] [--seed K]
 *   mpirun -np N mir-analyze vectorize-label [--data DIR] [--out DIR] [--subset K] [--repeats R] [--full]
 */
#include <getopt.h>
#include <mpi.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"
#include "blascheck.h"
#include "cli.h"
#include "schema.h"
#include "vectorize.h"

#ifndef MIR_DATA_DIR_DEFAULT
#define MIR_DATA_DIR_DEFAULT "../shared/data"
#endif

static void usage(FILE *f) {
    fprintf(f,
"usage: mpirun -np N mir-analyze TASK --model model.h5 [options]\n"
"       mpirun -np N mir-analyze vectorize-label [options]\n"
"\n"
"Evaluate a pre-trained model's embeddings on performance data, against an opcode-count baseline, and\n"
"write OUT/TASK/: summary.md (tables, cost), summary.json (headline figures), predictions.csv,\n"
"metrics.csv and PNG plots. TASK:\n"
"  devmap     CPU or GPU for 680 OpenCL kernel runs per platform (AMD, NVIDIA; Grewe et al. data):\n"
"             stratified 10-fold, 10 folds grouped by benchmark, leave one suite out\n"
"  coarsen    thread-coarsening factor for 17 kernels on 4 GPUs (Magni et al. data): leave one kernel out\n"
"  vectorize  (VF, IF) of the loop in NeuroVectorizer's C programs, from labels measured by\n"
"             vectorize-label: leave one loop family out; speedup over plain -O3, fraction of the best\n"
"  vectorize-label  measure those labels here (no --model): for each program and each (VF, IF) of the\n"
"             grid, '#pragma clang loop vectorize_width(VF) interleave_count(IF)' before its loop, clang -O3,\n"
"             best of R runs; plain -O3 before and after the grid. Whole programs are dealt to the ranks (run\n"
"             one rank per core); results are journaled as they come in and merged into\n"
"             OUT/vectorize-label/labels.h5; a rerun skips what is measured (kill it at any time)\n"
"Classifiers: XGBoost and a small MLP, picked in every fold by inner cross-validation on the training\n"
"rows. Ranks share the kernels to embed and the evaluation runs; results do not depend on their number.\n"
"\n"
"options:\n"
"      --model FILE        model from mir-train (required, except by vectorize-label)\n"
"      --data DIR          raw data sets (default: $MIR_DATA_DIR, else %s)\n"
"      --out DIR           output root (default: $MIR_OUT_DIR, else out)\n"
"      --kernels DIR       the kernels' IR (default: OUT/data/<set>/<archive>/kernels_ir as scripts/prepare-data\n"
"                          leaves it; when missing, the data set's zip is unpacked there)\n"
"      --kernels-from ir|cl  devmap: kernels_ir/ (default), or OpenCL sources (--kernels) through clang 16\n"
"      --seed K            base seed of folds and classifiers (default 1)\n"
"      --seeds N           repetitions of each protocol (default 10)\n"
"      --ablation-seeds N  repetitions for the ablation feature sets (default 3)\n"
"      --no-ablations      only the embedding and the opcode-count baseline\n"
"      --versus FILE       devmap: also a second model's embedding, on the same folds and seeds, with paired\n"
"                          verdicts of --model against it (a candidate against today's default)\n"
"      --limit N           devmap: use N rows spread over the data set (tests; default all)\n"
"      --finetune          devmap: also fine-tune the encoder with two heads end to end in every outer fold, from\n"
"                          the pre-trained and from random weights (fast reading mode; docs/analysis.md);\n"
"                          coarsen: the same with the regression head (log speedup of each GPU and factor),\n"
"                          every leave-one-kernel-out fold of every seed, `regression` and `safe` rows\n"
"      --finetune-epochs N its budget: at most N epochs, the best on held-out benchmarks kept (default 4)\n"
"      --xgb-rounds N      boosting rounds (default 60)    --mlp-epochs N  MLP epochs (default 40)\n"
"      --windows K, --window-tokens W, --max-nodes N, --fast   reading mode of the embeddings, as in\n"
"                          mir-infer (default: exact; docs/inference.md)\n"
"      --readout MODE      the features of --model, as mir-infer --readout: embedding (default), stats (the\n"
"                          embedding and its statistics head's opcode counts) or stats-only (the head's\n"
"                          counts alone); also applied to the random-weight ablation, not to a --versus model\n"
"                          without a statistics head; needs --no-ablations. The --finetune rows train the\n"
"                          encoder itself with their heads and do not use it\n"
"vectorize-label and vectorize:\n"
"      --loops DIR         the C programs (default: OUT/data/loop_vectorization/neurovectorizer-training_data/\n"
"                          training_data, unpacked there from DATA/loop_vectorization/ when missing)\n"
"      --subset K          programs per loop family, spread over its sorted names (default 8; 0: all 7,812)\n"
"      --repeats R         runs per job; the label is the best CPU time of the timed loop (default 3)\n"
"      --vf LIST --if LIST the grid, powers of two (default VF 1,2,4,8,16 x IF 1,2,4)\n"
"      --full              the whole grid: VF 1..64 x IF 1..16 (35 configs)\n"
"      --cflags STR        more compiler flags after -O3, blank-separated (e.g. '-march=native')\n"
"      --timeout S         seconds (wall clock) allowed to one compile or run (default 60)\n"
"      --max-jobs N        stop after N jobs on each rank     --time-limit MIN  start no job after MIN minutes\n"
"      --iter-divisor N    time 1/N of each program's iterations (tests: fast, but not the published setup)\n"
"      --labels FILE       vectorize: labels.h5 or a CSV of them (default OUT/vectorize-label/labels.h5)\n"
"  -q, --quiet             only errors\n"
"  -h, --help              this text\n"
"\n"
"exit status: 0 done; 3 done, but some kernels could not be compiled, embedded or counted (their rows\n"
"use zero features; summary.md names them); 2 bad usage; 1 error (the message names the file and the reason).\n",
            MIR_DATA_DIR_DEFAULT);
}

enum { O_MODEL = 256, O_DATA, O_OUT, O_KERNELS, O_SEED, O_SEEDS, O_ASEEDS, O_NOABL, O_LIMIT, O_XGB, O_MLP,
       O_LOOPS, O_SUBSET, O_REPEATS, O_VF, O_IF, O_FULL, O_CFLAGS, O_TIMEOUT, O_MAXJOBS, O_TLIMIT, O_LABELS,
       O_ITERDIV, O_WINDOWS, O_MAXNODES, O_FAST, O_WINTOK, O_KFROM, O_VERSUS, O_FT, O_FTEPOCHS, O_READOUT };

/* The command line, for the report: argv joined by blanks (malloc'd). */
static char *join_command_line(int argc, char **argv) {
    size_t cl_len = 1;
    for (int i = 0; i < argc; i++) cl_len += strlen(argv[i]) + 1;
    char *cl = calloc(cl_len, 1);
    for (int i = 0; i < argc; i++) {
        if (i) strcat(cl, " ");
        strcat(cl, argv[i]);
    }
    return cl;
}

/* The options into o and vo (--full: the whole grid, set here once all are read). 0; 1 on bad usage (num_err
 * says why when a value was refused); -1 on --help, at once, as the options after it are not read. */
static int parse_options(int argc, char **argv, mir_analyze_options *o, mir_vec_options *vo, mir_error *num_err) {
    static const struct option lo[] = {
        {"model", 1, 0, O_MODEL}, {"data", 1, 0, O_DATA}, {"out", 1, 0, O_OUT}, {"kernels", 1, 0, O_KERNELS},
        {"seed", 1, 0, O_SEED}, {"seeds", 1, 0, O_SEEDS}, {"ablation-seeds", 1, 0, O_ASEEDS},
        {"no-ablations", 0, 0, O_NOABL}, {"limit", 1, 0, O_LIMIT}, {"xgb-rounds", 1, 0, O_XGB},
        {"mlp-epochs", 1, 0, O_MLP}, {"loops", 1, 0, O_LOOPS}, {"subset", 1, 0, O_SUBSET},
        {"repeats", 1, 0, O_REPEATS}, {"vf", 1, 0, O_VF}, {"if", 1, 0, O_IF}, {"full", 0, 0, O_FULL},
        {"cflags", 1, 0, O_CFLAGS}, {"timeout", 1, 0, O_TIMEOUT}, {"max-jobs", 1, 0, O_MAXJOBS},
        {"time-limit", 1, 0, O_TLIMIT}, {"labels", 1, 0, O_LABELS}, {"iter-divisor", 1, 0, O_ITERDIV},
        {"windows", 1, 0, O_WINDOWS}, {"max-nodes", 1, 0, O_MAXNODES}, {"fast", 0, 0, O_FAST}, {"window-tokens", 1, 0, O_WINTOK},
        {"kernels-from", 1, 0, O_KFROM}, {"versus", 1, 0, O_VERSUS}, {"finetune", 0, 0, O_FT},
        {"finetune-epochs", 1, 0, O_FTEPOCHS}, {"readout", 1, 0, O_READOUT}, {"quiet", 0, 0, 'q'}, {"help", 0, 0, 'h'},
        {0, 0, 0, 0}};
    int c, li, bad = 0, full = 0;
    int64_t v;
    /* an integer option's value into dst, within [min, max]; else bad, and num_err says why */
#define INT(dst, min, max) do { if (mir_cli_int(opt, optarg, min, max, &v, num_err)) bad = 1; else dst = v; } while (0)
    while ((li = -1, c = getopt_long(argc, argv, "qh", lo, &li)) != -1) {
        const char *opt = mir_cli_name(lo, li);
        switch (c) {
        case O_MODEL: o->model = optarg; break;
        case O_DATA: o->data_dir = optarg; break;
        case O_OUT: o->out_dir = optarg; break;
        case O_KERNELS: o->kernels_dir = optarg; break;
        case O_KFROM:
            if (!strcmp(optarg, "ir")) o->kernels_cl = 0;
            else if (!strcmp(optarg, "cl")) o->kernels_cl = 1;
            else bad = 1;
            break;
        case O_SEED: if (mir_cli_uint64(opt, optarg, &o->seed, num_err)) bad = 1; break;
        case O_SEEDS: INT(o->n_seeds, 1, 200); break;
        case O_ASEEDS: INT(o->ablation_seeds, 1, 200); break;
        case O_NOABL: o->ablations = 0; break;
        case O_VERSUS: o->versus = optarg; break;
        case O_FT: o->finetune = 1; break;
        case O_FTEPOCHS: INT(o->finetune_epochs, 1, 64); break;
        case O_LIMIT: INT(o->limit, 20, 1000000); break;
        case O_WINDOWS: INT(o->embed_windows, 0, 1000000); break;
        case O_MAXNODES: INT(o->embed_max_nodes, 0, 65536); break;
        case O_WINTOK: INT(o->embed_window, 0, 8192); break;
        case O_FAST: o->embed_windows = -1; break;
        case O_READOUT: if (mir_cli_readout(optarg, &o->readout, num_err)) bad = 1; break;
        case O_XGB: INT(o->clf.xgb_rounds, 1, 100000); break;
        case O_MLP: INT(o->clf.mlp_epochs, 1, 100000); break;
        case O_LOOPS: vo->loops_dir = optarg; break;
        case O_SUBSET: INT(vo->subset, 0, 1000000); break;
        case O_REPEATS: INT(vo->repeats, 1, 100); break;
        case O_VF: if (mir_vec_parse_factors(optarg, 64, &vo->vf_mask)) bad = 1; break;
        case O_IF: if (mir_vec_parse_factors(optarg, 16, &vo->if_mask)) bad = 1; break;
        case O_FULL: full = 1; break;
        case O_CFLAGS: vo->cflags = optarg; break;
        case O_TIMEOUT: INT(vo->timeout_s, 1, 100000); break;
        case O_MAXJOBS: INT(vo->max_jobs, 1, 1000000000); break;
        case O_TLIMIT: if (mir_cli_positive(opt, optarg, &vo->time_limit_min, num_err)) bad = 1; break;
        case O_LABELS: vo->labels = optarg; break;
        case O_ITERDIV: INT(vo->iter_divisor, 1, 1000000); break;
        case 'q': o->quiet = 1; break;
        case 'h': return -1;
        default: bad = 1;
        }
    }
#undef INT
    if (full) {
        vo->vf_mask = (1 << MIR_VEC_N_VF) - 1;
        vo->if_mask = (1 << MIR_VEC_N_IF) - 1;
    }
    return bad;
}

/* The TASK operand: 0 devmap, 1 coarsen, 2 vectorize, 3 vectorize-label; -1 when missing or unknown. */
static int task_id(int argc, char **argv) {
    const char *task = optind < argc ? argv[optind] : NULL;
    static const char *const tasks[] = {"devmap", "coarsen", "vectorize", "vectorize-label"};
    int t_id = -1;
    for (int i = 0; task && i < 4; i++)
        if (!strcmp(task, tasks[i])) t_id = i;
    return t_id;
}

/* The usage errors that the options alone do not show, logged (rank 0) with those they do; 1 on any. */
static int check_usage(int argc, int rank, const mir_analyze_options *o, int t_id, int bad,
                       const mir_error *num_err) {
    if (!bad) {
        if (t_id < 0 || optind + 1 != argc) {
            if (rank == 0) mir_log(MIR_LOG_ERROR, "one TASK is required: devmap, coarsen, vectorize or vectorize-label");
            bad = 1;
        } else if (!o->model && t_id != 3) {
            if (rank == 0) mir_log(MIR_LOG_ERROR, "--model is required");
            bad = 1;
        } else if (o->readout != MIR_READOUT_EMBEDDING && o->ablations) {
            /* the ablations' token and graph halves are halves of [u, v], not of a readout */
            if (rank == 0) mir_log(MIR_LOG_ERROR, "--readout stats and stats-only need --no-ablations");
            bad = 1;
        }
    } else if (rank == 0) {
        mir_log(MIR_LOG_ERROR, "%s", num_err->msg[0] ? num_err->msg : "bad option or value (--limit at least 20, --seeds "
                "1..200, --vf powers of two up to 64, --if up to 16, --repeats 1..100, --kernels-from ir or cl)");
    }
    return bad;
}

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    int rank, nranks;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &nranks);
    mir_analyze_options o;
    mir_analyze_options_default(&o);
    mir_vec_options vo;
    mir_vec_options_default(&vo, &o);
    o.data_dir = getenv("MIR_DATA_DIR") && *getenv("MIR_DATA_DIR") ? getenv("MIR_DATA_DIR") : MIR_DATA_DIR_DEFAULT;
    o.out_dir = getenv("MIR_OUT_DIR") && *getenv("MIR_OUT_DIR") ? getenv("MIR_OUT_DIR") : "out";
    char *cl = join_command_line(argc, argv);
    o.command_line = cl;
    mir_error num_err = {{0}}; /* a refused number */
    int bad = parse_options(argc, argv, &o, &vo, &num_err);
    if (bad < 0) {
        if (rank == 0) usage(stdout);
        free(cl);
        MPI_Finalize();
        return MIR_EXIT_OK;
    }
    mir_log_init("mir-analyze", rank, nranks, o.quiet ? MIR_LOG_ERROR : MIR_LOG_INFO);
    const int t_id = task_id(argc, argv);
    if (check_usage(argc, rank, &o, t_id, bad, &num_err)) {
        if (rank == 0) fprintf(stderr, "try 'mir-analyze --help'\n");
        free(cl);
        MPI_Finalize();
        return MIR_EXIT_USAGE;
    }
    if (rank == 0 && t_id != 3) mir_blas_check();
    mir_error err = {{0}};
    int rc = t_id == 0   ? mir_analyze_devmap(&o, MPI_COMM_WORLD, &err)
             : t_id == 1 ? mir_analyze_coarsen(&o, MPI_COMM_WORLD, &err)
             : t_id == 2 ? mir_analyze_vectorize(&vo, MPI_COMM_WORLD, &err)
                         : mir_analyze_vectorize_label(&vo, MPI_COMM_WORLD, &err);
    if (rc && rank == 0) mir_log(MIR_LOG_ERROR, "%s", err.msg); /* shown under -q too: it explains the status */
    free(cl);
    MPI_Finalize();
    return rc == MIR_ANALYZE_INCOMPLETE ? MIR_ANALYZE_INCOMPLETE : rc ? MIR_EXIT_FATAL : MIR_EXIT_OK;
}
