/* report.c: the writers of the analysis tasks' outputs (report.h). */
#include "report.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analysis.h"
#include "paired.h"
#include "probe.h"

/* ---------------- files ---------------- */

FILE *mir_report_open(const char *dir, const char *name, const char *mode, mir_error *err) {
    char path[4400];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, mode);
    if (!f) mir_fail(err, "%s: cannot write", path);
    return f;
}

int mir_report_close(FILE *f, const char *dir, const char *name, mir_error *err) {
    int bad = ferror(f);
    if (fclose(f) || bad) return mir_fail(err, "%s/%s: write error", dir, name);
    return 0;
}

void mir_machine_string(char *out, size_t cap) {
    char model[256] = "unknown CPU";
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f) {
        char line[512];
        while (fgets(line, sizeof line, f))
            if (!strncmp(line, "model name", 10)) {
                char *c = strchr(line, ':');
                if (c) {
                    c++;
                    while (*c == ' ') c++;
                    c[strcspn(c, "\n")] = '\0';
                    snprintf(model, sizeof model, "%s", c);
                }
                break;
            }
        fclose(f);
    }
    snprintf(out, cap, "%s, %ld CPUs online", model, sysconf(_SC_NPROCESSORS_ONLN));
}

/* ---------------- summary.md ---------------- */

void mir_md_title(FILE *f, const char *title, const char *command_line) {
    fprintf(f, "# %s\n\n", title);
    if (command_line) fprintf(f, "Command: `%s`  \n", command_line);
}

