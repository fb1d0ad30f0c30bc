/*
 * probe.h: one small measurement API for every phase of every stage.
 *
 * A probe set names phases ("read", "parse", "tokens", "graph", "write", ...). Around each phase the
 * caller does mir_probe_begin(p, PHASE) ... mir_probe_end(p, PHASE); the probe accumulates wall time,
 * CPU time and, where PAPI's perf_event component can count on this machine, hardware counters
 * (PAPI_TOT_CYC, PAPI_TOT_INS, PAPI_L1_DCM, PAPI_VEC_INS where the preset exists). When hardware
 * counters cannot be used (virtual machines without perf_event, PAPI missing presets) the first
 * mir_probe_create() says so once on stderr (rank 0 only) and records wall and CPU time only.
 *
 * The pipeline's own counts (modules, tokens, nodes, edges, UNK tokens, failures) are published as
 * PAPI software-defined events under the library name given to mir_probe_create ("sde:::NAME::modules"),
 * so any PAPI tool attached to the process can read them; mir_probe_count_add() increments them and
 * the summary prints them.
 *
 * Not thread-safe: one probe set per thread. Phases may not nest with themselves.
 */
#ifndef MIR_PROBE_H
#define MIR_PROBE_H

#include <stdint.h>
#include <stdio.h>

#define MIR_PROBE_MAX_PHASES 16
#define MIR_PROBE_MAX_COUNTS 16
#define MIR_PROBE_MAX_HW 4

typedef struct mir_probe mir_probe;

/* Create a probe set. sde_library: the SDE library name ("mir_preprocess"); phase_names: n_phases
 * phase names; count_names: n_counts names of software counters. quiet: never print the
 * "hardware counters unavailable" notice (e.g. on ranks other than 0). Returns NULL only on bad arguments. */
mir_probe *mir_probe_create(const char *sde_library, const char *const *phase_names, int n_phases,
                            const char *const *count_names, int n_counts, int quiet);
void mir_probe_free(mir_probe *p);

void mir_probe_begin(mir_probe *p, int phase);
void mir_probe_end(mir_probe *p, int phase);
void mir_probe_count_add(mir_probe *p, int counter, int64_t n);

/* 1 when hardware counters are being recorded, 0 when only wall/CPU time. */
int mir_probe_hw_available(const mir_probe *p);
/* Why hardware counters are unavailable ("" when they are available). */
const char *mir_probe_hw_reason(const mir_probe *p);

/* Read-out. Times in seconds, summed over all begin/end pairs of the phase. */
double mir_probe_wall(const mir_probe *p, int phase);
double mir_probe_cpu(const mir_probe *p, int phase);
int64_t mir_probe_calls(const mir_probe *p, int phase);
int mir_probe_n_hw(const mir_probe *p);                 /* number of hardware events recorded (0 if none) */
const char *mir_probe_hw_name(const mir_probe *p, int k); /* e.g. "PAPI_TOT_CYC" */
int64_t mir_probe_hw_value(const mir_probe *p, int phase, int k);
int64_t mir_probe_count(const mir_probe *p, int counter);
/* Value of a software-defined counter as read back through PAPI ("sde:::LIB::NAME"), or -1 when the
 * SDE component cannot read it. Used by tests to prove the counters are really published. */
int64_t mir_probe_read_sde(const mir_probe *p, int counter);

/* Flat export for reductions across MPI ranks: writes n_phases*(2 + n_hw) doubles
 * (wall, cpu, hw...) followed by n_counts doubles; returns the number of doubles. buf may be NULL to
 * ask for the size. */
int mir_probe_export(const mir_probe *p, double *buf);
/* Print a table: per phase wall s, CPU s, calls and hw counters, then the counts. values: as from
 * mir_probe_export (possibly summed or maxed over ranks); NULL means this probe's own values.
 * title: a heading line. */
void mir_probe_print(const mir_probe *p, FILE *out, const char *title, const double *values);

#endif
