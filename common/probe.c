/*
 * probe.c: per-phase wall/CPU time, PAPI hardware counters and PAPI software-defined events (see probe.h).
 *
 * Notes on PAPI 7.0 (Debian libpapi-dev) that shaped this file:
 *  - SDE counters are created with papi_sde_create_counter (storage owned by libsde) rather than
 *    registered on memory inside the probe: libsde 7.0 cannot take a counter back (both
 *    papi_sde_unregister_counter and papi_sde_shutdown leave freed entries in its tables and the
 *    next PAPI_event_name_to_code on an SDE crashes), and registering a name again is silently
 *    ignored, so a registered pointer into a freed probe would dangle. A created counter outlives
 *    the probe; a later probe set with the same library name finds it again and resets it to 0.
 *    Probe sets alive at the same time should therefore use distinct library names.
 *  - The counters are PAPI_SDE_INSTANT: a reader sees the running total. With PAPI_SDE_DELTA a
 *    PAPI_start/PAPI_read pair only sees what was added in between (0 for mir_probe_read_sde).
 *  - The probe keeps its own int64 copy of every count (mir_probe_count, export); the SDE copy is
 *    what outside PAPI tools read.
 *  - The hardware event set runs from mir_probe_create to mir_probe_free; begin/end read it. PAPI
 *    runs one event set per component and thread, so a second probe set alive in the same thread
 *    records wall and CPU time only (its reason says why).
 */
#include "probe.h"

#include <papi.h>
#include <pthread.h>
#include <sde_lib.h>
#include <stdlib.h>
#include <string.h>

#include "mir_common.h"

#define REASON_MAX 256

struct mir_probe {
    char *library;
    int n_phases, n_counts, n_hw;
    char *phase_names[MIR_PROBE_MAX_PHASES];
    char *count_names[MIR_PROBE_MAX_COUNTS];
    /* accumulated per phase */
    double wall[MIR_PROBE_MAX_PHASES], cpu[MIR_PROBE_MAX_PHASES];
    int64_t calls[MIR_PROBE_MAX_PHASES];
    int64_t hw[MIR_PROBE_MAX_PHASES][MIR_PROBE_MAX_HW];
    /* state of an open begin() */
    int active[MIR_PROBE_MAX_PHASES];
    double wall0[MIR_PROBE_MAX_PHASES], cpu0[MIR_PROBE_MAX_PHASES];
    long long hw0[MIR_PROBE_MAX_PHASES][MIR_PROBE_MAX_HW];
    /* hardware counters */
    int hw_set; /* running PAPI event set, or PAPI_NULL */
    int hw_preset[MIR_PROBE_MAX_HW]; /* index into hw_presets of each recorded counter */
    char hw_reason[REASON_MAX];
    /* software counters */
    int64_t counts[MIR_PROBE_MAX_COUNTS];
    void *sde_counters[MIR_PROBE_MAX_COUNTS]; /* libsde handles, NULL where SDEs are disabled */
};

/* The hardware events tried, in this order. */
static const struct {
    int code;
    const char *name;
} hw_presets[MIR_PROBE_MAX_HW] = {
    {PAPI_TOT_CYC, "PAPI_TOT_CYC"}, {PAPI_TOT_INS, "PAPI_TOT_INS"},
    {PAPI_L1_DCM, "PAPI_L1_DCM"},   {PAPI_VEC_INS, "PAPI_VEC_INS"},
};

/* The once-per-process PAPI initialisation and its outcome. */
static struct {
    pthread_once_t once;
    int status;       /* PAPI_OK, a PAPI error code, or PAPI_library_init's unexpected version */
    const char *step; /* the call that failed */
} g_papi = {PTHREAD_ONCE_INIT, PAPI_OK, ""};
static int g_notice_printed;

static unsigned long thread_id(void) { return (unsigned long)pthread_self(); }

static void papi_init(void) {
    if (PAPI_is_initialized() != PAPI_NOT_INITED) return; /* someone else (a tool) did it */
    int rc = PAPI_library_init(PAPI_VER_CURRENT);
    if (rc != PAPI_VER_CURRENT) {
        g_papi.status = rc;
        g_papi.step = "PAPI_library_init";
        return;
    }
    rc = PAPI_thread_init(thread_id);
    if (rc != PAPI_OK) {
        g_papi.status = rc;
        g_papi.step = "PAPI_thread_init";
    }
}

