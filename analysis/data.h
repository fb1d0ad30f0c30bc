/*
 * data.h: the two published data sets as the analyses read them (../shared/data/README.md).
 *
 * Device mapping (Grewe et al. / DeepTune): cgo17-amd.csv and cgo17-nvidia.csv, 680 rows each in the
 * same order. Row i of both is one (kernel, input size); its kernel file in kernels_ir/ is, for
 * name = benchmark + "-" + dataset, the first that exists of
 *     name.ll,   benchmark.ll (name without its last "-dataset" part),   benchmark_dataset.ll
 * (mir_devmap_candidates). Its suite is the benchmark's prefix up to and including the first
 * "-"-separated part that starts with a digit (the suite's version): "npb-3.3", "amd-app-sdk-3.0".
 * Labels: 1 (GPU) when runtime_gpu < runtime_cpu, else 0 (CPU), as the oracle column says.
 *
 * Thread coarsening (Magni et al.): pact-2014-runtimes.csv, runtimes of 17 kernels at factors
 * 1, 2, 4, 8, 16, 32 on four GPUs; a factor not measured for a kernel (or missing for one GPU) is NaN.
 */
#ifndef MIR_DATA_H
#define MIR_DATA_H
#include "mir_common.h"

enum { MIR_DEVMAP_AMD = 0, MIR_DEVMAP_NVIDIA = 1, MIR_DEVMAP_N_PLATFORMS = 2 };
enum { MIR_CPU = 0, MIR_GPU = 1 };
extern const char *const mir_devmap_platform_name[MIR_DEVMAP_N_PLATFORMS]; /* "amd", "nvidia" */

typedef struct mir_devmap {
    int n;                       /* rows (per platform) */
    char **benchmark, **dataset; /* (n) */
    int *kernel;                 /* (n) index into kernel_file (-1 until a file is set) */
    int *group;                  /* (n) benchmark id (rows of one benchmark share it) */
    int *suite;                  /* (n) index into suite_name */
    int n_kernels, n_groups, n_suites;
    char **kernel_file;          /* (n_kernels) full paths, in order of first use */
    char **suite_name;           /* (n_suites) sorted */
    int *csv_row;                /* (n) row number in the CSV (0-based, after the header) */
    /* per platform */
    double *transfer[MIR_DEVMAP_N_PLATFORMS], *wgsize[MIR_DEVMAP_N_PLATFORMS];
    double *runtime_cpu[MIR_DEVMAP_N_PLATFORMS], *runtime_gpu[MIR_DEVMAP_N_PLATFORMS];
    int *label[MIR_DEVMAP_N_PLATFORMS];  /* MIR_CPU / MIR_GPU */
} mir_devmap;

/* The three candidate file names (no directory) for a row, in the order tried. */
void mir_devmap_candidates(const char *benchmark, const char *dataset, char cand[3][512]);
/* Suite of a benchmark name into out (cap bytes). */
void mir_devmap_suite(const char *benchmark, char *out, size_t cap);

/* Read both CSVs from data_dir/devmap and map the rows to files of kernels_dir. limit > 0 keeps limit rows
 * spread evenly over the data set (rows floor(j * n / limit)). kernels_dir NULL: no files (kernel[j] = -1,
 * n_kernels 0), for the caller to set with mir_devmap_set_kernel. 0, or -1 with err naming the file. */
int mir_devmap_load(mir_devmap *d, const char *data_dir, const char *kernels_dir, int limit, mir_error *err);
/* Row j's kernel is the file path: rows given the same path share one kernel (its features are computed once);
 * a new path is appended to kernel_file. Returns the kernel's index. */
int mir_devmap_set_kernel(mir_devmap *d, int j, const char *path);
void mir_devmap_free(mir_devmap *d);
/* Speedup of running row j on device (MIR_CPU / MIR_GPU) over the static mapping of the platform (CPU on
 * AMD, GPU on NVIDIA): runtime(static) / runtime(device). */
double mir_devmap_speedup(const mir_devmap *d, int plat, int j, int device);

#define MIR_COARSEN_N_GPUS 4
#define MIR_COARSEN_N_FACTORS 6
extern const char *const mir_coarsen_gpu_name[MIR_COARSEN_N_GPUS];  /* Cypress, Tahiti, Fermi, Kepler */
extern const int mir_coarsen_factor[MIR_COARSEN_N_FACTORS];          /* 1 2 4 8 16 32 */

typedef struct mir_coarsen {
    int n;                                   /* kernels, sorted by name */
    char **kernel, **kernel_file;            /* (n) name, full path of its IR */
    double *runtime[MIR_COARSEN_N_GPUS];     /* (n, 6) NaN where not measured */
} mir_coarsen;

/* Read data_dir/thread_coarsening/pact-2014-runtimes.csv (and check the oracle file against it: a
 * disagreement is an error). 0, or -1 with err. */
int mir_coarsen_load(mir_coarsen *c, const char *data_dir, const char *kernels_dir, mir_error *err);
void mir_coarsen_free(mir_coarsen *c);
/* runtime at factor 1 / runtime at factor index f of kernel k on GPU g (NaN when f was not measured) */
double mir_coarsen_speedup(const mir_coarsen *c, int g, int k, int f);

#endif