void mir_md_table_head(FILE *f, int n_left, const char *fmt, ...) {
    char head[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(head, sizeof head, fmt, ap);
    va_end(ap);
    int cols = -1; /* a row "| a | b |" has one bar more than cells */
    for (const char *c = head; *c; c++) cols += *c == '|';
    fprintf(f, "%s\n|", head);
    for (int i = 0; i < cols; i++) fprintf(f, "%s|", i < n_left ? "---" : "---:");
    fprintf(f, "\n");
}

void mir_md_label(FILE *f, const char *label, int bold) {
    fprintf(f, "| %s%s%s |", bold ? "**" : "", label, bold ? "**" : "");
}

void mir_md_pm(FILE *f, double mean, double sd, int n, const char *fmt) {
    if (isnan(mean)) {
        fprintf(f, " — |");
        return;
    }
    fprintf(f, " ");
    fprintf(f, fmt, mean);
    if (n > 1) {
        fprintf(f, " ± ");
        fprintf(f, fmt, sd);
    }
    fprintf(f, " |");
}

void mir_paired_md(FILE *f, const char *what, const mir_paired *p, const char *units) {
    fprintf(f, "- %s: mean difference of log speedup %+.4f [%+.4f, %+.4f] (95 %% paired t interval over %d %s): "
               "**%s**; geometric-mean ratio %.3f.\n", what, p->diff, p->lo, p->hi, p->n, units, p->verdict,
            exp(p->diff));
}

void mir_report_cost(const char *dir, mir_probe *p, MPI_Comm comm, const char *const *phases, int n_phases,
                     const char *const *items, const double *n_items, const char *fmt, ...) {
    int rank;
    MPI_Comm_rank(comm, &rank);
    FILE *f = NULL;
    if (rank == 0) {
        mir_error e = {{0}};
        f = mir_report_open(dir, "summary.md", "a", &e);
        if (f) fprintf(f, "\n## Cost (PAPI probe, common/probe.h)\n\n");
    }
    mir_probe_markdown(p, comm, f, phases, n_phases, items, n_items);
    if (f) {
        va_list ap;
        va_start(ap, fmt);
        vfprintf(f, fmt, ap);
        va_end(ap);
        fclose(f);
    }
}

void mir_probe_markdown(mir_probe *p, MPI_Comm comm, FILE *f, const char *const *phase_names, int n_phases,
                        const char *const *items, const double *n_items) {
    int rank;
    MPI_Comm_rank(comm, &rank);
    int n = mir_probe_export(p, NULL), nmin = 0, nmax = 0;
    MPI_Allreduce(&n, &nmin, 1, MPI_INT, MPI_MIN, comm);
    MPI_Allreduce(&n, &nmax, 1, MPI_INT, MPI_MAX, comm);
    double *v = mir_calloc((size_t)nmax, sizeof *v);
    mir_probe_export(p, v);
    int64_t *calls = mir_calloc((size_t)n_phases, sizeof *calls);
    for (int i = 0; i < n_phases; i++) calls[i] = mir_probe_calls(p, i);
    int summed = nmin == nmax;
    if (summed) {
        MPI_Reduce(rank ? v : MPI_IN_PLACE, v, nmax, MPI_DOUBLE, MPI_SUM, 0, comm);
        MPI_Reduce(rank ? calls : MPI_IN_PLACE, calls, n_phases, MPI_INT64_T, MPI_SUM, 0, comm);
    }
    if (rank == 0 && f) {
        int nhw = mir_probe_n_hw(p), stride = 2 + nhw, size;
        MPI_Comm_size(comm, &size);
        fprintf(f, "| phase | wall s | CPU s | calls | per item |");
        for (int k = 0; k < nhw; k++) fprintf(f, " %s |", mir_probe_hw_name(p, k));
        if (nhw) fprintf(f, " IPC |");
        fprintf(f, "\n|---|---:|---:|---:|---|");
        for (int k = 0; k < nhw + (nhw ? 1 : 0); k++) fprintf(f, "---:|");
        fprintf(f, "\n");
        for (int i = 0; i < n_phases; i++) {
            const double *r = v + (size_t)i * stride;
            fprintf(f, "| %s | %.3f | %.3f | %lld |", phase_names[i], r[0], r[1], (long long)calls[i]);
            if (items && items[i] && n_items && n_items[i] > 0)
                fprintf(f, " %.3g ms per %s (%.0f) |", 1e3 * r[0] / n_items[i], items[i], n_items[i]);
            else
                fprintf(f, " |");
            int cyc = -1, ins = -1;
            for (int k = 0; k < nhw; k++) {
                fprintf(f, " %.3g |", r[2 + k]);
                if (!strcmp(mir_probe_hw_name(p, k), "PAPI_TOT_CYC")) cyc = k;
                if (!strcmp(mir_probe_hw_name(p, k), "PAPI_TOT_INS")) ins = k;
            }
            if (nhw) {
                if (cyc >= 0 && ins >= 0 && r[2 + cyc] > 0) fprintf(f, " %.2f |", r[2 + ins] / r[2 + cyc]);
                else fprintf(f, " |");
            }
            fprintf(f, "\n");
        }
        fprintf(f, "\nWall and CPU time %s over %d rank(s).", summed ? "summed" : "of rank 0 only", size);
        if (!mir_probe_hw_available(p))
            fprintf(f, " Hardware counters: not available on this machine (%s); wall and CPU time only.\n",
                    mir_probe_hw_reason(p));
        else
            fprintf(f, " Hardware counters from PAPI's perf_event component, summed over the ranks.\n");
    }
    free(calls);
    free(v);
}

/* ---------------- summary.json ---------------- */

static void json_string(FILE *f, const char *s) {
    fputc('"', f);
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        switch (*c) {
        case '"': fputs("\\\"", f); break;
        case '\\': fputs("\\\\", f); break;
        case '\n': fputs("\\n", f); break;
        case '\r': fputs("\\r", f); break;
        case '\t': fputs("\\t", f); break;
        case '\b': fputs("\\b", f); break;
        case '\f': fputs("\\f", f); break;
        default:
            if (*c < 0x20) fprintf(f, "\\u%04x", *c);
            else fputc(*c, f);
        }
    }
    fputc('"', f);
}

