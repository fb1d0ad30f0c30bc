/*
 * mir-analyze: the downstream analyses of the embeddings (docs/analysis.md).
 *   mpirun -np N mir-analyze devmap|coarsen --model model.h5 [--data DIR] [--out DIR] [--seed K]
 */
#include <getopt.h>
#include <mpi.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"

#ifndef MIR_DATA_DIR_DEFAULT
#define MIR_DATA_DIR_DEFAULT "../shared/data"
#endif

static void usage(FILE *f) {
    fprintf(f,
"usage: mpirun -np N mir-analyze TASK --model model.h5 [options]\n"
"\n"
"Evaluate a pre-trained model's embeddings on published performance data, against an opcode-count\n"
"baseline, and write OUT/TASK/: summary.md (tables, cost), summary.json (headline figures),\n"
"predictions.csv, metrics.csv and PNG plots. TASK:\n"
"  devmap   CPU or GPU for 680 OpenCL kernel runs per platform (AMD, NVIDIA; Grewe et al. data):\n"
"           stratified 10-fold, 10 folds grouped by benchmark, leave one suite out\n"
"  coarsen  thread-coarsening factor for 17 kernels on 4 GPUs (Magni et al. data): leave one kernel out\n"
"Classifiers: XGBoost and a small MLP, picked in every fold by inner cross-validation on the training\n"
"rows. Ranks share the kernels to embed and the evaluation runs; results do not depend on their number.\n"
"\n"
"options:\n"
"      --model FILE        model from mir-train (required)\n"
"      --data DIR          raw data sets (default: $MIR_DATA_DIR, else %s)\n"
"      --out DIR           output root (default: $MIR_OUT_DIR, else out)\n"
"      --kernels DIR       the kernels' IR (default: OUT/data/<set>/<archive>/kernels_ir as scripts/prepare-data\n"
"                          leaves it; when missing, the data set's zip is unpacked there)\n"
"      --seed K            base seed of folds and classifiers (default 1)\n"
"      --seeds N           repetitions of each protocol (default 10)\n"
"      --ablation-seeds N  repetitions for the ablation feature sets (default 3)\n"
"      --no-ablations      only the embedding and the opcode-count baseline\n"
"      --limit N           devmap: use N rows spread over the data set (tests; default all)\n"
"      --xgb-rounds N      boosting rounds (default 60)    --mlp-epochs N  MLP epochs (default 40)\n"
"  -q, --quiet             only errors\n"
"  -h, --help              this text\n"
"\n"
"exit status: 0 done; 2 bad usage; 1 error (the message names the file and the reason).\n",
            MIR_DATA_DIR_DEFAULT);
}

enum { O_MODEL = 256, O_DATA, O_OUT, O_KERNELS, O_SEED, O_SEEDS, O_ASEEDS, O_NOABL, O_LIMIT, O_XGB, O_MLP };

static int parse_int(const char *s, long lo, long hi, long *v) {
    char *end;
    *v = strtol(s, &end, 10);
    return *s && !*end && *v >= lo && *v <= hi ? 0 : -1;
}

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    int rank, nranks;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &nranks);
    mir_analyze_options o;
    mir_analyze_options_default(&o);
    o.data_dir = getenv("MIR_DATA_DIR") && *getenv("MIR_DATA_DIR") ? getenv("MIR_DATA_DIR") : MIR_DATA_DIR_DEFAULT;
    o.out_dir = getenv("MIR_OUT_DIR") && *getenv("MIR_OUT_DIR") ? getenv("MIR_OUT_DIR") : "out";
    /* the command line, for the report */
    size_t cl_len = 1;
    for (int i = 0; i < argc; i++) cl_len += strlen(argv[i]) + 1;
    char *cl = calloc(cl_len, 1);
    for (int i = 0; i < argc; i++) {
        if (i) strcat(cl, " ");
        strcat(cl, argv[i]);
    }
    o.command_line = cl;
    static const struct option lo[] = {
        {"model", 1, 0, O_MODEL}, {"data", 1, 0, O_DATA}, {"out", 1, 0, O_OUT}, {"kernels", 1, 0, O_KERNELS},
        {"seed", 1, 0, O_SEED}, {"seeds", 1, 0, O_SEEDS}, {"ablation-seeds", 1, 0, O_ASEEDS},
        {"no-ablations", 0, 0, O_NOABL}, {"limit", 1, 0, O_LIMIT}, {"xgb-rounds", 1, 0, O_XGB},
        {"mlp-epochs", 1, 0, O_MLP}, {"quiet", 0, 0, 'q'}, {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    int c, bad = 0;
    long v;
    while ((c = getopt_long(argc, argv, "qh", lo, NULL)) != -1) {
        switch (c) {
        case O_MODEL: o.model = optarg; break;
        case O_DATA: o.data_dir = optarg; break;
        case O_OUT: o.out_dir = optarg; break;
        case O_KERNELS: o.kernels_dir = optarg; break;
        case O_SEED: {
            char *end;
            o.seed = strtoull(optarg, &end, 10);
            if (!*optarg || *end) bad = 1;
            break;
        }
        case O_SEEDS: if (parse_int(optarg, 1, 200, &v)) bad = 1; else o.n_seeds = (int)v; break;
        case O_ASEEDS: if (parse_int(optarg, 1, 200, &v)) bad = 1; else o.ablation_seeds = (int)v; break;
        case O_NOABL: o.ablations = 0; break;
        case O_LIMIT: if (parse_int(optarg, 20, 1000000, &v)) bad = 1; else o.limit = (int)v; break;
        case O_XGB: if (parse_int(optarg, 1, 100000, &v)) bad = 1; else o.clf.xgb_rounds = (int)v; break;
        case O_MLP: if (parse_int(optarg, 1, 100000, &v)) bad = 1; else o.clf.mlp_epochs = (int)v; break;
        case 'q': o.quiet = 1; break;
        case 'h':
            if (rank == 0) usage(stdout);
            free(cl);
            MPI_Finalize();
            return 0;
        default: bad = 1;
        }
    }
    mir_log_init("mir-analyze", rank, nranks, o.quiet ? MIR_LOG_ERROR : MIR_LOG_INFO);
    const char *task = optind < argc ? argv[optind] : NULL;
    if (!bad) {
        if (!task || optind + 1 != argc || (strcmp(task, "devmap") && strcmp(task, "coarsen"))) {
            if (rank == 0) mir_log(MIR_LOG_ERROR, "one TASK is required: devmap or coarsen");
            bad = 1;
        } else if (!o.model) {
            if (rank == 0) mir_log(MIR_LOG_ERROR, "--model is required");
            bad = 1;
        }
    } else if (rank == 0) {
        mir_log(MIR_LOG_ERROR, "bad option or value (--limit at least 20, --seeds 1..200)");
    }
    if (bad) {
        if (rank == 0) fprintf(stderr, "try 'mir-analyze --help'\n");
        free(cl);
        MPI_Finalize();
        return 2;
    }
    mir_error err = {{0}};
    int rc = !strcmp(task, "devmap") ? mir_analyze_devmap(&o, MPI_COMM_WORLD, &err)
                                     : mir_analyze_coarsen(&o, MPI_COMM_WORLD, &err);
    if (rc && rank == 0) mir_log(MIR_LOG_ERROR, "%s", err.msg);
    free(cl);
    MPI_Finalize();
    return rc ? 1 : 0;
}
