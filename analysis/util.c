/* util.c: directories, unpacking, gnuplot (see analysis.h; the cost tables are in report.c). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analysis.h"
#include "atomic_file.h"
#include "child.h"
#include "mpi_util.h"
#include "paired.h"
#include "probe.h"

void mir_analyze_options_default(mir_analyze_options *o) {
    memset(o, 0, sizeof *o);
    o->seed = 1;
    o->n_seeds = 10;
    o->ablation_seeds = 3;
    o->ablations = 1;
    mir_clf_params_default(&o->clf);
}

int mir_mkdir_p(const char *path, mir_error *err) {
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1;; p++) {
        if (*p == '/' || *p == '\0') {
            char c = *p;
            *p = '\0';
            if (mkdir(buf, 0777) && errno != EEXIST) return mir_fail(err, "%s: cannot create: %s", buf, strerror(errno));
            *p = c;
            if (!c) break;
        }
    }
    struct stat st;
    if (stat(path, &st) || !S_ISDIR(st.st_mode)) return mir_fail(err, "%s: not a directory", path);
    return 0;
}

static int is_dir(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* unzip and the like: the exit status, or -1 when it could not be started or was killed. */
static int run_argv(char *const argv[]) {
    mir_child_result cr;
    if (mir_child_run(argv, NULL, 0, &cr)) return -1;
    return cr.exit_code;
}

int mir_kernels_dir(const mir_analyze_options *o, const char *sub, const char *stem, const char *folder,
                    MPI_Comm comm, char *out, size_t cap, mir_error *err) {
    int rank;
    MPI_Comm_rank(comm, &rank);
    if (o->kernels_dir) {
        snprintf(out, cap, "%s", o->kernels_dir);
        if (!is_dir(out)) return mir_fail(err, "--kernels %s: not a directory", out);
        return 0;
    }
    snprintf(out, cap, "%s/data/%s/%s/%s", o->out_dir, sub, stem, folder);
    int rc = 0;
    char msg[MIR_ERROR_MAX] = "";
    if (rank == 0 && !is_dir(out)) {
        char zip[2048], dest[2048];
        snprintf(zip, sizeof zip, "%s/%s/%s.zip", o->data_dir, sub, stem);
        snprintf(dest, sizeof dest, "%s/data/%s/%s", o->out_dir, sub, stem);
        mir_atomic_file unpacked;
        mir_error e = {{0}};
        if (access(zip, R_OK)) {
            snprintf(msg, sizeof msg, "%s: cannot read (%s), and %s does not exist: give --data or --kernels", zip,
                     strerror(errno), out);
            rc = -1;
        } else if (mir_atomic_begin(&unpacked, dest, &e) || mir_mkdir_p(unpacked.tmp, &e)) {
            snprintf(msg, sizeof msg, "%s", e.msg);
            rc = -1;
        } else {
            mir_log(MIR_LOG_INFO, "unpacking %s into %s", zip, dest);
            char *argv[] = {"unzip", "-q", "-o", zip, "-d", unpacked.tmp, "-x", "__MACOSX/*", NULL};
            int st = run_argv(argv);
            if (st != 0) {
                snprintf(msg, sizeof msg, "unzip %s failed (%s): is unzip installed (scripts/install-deps)?", zip,
                         st < 0 ? "could not run it" : "non-zero exit");
                mir_atomic_abort(&unpacked);
                rc = -1;
            } else if (mir_atomic_commit(&unpacked, &e)) {
                snprintf(msg, sizeof msg, "%s", e.msg);
                rc = -1;
            } else if (!is_dir(out)) {
                snprintf(msg, sizeof msg, "%s has no %s/ folder", zip, folder);
                rc = -1;
            }
        }
    }
    if (rc) mir_fail(err, "%s", msg); /* rank 0 */
    if (mir_mpi_root_rc(comm, rc, err)) return -1;
    return 0;
}

