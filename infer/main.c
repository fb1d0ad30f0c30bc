/*
 * mir-infer: embeddings of LLVM modules with a pre-trained model.
 *   mpirun -np N mir-infer --model model.h5 -o embeddings.h5 [--format h5|csv] INPUT...
 */
#include <getopt.h>
#include <mpi.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "infer.h"
#include "mir/mir.h"
#include "blascheck.h"
#include "preprocess.h"

static void usage(FILE *f) {
    fprintf(f,
"usage: mpirun -np N mir-infer --model model.h5 -o embeddings.h5 [options] INPUT...\n"
"\n"
"Embed LLVM modules with a model trained by mir-train: each module becomes 2 x d_model floats (its pooled\n"
"token states, then its pooled graph states; docs/inference.md). INPUT is a .ll/.bc file, a directory\n"
"(searched for .ll/.bc, and sources with --compile), @list.txt, or ONE corpus.h5 made with the model's\n"
"vocabulary (mir-preprocess --vocab model.h5). Modules are dealt to ranks by size; the model is loaded\n"
"once per rank; embeddings do not depend on the number of ranks.\n"
"\n"
"options:\n"
"      --model FILE         model file (required)\n"
"  -o, --output FILE        embeddings to write (required)\n"
"      --format h5|csv      HDF5 (/names, /embeddings N x D, /status, /error; default) or CSV (a header,\n"
"                           then name and D values for each embedded module)\n"
"      --compile            compile .c/.cpp/.cl/.cu sources with clang 16 (as mir-preprocess)\n"
"  -D MACRO[=V], -I DIR, --cflag FLAG, -O LEVEL, --clang PATH: passed to clang, as in mir-preprocess\n"
"      --max-module-mb N    larger modules are recorded as too_large (default 256)\n"
"      --windows K          read K token windows spread evenly over each module (default 0: all of them)\n"
"      --window-tokens W    cut the tokens into windows of W (default 0: the model's window length)\n"
"      --max-nodes N        read the graph's first N-node window (default 65536)\n"
"      --fast               the first 128 tokens and the training graph window (--windows 1 --window-tokens\n"
"                           128 --max-nodes of the model): about 18x faster on the device-mapping kernels, an\n"
"                           approximation of the exact embedding (docs/inference.md measures how close)\n"
"                           (a statement-level model, statements = 1, counts statements where these say tokens)\n"
"      --readout MODE       what each row holds: embedding (default), stats (the embedding, then the\n"
"                           statistics head's log(1 + count) of every opcode in the vocabulary, columns\n"
"                           stat_<opcode>) or stats-only (those columns alone); the last two need a model\n"
"                           pre-trained with stats = 1 or 2 (docs/inference.md)\n"
"      --no-isolation       parse in this process (for trusted input): by default a worker process per rank\n"
"                           parses and embeds, so that a module that crashes LLVM is recorded as crashed\n"
"      --worker-memory MB   memory a worker may add per module before it is stopped (default 4096)\n"
"      --module-timeout S   seconds a worker may spend on one module before it is killed (default 120)\n"
"  -q, --quiet              only errors\n"
"  -h, --help               this text\n"
"\n"
"exit status: 0 all embedded; 3 some modules failed (listed with their reason, status 8 crashed when the\n"
"worker died on one; the others are embedded);\n"
"2 bad usage; 1 fatal error.\n");
}

/* mir_cli_readout gives these as 0, 1, 2 (common/ does not include mir.h) */
_Static_assert(MIR_READOUT_EMBEDDING == 0 && MIR_READOUT_STATS == 1 && MIR_READOUT_STATS_ONLY == 2,
               "mir_cli_readout's values");

enum { O_MODEL = 256, O_FORMAT, O_COMPILE, O_CFLAG, O_CLANG, O_MAXMB, O_WINDOWS, O_MAXNODES, O_FAST, O_WINTOK, O_NOISO, O_WMEM, O_MTIME, O_READOUT };

/* The options into o, -D/-I/--cflag into flags (n_flags of them). 0; 1 on bad usage (num_err says why when
 * a value was refused); -1 on --help, at once, as the options after it are not read. */
