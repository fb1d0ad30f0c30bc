/*
 * mir-preprocess: LLVM IR (and, with --compile, C/C++/OpenCL/CUDA sources) to one corpus file.
 *   mpirun -np N mir-preprocess [options] -o corpus.h5 INPUT...
 * The work is in preprocess.c (and the files its top comment names); this file only parses the command line
 * and decides the exit status.
 */
#include <getopt.h>
#include <mpi.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "preprocess.h"

static void usage(FILE *f) {
    fprintf(f,
"usage: mpirun -np N mir-preprocess [options] -o corpus.h5 INPUT...\n"
"\n"
"Extract two modalities from every LLVM module: its normalised IR statements as sub-word tokens, and a\n"
"ProGraML-style program graph (control, data and call flow). All ranks write one HDF5 corpus\n"
"(format: docs/formats.md).\n"
"\n"
"INPUT is a .ll or .bc file (any file named explicitly is read as IR unless --compile applies), a\n"
"directory (searched recursively for .ll/.bc, and for .c/.cc/.cpp/.cl/.cu with --compile), or @FILE\n"
"(one INPUT per line, '#' comments).\n"
"\n"
"options:\n"
"  -o, --output FILE       corpus to write (written under a temporary name, renamed on success)\n"
"      --vocab FILE        encode with the vocabulary stored in FILE (a corpus or model file) instead\n"
"                          of building one; downstream corpora must use the model's vocabulary\n"
"      --vocab-size N      largest vocabulary to build, special tokens included (default 8000)\n"
"      --min-count N       a whole word or word piece needs N occurrences to enter the vocabulary (default 2)\n"
"      --compile           compile sources with clang 16 (flags per language: docs/formats.md)\n"
"      --clang PATH        clang executable (default: the clang-16 found at build time, or $MIR_CLANG)\n"
"  -D MACRO[=VALUE]        passed to clang (with --compile)\n"
"  -I DIR                  passed to clang (with --compile)\n"
"      --cflag FLAG        any other clang flag, repeatable (e.g. --cflag=-std=c11)\n"
"  -O LEVEL                clang optimisation level for sources: 0, 1, 2, 3, s, z (default 1)\n"
"      --opt-levels LIST   compile every source once per level of LIST (comma-separated levels of -O,\n"
"                          e.g. 0,2): with two or more levels a source gives the modules PATH@O0, PATH@O2,\n"
"                          next to each other, sharing /modules/source; IR inputs stay one module each\n"
"      --cuda-prelude FILE header included before CUDA sources (default: the one shipped with the tool)\n"
"      --compile-timeout S seconds allowed per source (default 120)\n"
"      --max-module-mb N   modules larger than N MiB are recorded as too_large and skipped (default 256)\n"
"      --statement-sep     put the token [SEP] after every statement's tokens (for a statement-level model,\n"
"                          configuration statements = 1); the corpus records it (attribute statement_sep = 1)\n"
"      --no-isolation      parse in this process (for trusted input): by default a worker process per rank\n"
"                          parses, so that a module that crashes LLVM is recorded as crashed, not fatal\n"
"      --worker-memory MB  memory a worker may add per module before it is stopped (default 4096)\n"
"      --module-timeout S  seconds a worker may spend on one module before it is killed (default 120)\n"
"      --strict            stop at the first module that fails (exit status 3, no corpus written)\n"
"      --failures FILE     write the failed modules as TSV (module, status, error)\n"
"      --no-progress       do not print progress lines (rank 0 prints them every 2 s by default)\n"
"  -q, --quiet             only errors\n"
"  -v, --verbose           also list every failed module as it happens\n"
"  -h, --help              this text\n"
"      --version           tool and LLVM versions\n"
"\n"
"exit status: 0 every module was processed; 3 some modules failed (each is recorded in the corpus\n"
"with its status and message, the others are complete); 2 bad usage; 1 fatal error (no corpus written).\n"
"Statuses in /modules/status: 0 ok, 1 read_error, 2 empty, 3 parse_error, 4 compile_error, 5 too_large,\n"
"6 duplicate (same bytes as an earlier module; not a failure), 7 extract_error, 8 crashed (the worker died\n"
"or overstayed a limit on it; the message names the signal or the limit).\n");
}

enum { OPT_VOCAB = 256, OPT_VOCAB_SIZE, OPT_MIN_COUNT, OPT_COMPILE, OPT_CLANG, OPT_CFLAG, OPT_PRELUDE, OPT_TIMEOUT,
       OPT_MAXMB, OPT_STRICT, OPT_FAILURES, OPT_NOPROGRESS, OPT_VERSION, OPT_NO_ISOLATION, OPT_WORKER_MEMORY,
       OPT_MODULE_TIMEOUT, OPT_OPT_LEVELS, OPT_STATEMENT_SEP };