static int papi_ready(void) {
    pthread_once(&g_papi.once, papi_init);
    return g_papi.status == PAPI_OK;
}

static const char *papi_status_text(int rc) {
    return rc > 0 ? "library version differs from papi.h" : PAPI_strerror(rc);
}

/* Why presets cannot be counted, from what PAPI knows about perf_event and the machine. */
static void hw_hint(char *buf, size_t n) {
    int cid = PAPI_get_component_index("perf_event");
    const PAPI_component_info_t *ci = cid >= 0 ? PAPI_get_component_info(cid) : NULL;
    const PAPI_hw_info_t *hw = PAPI_get_hardware_info();
    if (!ci)
        snprintf(buf, n, "PAPI built without the perf_event component");
    else if (ci->disabled)
        snprintf(buf, n, "perf_event component disabled: %.120s", ci->disabled_reason);
    else if (hw && hw->virtualized)
        snprintf(buf, n, "no PMU exposed to this %.32s virtual machine", hw->virtual_vendor_string);
    else
        snprintf(buf, n, "preset not supported on this CPU");
}

/* Add the presets that can be added; returns the first failure (PAPI_OK if none) and its preset index. */
static int hw_add_presets(mir_probe *p, int set, int *failed) {
    int first_err = PAPI_OK;
    for (int k = 0; k < MIR_PROBE_MAX_HW; k++) {
        int rc = PAPI_add_event(set, hw_presets[k].code);
        if (rc == PAPI_OK) {
            p->hw_preset[p->n_hw++] = k;
        } else if (first_err == PAPI_OK) {
            first_err = rc;
            *failed = k;
        }
    }
    return first_err;
}

static void hw_destroy(int *set) {
    if (*set == PAPI_NULL) return;
    PAPI_cleanup_eventset(*set);
    PAPI_destroy_eventset(set);
    *set = PAPI_NULL;
}

/* Set up and start the hardware event set, or fill hw_reason and leave n_hw at 0. */
static void hw_setup(mir_probe *p) {
    if (!papi_ready()) {
        snprintf(p->hw_reason, REASON_MAX, "%s: %s", g_papi.step, papi_status_text(g_papi.status));
        return;
    }
    int set = PAPI_NULL, failed = 0;
    int rc = PAPI_create_eventset(&set);
    if (rc != PAPI_OK) {
        snprintf(p->hw_reason, REASON_MAX, "PAPI_create_eventset: %s", PAPI_strerror(rc));
        return;
    }
    rc = hw_add_presets(p, set, &failed);
    if (p->n_hw == 0) {
        char hint[160];
        hw_hint(hint, sizeof hint);
        snprintf(p->hw_reason, REASON_MAX, "%s: %s (%s)", hw_presets[failed].name, PAPI_strerror(rc), hint);
        hw_destroy(&set);
        return;
    }
    rc = PAPI_start(set);
    if (rc != PAPI_OK) {
        snprintf(p->hw_reason, REASON_MAX, "PAPI_start: %s%s", PAPI_strerror(rc),
                 rc == PAPI_EISRUN ? " (another probe set is counting in this thread)" : "");
        p->n_hw = 0;
        hw_destroy(&set);
        return;
    }
    p->hw_set = set;
}

/* Create (or find again, and reset) one libsde-owned counter per count name. */
static void sde_setup(mir_probe *p) {
    papi_handle_t lib = papi_sde_init(p->library);
    if (!lib) return;
    for (int c = 0; c < p->n_counts; c++) {
        void *h = papi_sde_get_counter_handle(lib, p->count_names[c]);
        if (h)
            papi_sde_reset_counter(h);
        else if (papi_sde_create_counter(lib, p->count_names[c], PAPI_SDE_RO | PAPI_SDE_INSTANT, &h) != SDE_OK)
            h = NULL;
        p->sde_counters[c] = h;
    }
}

static int names_ok(const char *const *names, int n, int max) {
    if (n < 0 || n > max || (n > 0 && !names)) return 0;
    for (int i = 0; i < n; i++)
        if (!names[i] || !names[i][0]) return 0;
    return 1;
}

