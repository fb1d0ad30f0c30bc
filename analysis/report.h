/*
 * report.h: how the analysis tasks write OUT/TASK/ (docs/analysis.md). A task computes into a results struct of
 * its own first (devmap.c, coarsen.c, vectorize.c, vectorize_label.c); its writers then only format, through
 * these helpers:
 *
 *   files       mir_report_open / mir_report_close: DIR/NAME, with the task's error messages
 *   summary.md  the title, table heads with their alignment row, "mean ± sd" cells, paired verdicts, and the
 *               cost section (the PAPI probe's table summed over the ranks: collective)
 *   summary.json an emitter that places the separators and the line breaks, and escapes the strings
 *   CSV         a file with its header, and metrics.csv's rows (KEYS,METRIC,MEAN,SD,SEEDS)
 *   plots       a gnuplot histogram script for the .dat the task wrote, run at once (a missing gnuplot warns)
 *
 * Only rank 0 writes, except mir_report_cost, which every rank calls.
 */
#ifndef MIR_REPORT_H
#define MIR_REPORT_H
#include <mpi.h>
#include <stdio.h>

#include "mir_common.h"

struct mir_paired;
struct mir_probe;

/* ---- files ---- */
/* DIR/NAME opened with mode ("w", "a"); NULL with err "DIR/NAME: cannot write". */
FILE *mir_report_open(const char *dir, const char *name, const char *mode, mir_error *err);
/* fclose(f); 0, or -1 with err "DIR/NAME: write error" when a write or the close failed. */
int mir_report_close(FILE *f, const char *dir, const char *name, mir_error *err);
/* "model name" of /proc/cpuinfo and the number of online CPUs, for the report. */
void mir_machine_string(char *out, size_t cap);

/* ---- summary.md ---- */
/* "# TITLE", a blank line, and "Command: `COMMAND_LINE`  " when it is known (NULL: none). */
void mir_md_title(FILE *f, const char *title, const char *command_line);
/* A table's head: the header row fmt (printf-style, "| a | b |"), then its alignment row: the first n_left
 * columns left-aligned (---), the others right-aligned (---:). */
void mir_md_table_head(FILE *f, int n_left, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* A row's first cell, "| LABEL |", in bold when bold. */
void mir_md_label(FILE *f, const char *label, int bold);
/* A cell " MEAN ± SD |" with fmt for both ("%.3f"), the mean alone when n < 2, " — |" when mean is NaN. */
void mir_md_pm(FILE *f, double mean, double sd, int n, const char *fmt);
/* One list item: "- WHAT: mean difference of log speedup D [lo, hi] (95 % paired t interval over N UNITS):
 * **verdict**; geometric-mean ratio exp(D)." */
void mir_paired_md(FILE *f, const char *what, const struct mir_paired *p, const char *units);
/* The cost section of DIR/summary.md, collective: rank 0 appends "## Cost (PAPI probe, common/probe.h)", the
 * probe's table of the phases summed over the ranks of comm (items[phase]: what one call stands for, n_items
 * how many there were; NULL: none), and the line fmt. Nothing is written when the file cannot be opened. */
void mir_report_cost(const char *dir, struct mir_probe *p, MPI_Comm comm, const char *const *phases, int n_phases,
                     const char *const *items, const double *n_items, const char *fmt, ...)
    __attribute__((format(printf, 8, 9)));
/* The probe's table alone (used by mir_report_cost; rank 0 writes to f). */
void mir_probe_markdown(struct mir_probe *p, MPI_Comm comm, FILE *f, const char *const *phase_names, int n_phases,
                        const char *const *items, const double *n_items);

/* ---- summary.json ---- */
/* An object being written: members are separated by ", ", or each on a line of its own indented by two spaces a
 * level ("lines"); keys and strings are escaped; numbers are %.6g, and null when not finite. Objects nest at most
 * MIR_JSON_MAX_DEPTH deep. */
enum { MIR_JSON_MAX_DEPTH = 16 };
typedef struct mir_json {
    FILE *f;
    int depth;                          /* objects open */
    int n[MIR_JSON_MAX_DEPTH];          /* members written in each */
    int lines[MIR_JSON_MAX_DEPTH];      /* 1: one member a line */
} mir_json;
/* DIR/NAME opened and its top-level object begun; 0, or -1 with err as mir_report_open. */
int mir_json_open(mir_json *j, const char *dir, const char *name, int lines, mir_error *err);
/* Every object still open closed, the line ended and the file closed; 0, or -1 with err as mir_report_close. */
int mir_json_finish(mir_json *j, const char *dir, const char *name, mir_error *err);
/* "KEY": { ... } */
void mir_json_object(mir_json *j, const char *key, int lines);
void mir_json_close(mir_json *j);
void mir_json_num(mir_json *j, const char *key, double v);
void mir_json_int(mir_json *j, const char *key, long long v);
void mir_json_str(mir_json *j, const char *key, const char *s);
/* "KEY": {"diff": .., "lo": .., "hi": .., "n": .., "verdict": ".."} */
void mir_json_paired(mir_json *j, const char *key, const struct mir_paired *p);

/* ---- CSV ---- */
/* DIR/NAME with its header line (without the line end); NULL with err as mir_report_open. */
FILE *mir_csv_open(const char *dir, const char *name, const char *header, mir_error *err);
/* metrics.csv's rows: KEYS (the task's columns, joined by commas),METRIC,MEAN,SD,SEEDS, numbers %.6g;
 * mir_csv_value leaves SD empty. */
void mir_csv_metric(FILE *f, const char *keys, const char *metric, double mean, double sd, int seeds);
void mir_csv_value(FILE *f, const char *keys, const char *metric, double value, int seeds);

/* ---- plots ---- */
/* A gnuplot histogram of STEM.dat (written by the task) into STEM.png, 520 pixels high. */
typedef struct mir_plot {
    const char *stem;   /* STEM.gp, STEM.png */
    int width;          /* pixels */
    const char *title;
    int errorbars;      /* 1: columns (mean, sd) with error bars; 0: clustered bars */
    const char *xtics;  /* "set xtics ..." (NULL: none) */
    const char *ylabel, *yrange;
    const char *plot;   /* the arguments of the plot command */
} mir_plot;
/* DIR/STEM.gp written, then gnuplot run on it (a missing or failing gnuplot only warns). 0, or -1 with err when
 * the script cannot be written. */
int mir_plot_write(const char *dir, const mir_plot *p, mir_error *err);

#endif