/* "0,2" -> "02": levels of -O, each once, at most sizeof levels - 1 of them. */
static int parse_levels(const char *s, char *levels, size_t cap) {
    size_t n = 0;
    for (const char *p = s;; p++) {
        if (!*p || !strchr("0123sz", *p) || (p[1] && p[1] != ',') || memchr(levels, *p, n) || n + 1 >= cap)
            return -1;
        levels[n++] = *p++;
        levels[n] = 0;
        if (!*p) return 0;
    }
}

/* What parse_options stopped at: the options read (bad or not), or --help or --version, answered at once. */
enum { PARSED, PARSED_HELP, PARSED_VERSION };

/* The options into o and *level, -D/-I/--cflag into flags (n_flags of them); *bad on bad usage (num_err says
 * why when a number was refused). --opt-levels's own message is logged here (rank 0), as it is found. */
static int parse_options(int argc, char **argv, int rank, mir_pp_options *o, mir_log_level *level,
                         const char **flags, int *n_flags, int *bad, mir_error *num_err) {
    static const struct option longopts[] = {
        {"output", required_argument, 0, 'o'},        {"vocab", required_argument, 0, OPT_VOCAB},
        {"vocab-size", required_argument, 0, OPT_VOCAB_SIZE}, {"min-count", required_argument, 0, OPT_MIN_COUNT},
        {"compile", no_argument, 0, OPT_COMPILE},     {"clang", required_argument, 0, OPT_CLANG},
        {"cflag", required_argument, 0, OPT_CFLAG},   {"cuda-prelude", required_argument, 0, OPT_PRELUDE},
        {"compile-timeout", required_argument, 0, OPT_TIMEOUT}, {"max-module-mb", required_argument, 0, OPT_MAXMB},
        {"strict", no_argument, 0, OPT_STRICT},       {"failures", required_argument, 0, OPT_FAILURES},
        {"no-progress", no_argument, 0, OPT_NOPROGRESS}, {"quiet", no_argument, 0, 'q'},
        {"verbose", no_argument, 0, 'v'},             {"help", no_argument, 0, 'h'},
        {"version", no_argument, 0, OPT_VERSION},     {"no-isolation", no_argument, 0, OPT_NO_ISOLATION},
        {"worker-memory", required_argument, 0, OPT_WORKER_MEMORY},
        {"module-timeout", required_argument, 0, OPT_MODULE_TIMEOUT},
        {"opt-levels", required_argument, 0, OPT_OPT_LEVELS}, {"statement-sep", no_argument, 0, OPT_STATEMENT_SEP},
        {0, 0, 0, 0}};
    int c, li;
    int64_t v;
    /* an integer option's value into dst, within [min, max]; else bad, and num_err says why */
#define INT(dst, min, max) do { if (mir_cli_int(opt, optarg, min, max, &v, num_err)) *bad = 1; else dst = v; } while (0)
    while ((li = -1, c = getopt_long(argc, argv, "o:D:I:O:qvh", longopts, &li)) != -1) {
        const char *opt = mir_cli_name(longopts, li);
        switch (c) {
        case 'o': o->output = optarg; break;
        case OPT_VOCAB: o->vocab_file = optarg; break;
        case OPT_VOCAB_SIZE:
            INT(o->vocab.max_size, MIR_TOK_NSPECIAL + 1, 1 << 24);
            break;
        case OPT_MIN_COUNT:
            if (mir_cli_int(opt, optarg, 1, 1LL << 40, &v, num_err)) *bad = 1;
            else o->vocab.min_word_count = o->vocab.min_piece_count = v;
            break;
        case OPT_COMPILE: o->compile = 1; break;
        case OPT_CLANG: o->cc.clang = optarg; break;
        case 'D': case 'I': mir_cli_flag_append(flags, n_flags, c, optarg); break;
        case OPT_CFLAG: flags[(*n_flags)++] = strdup(optarg); break;
        case 'O': o->cc.opt_level = optarg; break;
        case OPT_OPT_LEVELS:
            if (parse_levels(optarg, o->opt_levels, sizeof o->opt_levels)) {
                if (rank == 0) mir_log(MIR_LOG_ERROR, "--opt-levels %s: give distinct levels among 0,1,2,3,s,z", optarg);
                *bad = 1;
            }
            break;
        case OPT_PRELUDE: o->cc.cuda_prelude = optarg; break;
        case OPT_TIMEOUT: INT(o->cc.timeout_s, 1, 86400); break;
        case OPT_MAXMB:
            if (mir_cli_int(opt, optarg, 1, 1 << 20, &v, num_err)) *bad = 1;
            else o->max_module_bytes = v << 20; /* MiB */
            break;
        case OPT_STRICT: o->strict = 1; break;
        case OPT_STATEMENT_SEP: o->statement_sep = 1; break;
        case OPT_NO_ISOLATION: o->isolation = 0; break;
        case OPT_WORKER_MEMORY:
            if (mir_cli_int(opt, optarg, 16, 1L << 30, &v, num_err)) *bad = 1;
            else o->limits.memory_bytes = v << 20; /* MiB */
            break;
        case OPT_MODULE_TIMEOUT: INT(o->limits.timeout_s, 1, 1L << 30); break;
        case OPT_FAILURES: o->failures_file = optarg; break;
        case OPT_NOPROGRESS: o->progress = 0; break;
        case 'q': *level = MIR_LOG_ERROR; o->progress = 0; break;
        case 'v': *level = MIR_LOG_DEBUG; break;
        case 'h': return PARSED_HELP;
        case OPT_VERSION: return PARSED_VERSION;
        default: *bad = 1; break;
        }
    }
#undef INT
    return PARSED;
}