mir_probe *mir_probe_create(const char *sde_library, const char *const *phase_names, int n_phases,
                            const char *const *count_names, int n_counts, int quiet) {
    if (!sde_library || !sde_library[0] || !names_ok(phase_names, n_phases, MIR_PROBE_MAX_PHASES) ||
        !names_ok(count_names, n_counts, MIR_PROBE_MAX_COUNTS))
        return NULL;
    mir_probe *p = mir_calloc(1, sizeof *p);
    p->library = mir_strdup(sde_library);
    p->n_phases = n_phases;
    p->n_counts = n_counts;
    for (int i = 0; i < n_phases; i++) p->phase_names[i] = mir_strdup(phase_names[i]);
    for (int c = 0; c < n_counts; c++) p->count_names[c] = mir_strdup(count_names[c]);
    p->hw_set = PAPI_NULL;
    hw_setup(p);
    sde_setup(p);
    if (p->n_hw == 0 && !quiet && !g_notice_printed) {
        g_notice_printed = 1;
        fprintf(stderr, "probe: hardware counters unavailable (%s); recording wall and CPU time only\n",
                p->hw_reason);
    }
    return p;
}

void mir_probe_free(mir_probe *p) {
    if (!p) return;
    if (p->hw_set != PAPI_NULL) PAPI_stop(p->hw_set, NULL);
    hw_destroy(&p->hw_set);
    for (int i = 0; i < p->n_phases; i++) free(p->phase_names[i]);
    for (int c = 0; c < p->n_counts; c++) free(p->count_names[c]);
    free(p->library);
    free(p);
}

static int phase_ok(const mir_probe *p, int phase) { return p && phase >= 0 && phase < p->n_phases; }

/* Current hardware counter values into v; 0 when they cannot be read. */
static int hw_read(const mir_probe *p, long long *v) {
    return p->n_hw > 0 && PAPI_read(p->hw_set, v) == PAPI_OK;
}

void mir_probe_begin(mir_probe *p, int phase) {
    if (!phase_ok(p, phase) || p->active[phase]) return;
    p->active[phase] = 1;
    if (!hw_read(p, p->hw0[phase])) memset(p->hw0[phase], 0, sizeof p->hw0[phase]);
    p->cpu0[phase] = mir_cpu_seconds();
    p->wall0[phase] = mir_wall_seconds();
}

void mir_probe_end(mir_probe *p, int phase) {
    if (!phase_ok(p, phase) || !p->active[phase]) return;
    double wall = mir_wall_seconds(), cpu = mir_cpu_seconds();
    long long now[MIR_PROBE_MAX_HW];
    if (hw_read(p, now))
        for (int k = 0; k < p->n_hw; k++) p->hw[phase][k] += (int64_t)(now[k] - p->hw0[phase][k]);
    p->wall[phase] += wall - p->wall0[phase];
    p->cpu[phase] += cpu - p->cpu0[phase];
    p->calls[phase]++;
    p->active[phase] = 0;
}

void mir_probe_count_add(mir_probe *p, int counter, int64_t n) {
    if (!p || counter < 0 || counter >= p->n_counts) return;
    p->counts[counter] += n;
    if (p->sde_counters[counter]) papi_sde_inc_counter(p->sde_counters[counter], (long long)n);
}

int mir_probe_hw_available(const mir_probe *p) { return p && p->n_hw > 0; }
const char *mir_probe_hw_reason(const mir_probe *p) { return p ? p->hw_reason : "no probe"; }

double mir_probe_wall(const mir_probe *p, int phase) { return phase_ok(p, phase) ? p->wall[phase] : 0.0; }
double mir_probe_cpu(const mir_probe *p, int phase) { return phase_ok(p, phase) ? p->cpu[phase] : 0.0; }
int64_t mir_probe_calls(const mir_probe *p, int phase) { return phase_ok(p, phase) ? p->calls[phase] : 0; }
int mir_probe_n_hw(const mir_probe *p) { return p ? p->n_hw : 0; }

const char *mir_probe_hw_name(const mir_probe *p, int k) {
    return p && k >= 0 && k < p->n_hw ? hw_presets[p->hw_preset[k]].name : "";
}