int mir_run_gnuplot(const char *dir, const char *script) {
    char cwd[4096];
    if (!getcwd(cwd, sizeof cwd)) return -1;
    if (chdir(dir)) return -1;
    char *argv[] = {"gnuplot", (char *)script, NULL};
    int st = run_argv(argv);
    if (chdir(cwd)) {}
    if (st != 0) {
        mir_log(MIR_LOG_WARN, "gnuplot %s/%s: %s: no plot", dir, script,
                st < 0 ? "gnuplot could not be run (apt-get install gnuplot-nox)" : "gnuplot failed");
        return -1;
    }
    return 0;
}

int mir_task_dir(const mir_analyze_options *o, const char *task, MPI_Comm comm, char *dir, size_t cap,
                 mir_error *err) {
    int rank;
    MPI_Comm_rank(comm, &rank);
    snprintf(dir, cap, "%s/%s", o->out_dir, task);
    int rc = rank == 0 ? mir_mkdir_p(dir, err) : 0;
    rc = mir_mpi_root_rc(comm, rc, err);
    return rc ? -1 : 0;
}

mir_model *mir_analyze_model_load(const mir_analyze_options *o, const char *path, mir_error *err) {
    mir_model *m = mir_model_load(path, err);
    if (!m) return NULL;
    /* the readout applies to --model (which must then have a statistics head) and to any model that has one (its
     * random-weight copy); a --versus model without a head is read as its embedding */
    const int readout = o->readout && (!strcmp(path, o->model) || mir_model_stat_columns(m) > 0) ? o->readout : 0;
    if (o->embed_windows == 0 && o->embed_max_nodes == 0 && o->embed_window == 0 && readout == 0) return m;
    mir_embed_options eo = {o->embed_windows, o->embed_max_nodes, o->embed_window, readout};
    if (o->embed_windows < 0) eo = mir_embed_options_fast(m);
    eo.readout = readout;
    if (mir_model_set_options(m, &eo, err)) {
        char msg[sizeof err->msg];
        snprintf(msg, sizeof msg, "%s", err->msg);
        mir_fail(err, "%s: %s", path, msg);
        mir_model_free(m);
        return NULL;
    }
    return m;
}

int mir_runs_combine(MPI_Comm comm, int rc, int *pred_all, int *chosen_all, int n_runs, int n, const int64_t *n_fits,
                     const int64_t *n_pred, int64_t tot[4], mir_error *err) {
    if (mir_mpi_agree(comm, rc, err)) return -1;
    MPI_Allreduce(MPI_IN_PLACE, pred_all, n_runs * 3 * n, MPI_INT, MPI_SUM, comm);
    MPI_Allreduce(MPI_IN_PLACE, chosen_all, n_runs * n, MPI_INT, MPI_SUM, comm);
    for (int i = 0; i < n_runs * n; i++) chosen_all[i] -= 1;
    tot[0] = n_fits[0];
    tot[1] = n_fits[1];
    tot[2] = n_pred[0];
    tot[3] = n_pred[1];
    MPI_Allreduce(MPI_IN_PLACE, tot, 4, MPI_INT64_T, MPI_SUM, comm);
    return 0;
}

int mir_reg_runs_combine(MPI_Comm comm, int rc, int *choice, int n_choice, double *margin, int n_margin,
                         int64_t *fits, mir_error *err) {
    if (mir_mpi_agree(comm, rc, err)) return -1;
    MPI_Allreduce(MPI_IN_PLACE, choice, n_choice, MPI_INT, MPI_SUM, comm);
    for (int i = 0; i < n_choice; i++) choice[i] -= 2;
    if (n_margin) MPI_Allreduce(MPI_IN_PLACE, margin, n_margin, MPI_DOUBLE, MPI_SUM, comm);
    MPI_Allreduce(MPI_IN_PLACE, fits, 1, MPI_INT64_T, MPI_SUM, comm);
    return 0;
}