/* The separator before a member of the innermost object, then "KEY": */
static void json_key(mir_json *j, const char *key) {
    const int d = j->depth - 1;
    if (j->n[d]++) fputc(',', j->f);
    if (j->lines[d]) fprintf(j->f, "\n%*s", 2 * j->depth, "");
    else if (j->n[d] > 1) fputc(' ', j->f);
    json_string(j->f, key);
    fputs(": ", j->f);
}

static void json_open(mir_json *j, int lines) {
    fputc('{', j->f);
    j->n[j->depth] = 0;
    j->lines[j->depth] = lines;
    j->depth++;
}

int mir_json_open(mir_json *j, const char *dir, const char *name, int lines, mir_error *err) {
    memset(j, 0, sizeof *j);
    j->f = mir_report_open(dir, name, "w", err);
    if (!j->f) return -1;
    json_open(j, lines);
    return 0;
}

void mir_json_object(mir_json *j, const char *key, int lines) {
    json_key(j, key);
    json_open(j, lines);
}

void mir_json_close(mir_json *j) {
    j->depth--;
    if (j->lines[j->depth]) fprintf(j->f, "\n%*s", 2 * j->depth, "");
    fputc('}', j->f);
}

int mir_json_finish(mir_json *j, const char *dir, const char *name, mir_error *err) {
    while (j->depth > 0) mir_json_close(j);
    fputc('\n', j->f);
    return mir_report_close(j->f, dir, name, err);
}

void mir_json_num(mir_json *j, const char *key, double v) {
    json_key(j, key);
    if (isfinite(v)) fprintf(j->f, "%.6g", v);
    else fputs("null", j->f);
}

void mir_json_int(mir_json *j, const char *key, long long v) {
    json_key(j, key);
    fprintf(j->f, "%lld", v);
}

void mir_json_str(mir_json *j, const char *key, const char *s) {
    json_key(j, key);
    json_string(j->f, s ? s : "");
}

void mir_json_paired(mir_json *j, const char *key, const mir_paired *p) {
    mir_json_object(j, key, 0);
    mir_json_num(j, "diff", p->diff);
    mir_json_num(j, "lo", p->lo);
    mir_json_num(j, "hi", p->hi);
    mir_json_int(j, "n", p->n);
    mir_json_str(j, "verdict", p->verdict);
    mir_json_close(j);
}

/* ---------------- CSV ---------------- */

FILE *mir_csv_open(const char *dir, const char *name, const char *header, mir_error *err) {
    FILE *f = mir_report_open(dir, name, "w", err);
    if (f) fprintf(f, "%s\n", header);
    return f;
}

void mir_csv_metric(FILE *f, const char *keys, const char *metric, double mean, double sd, int seeds) {
    fprintf(f, "%s,%s,%.6g,%.6g,%d\n", keys, metric, mean, sd, seeds);
}

void mir_csv_value(FILE *f, const char *keys, const char *metric, double value, int seeds) {
    fprintf(f, "%s,%s,%.6g,,%d\n", keys, metric, value, seeds);
}

/* ---------------- plots ---------------- */

int mir_plot_write(const char *dir, const mir_plot *p, mir_error *err) {
    char name[256];
    snprintf(name, sizeof name, "%s.gp", p->stem);
    FILE *f = mir_report_open(dir, name, "w", err);
    if (!f) return -1;
    fprintf(f, "set terminal pngcairo size %d,520 font 'sans,10'\nset output '%s.png'\nset title '%s'\n", p->width,
            p->stem, p->title);
    fprintf(f, "set style data histogram\nset style histogram %s\nset style fill solid 0.85 border -1\n"
               "set key below\nset grid ytics\n", p->errorbars ? "errorbars gap 1 lw 1" : "clustered gap 1");
    if (p->xtics) fprintf(f, "set xtics %s\n", p->xtics);
    fprintf(f, "set ylabel '%s'\nset yrange %s\nplot %s\n", p->ylabel, p->yrange, p->plot);
    fclose(f);
    mir_run_gnuplot(dir, name);
    return 0;
}