int64_t mir_probe_hw_value(const mir_probe *p, int phase, int k) {
    return phase_ok(p, phase) && k >= 0 && k < p->n_hw ? p->hw[phase][k] : 0;
}

int64_t mir_probe_count(const mir_probe *p, int counter) {
    return p && counter >= 0 && counter < p->n_counts ? p->counts[counter] : 0;
}

/* Add, start, read and stop one event in a fresh event set; -1 on any failure. */
static int64_t read_one_event(const char *name) {
    int code, set = PAPI_NULL;
    long long v = -1;
    if (PAPI_event_name_to_code(name, &code) != PAPI_OK) return -1;
    if (PAPI_create_eventset(&set) != PAPI_OK) return -1;
    int ok = PAPI_add_event(set, code) == PAPI_OK && PAPI_start(set) == PAPI_OK;
    if (ok) {
        ok = PAPI_read(set, &v) == PAPI_OK;
        ok = PAPI_stop(set, NULL) == PAPI_OK && ok;
    }
    hw_destroy(&set);
    return ok ? (int64_t)v : -1;
}

int64_t mir_probe_read_sde(const mir_probe *p, int counter) {
    if (!p || counter < 0 || counter >= p->n_counts || !p->sde_counters[counter] || !papi_ready()) return -1;
    char name[PAPI_MAX_STR_LEN * 2];
    snprintf(name, sizeof name, "sde:::%s::%s", p->library, p->count_names[counter]);
    return read_one_event(name);
}

int mir_probe_export(const mir_probe *p, double *buf) {
    if (!p) return 0;
    int n = p->n_phases * (2 + p->n_hw) + p->n_counts;
    if (!buf) return n;
    double *o = buf;
    for (int i = 0; i < p->n_phases; i++) {
        *o++ = p->wall[i];
        *o++ = p->cpu[i];
        for (int k = 0; k < p->n_hw; k++) *o++ = (double)p->hw[i][k];
    }
    for (int c = 0; c < p->n_counts; c++) *o++ = (double)p->counts[c];
    return n;
}

static int max_name_width(char *const *names, int n, int at_least) {
    int w = at_least;
    for (int i = 0; i < n; i++)
        if ((int)strlen(names[i]) > w) w = (int)strlen(names[i]);
    return w;
}

static void print_header(const mir_probe *p, FILE *out, int name_w) {
    fprintf(out, "%-*s %12s %12s %10s", name_w, "phase", "wall s", "cpu s", "calls");
    for (int k = 0; k < p->n_hw; k++) fprintf(out, " %16s", mir_probe_hw_name(p, k));
    fputc('\n', out);
}

/* One table row from the export layout v (wall, cpu, hw...). Calls are always this probe's own. */
static void print_phase(const mir_probe *p, FILE *out, int name_w, int phase, const double *v) {
    fprintf(out, "%-*s %12.6f %12.6f %10lld", name_w, p->phase_names[phase], v[0], v[1],
            (long long)p->calls[phase]);
    for (int k = 0; k < p->n_hw; k++) fprintf(out, " %16.0f", v[2 + k]);
    fputc('\n', out);
}

void mir_probe_print(const mir_probe *p, FILE *out, const char *title, const double *values) {
    if (!p || !out) return;
    double *own = NULL;
    if (!values) {
        own = mir_malloc(sizeof(double) * (size_t)mir_probe_export(p, NULL));
        mir_probe_export(p, own);
        values = own;
    }
    if (title) fprintf(out, "%s\n", title);
    int name_w = max_name_width(p->phase_names, p->n_phases, (int)strlen("phase"));
    print_header(p, out, name_w);
    for (int i = 0; i < p->n_phases; i++) print_phase(p, out, name_w, i, values + i * (2 + p->n_hw));
    const double *counts = values + p->n_phases * (2 + p->n_hw);
    if (p->n_counts > 0) fprintf(out, "counts:\n");
    int count_w = max_name_width(p->count_names, p->n_counts, 0);
    for (int c = 0; c < p->n_counts; c++) fprintf(out, "  %-*s = %.0f\n", count_w, p->count_names[c], counts[c]);
    free(own);
}