static int parse_options(int argc, char **argv, mir_infer_options *o, const char **flags, int *n_flags,
                         mir_error *num_err) {
    int c, li, bad = 0;
    int64_t v;
    /* an integer option's value into dst, within [min, max]; else bad, and num_err says why */
#define INT(dst, min, max) do { if (mir_cli_int(opt, optarg, min, max, &v, num_err)) bad = 1; else dst = v; } while (0)
    static const struct option lo[] = {{"model", 1, 0, O_MODEL}, {"output", 1, 0, 'o'}, {"format", 1, 0, O_FORMAT},
                                       {"compile", 0, 0, O_COMPILE}, {"cflag", 1, 0, O_CFLAG}, {"clang", 1, 0, O_CLANG},
                                       {"max-module-mb", 1, 0, O_MAXMB}, {"windows", 1, 0, O_WINDOWS},
                                       {"max-nodes", 1, 0, O_MAXNODES}, {"fast", 0, 0, O_FAST},
                                       {"window-tokens", 1, 0, O_WINTOK}, {"no-isolation", 0, 0, O_NOISO},
                                       {"worker-memory", 1, 0, O_WMEM}, {"module-timeout", 1, 0, O_MTIME},
                                       {"readout", 1, 0, O_READOUT},
                                       {"quiet", 0, 0, 'q'}, {"help", 0, 0, 'h'},
                                       {0, 0, 0, 0}};
    while ((li = -1, c = getopt_long(argc, argv, "o:D:I:O:qh", lo, &li)) != -1) {
        const char *opt = mir_cli_name(lo, li);
        switch (c) {
        case O_MODEL: o->model = optarg; break;
        case 'o': o->output = optarg; break;
        case O_FORMAT:
            if (!strcmp(optarg, "csv")) o->csv = 1;
            else if (strcmp(optarg, "h5")) bad = 1;
            break;
        case O_COMPILE: o->compile = 1; break;
        case 'D': case 'I': mir_cli_flag_append(flags, n_flags, c, optarg); break;
        case O_CFLAG: flags[(*n_flags)++] = strdup(optarg); break;
        case 'O': o->cc.opt_level = optarg; break;
        case O_CLANG: o->cc.clang = optarg; break;
        case O_MAXMB:
            if (mir_cli_int(opt, optarg, 1, 1 << 20, &v, num_err)) bad = 1;
            else o->max_module_bytes = v << 20; /* MiB */
            break;
        case O_WINDOWS: INT(o->max_windows, 0, 1 << 30); break;
        case O_MAXNODES: INT(o->max_nodes, 0, 1 << 30); break;
        case O_WINTOK: INT(o->window, 0, 1 << 30); break;
        case O_FAST: o->max_windows = -1; break;
        case O_READOUT: if (mir_cli_readout(optarg, &o->readout, num_err)) bad = 1; break;
        case O_NOISO: o->isolation = 0; break;
        case O_WMEM:
            if (mir_cli_int(opt, optarg, 16, 1 << 30, &v, num_err)) bad = 1;
            else o->limits.memory_bytes = v << 20; /* MiB */
            break;
        case O_MTIME: INT(o->limits.timeout_s, 1, 1 << 30); break;
        case 'q': o->quiet = 1; break;
        case 'h': return -1;
        default: bad = 1;
        }
    }
#undef INT
    return bad;
}

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    int rank, nranks;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &nranks);
    mir_infer_options o;
    mir_infer_options_default(&o);
    const char **flags = calloc((size_t)argc + 1, sizeof *flags);
    int n_flags = 0;
    mir_error num_err = {{0}}; /* a refused number */
    int bad = parse_options(argc, argv, &o, flags, &n_flags, &num_err);
    if (bad < 0) {
        if (rank == 0) usage(stdout);
        MPI_Finalize();
        return 0;
    }
    mir_log_init("mir-infer", rank, nranks, o.quiet ? MIR_LOG_ERROR : MIR_LOG_INFO);
    if (num_err.msg[0] && rank == 0) mir_log(MIR_LOG_ERROR, "%s", num_err.msg);
    if (!bad && (!o.model || !o.output || optind >= argc)) {
        if (rank == 0) mir_log(MIR_LOG_ERROR, "--model, -o and at least one INPUT are required");
        bad = 1;
    }
    if (bad) {
        if (rank == 0) fprintf(stderr, "try 'mir-infer --help'\n");
        MPI_Finalize();
        return MIR_EXIT_USAGE;
    }
    o.cc.user_flags = flags;
    o.cc.n_user_flags = n_flags;
    o.inputs = argv + optind;
    o.n_inputs = argc - optind;
    if (rank == 0) mir_blas_check();
    mir_infer_summary s;
    mir_error err = {{0}};
    int rc = mir_infer_run(&o, MPI_COMM_WORLD, &s, &err);
    int status = MIR_EXIT_OK;
    if (rc) {
        if (rank == 0) mir_log(MIR_LOG_ERROR, "%s", err.msg);
        status = MIR_EXIT_FATAL;
    } else {
        if (rank == 0 && !o.quiet)
            mir_log(MIR_LOG_INFO, "%lld modules: %lld embedded, %lld failed; %.2f s (%.1f modules/s); wrote %s",
                    (long long)s.n_modules, (long long)s.n_ok, (long long)s.n_failed, s.seconds,
                    s.seconds > 0 ? s.n_modules / s.seconds : 0.0, o.output);
        if (s.n_failed) status = MIR_EXIT_MODULES_FAILED;
    }
    mir_cli_flags_free(flags, n_flags);
    MPI_Finalize();
    return status;
}