/* What the options leave missing or contradictory, logged (rank 0); 1 when something is, else bad as given. */
static int check_usage(int argc, int rank, const mir_pp_options *o, int bad) {
    if (!bad && !o->output) {
        if (rank == 0) mir_log(MIR_LOG_ERROR, "no output file: give -o corpus.h5");
        bad = 1;
    } else if (!bad && optind >= argc) {
        if (rank == 0) mir_log(MIR_LOG_ERROR, "no INPUT given");
        bad = 1;
    } else if (!bad && o->opt_levels[0] && !o->compile) {
        if (rank == 0) mir_log(MIR_LOG_ERROR, "--opt-levels applies to sources: give --compile too");
        bad = 1;
    }
    return bad;
}

/* The options that shape the corpus, as the corpus records them (o->options_text), into buf. */
static void describe_options(const mir_pp_options *o, const char *const *flags, int n_flags, char *buf,
                             size_t cap) {
    size_t ob = 0;
#define NOTE(...) ob += (size_t)snprintf(buf + ob, ob < cap ? cap - ob : 0, __VA_ARGS__)
    NOTE("vocab=%s vocab_size=%d min_count=%lld compile=%d opt=O%s max_module_mb=%lld", o->vocab_file ? o->vocab_file : "built",
         o->vocab.max_size, (long long)o->vocab.min_word_count, o->compile, o->cc.opt_level,
         (long long)(o->max_module_bytes >> 20));
    if (o->opt_levels[0]) {
        NOTE(" opt_levels=");
        for (const char *l = o->opt_levels; *l; l++) NOTE("%s%c", l == o->opt_levels ? "" : ",", *l);
    }
    if (o->statement_sep) NOTE(" statement_sep=1");
    for (int i = 0; i < n_flags; i++) NOTE(" %s", flags[i]);
#undef NOTE
}

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    int rank, nranks;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &nranks);
    mir_log_level level = MIR_LOG_INFO;

    mir_pp_options o;
    mir_pp_options_default(&o);
    const char **flags = calloc((size_t)argc + 1, sizeof *flags);
    int n_flags = 0, bad = 0;
    mir_error num_err = {{0}}; /* a refused number */
    switch (parse_options(argc, argv, rank, &o, &level, flags, &n_flags, &bad, &num_err)) {
    case PARSED_HELP:
        if (rank == 0) usage(stdout);
        MPI_Finalize();
        return MIR_EXIT_OK;
    case PARSED_VERSION:
        if (rank == 0) printf("mir-preprocess %s (LLVM %s)\n", MIR_VERSION_STRING, MIR_LLVM_VERSION_STRING);
        MPI_Finalize();
        return MIR_EXIT_OK;
    }
    mir_log_init("mir-preprocess", rank, nranks, level);
    if (num_err.msg[0] && rank == 0) mir_log(MIR_LOG_ERROR, "%s", num_err.msg);
    if (check_usage(argc, rank, &o, bad)) {
        if (rank == 0) fprintf(stderr, "try 'mir-preprocess --help'\n");
        MPI_Finalize();
        return MIR_EXIT_USAGE;
    }
    o.cc.user_flags = flags;
    o.cc.n_user_flags = n_flags;
    o.inputs = argv + optind;
    o.n_inputs = argc - optind;
    /* one level in --opt-levels is -O LEVEL */
    char one_level[2] = {o.opt_levels[0], 0};
    if (strlen(o.opt_levels) == 1) {
        o.cc.opt_level = one_level;
        o.opt_levels[0] = 0;
    }
    char optbuf[2048] = "";
    describe_options(&o, flags, n_flags, optbuf, sizeof optbuf);
    o.options_text = optbuf;

    mir_pp_summary sum;
    mir_error err = {{0}};
    int rc = mir_preprocess_run(&o, MPI_COMM_WORLD, &sum, &err);
    int status;
    if (rc) {
        if (rank == 0) mir_log(MIR_LOG_ERROR, "%s", err.msg);
        status = sum.stopped_strict ? MIR_EXIT_MODULES_FAILED : MIR_EXIT_FATAL;
    } else {
        status = sum.n_failed ? MIR_EXIT_MODULES_FAILED : MIR_EXIT_OK;
        if (rank == 0 && level >= MIR_LOG_INFO)
            mir_log(MIR_LOG_INFO, "wrote %s%s", o.output, sum.n_failed ? " (some modules failed: exit status 3)" : "");
    }
    mir_cli_flags_free(flags, n_flags);
    MPI_Finalize();
    return status;
}
