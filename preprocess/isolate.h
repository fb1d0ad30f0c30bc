/*
 * isolate.h: parsing and extraction of untrusted IR, in a supervised worker (worker.h) or in-process.
 *
 * mir_extract_bytes is the one entry point of mir-preprocess's per-module work (and of the analyses'
 * feature extraction): with a worker, the child parses the bytes with LLVM-C, extracts tokens and graph
 * (irmodule.h) and sends the extraction back serialised; without one (--no-isolation, for trusted input)
 * the same happens in the calling process. The extraction is the same, bit for bit, either way.
 */
#ifndef MIR_ISOLATE_H
#define MIR_ISOLATE_H

#include "irmodule.h"
#include "worker.h"

/* Serialise an extraction (words, graph, counts) and read it back; unpack checks every length. */
void mir_extract_pack(const mir_extract *x, mir_wbuf *b);
int mir_extract_unpack(mir_rbuf *r, mir_extract *x, mir_error *err);

/* The worker job behind mir_extract_bytes: arg points to the mir_extract_options the worker extracts with
 * (irmodule.h; read by the child, so they must live as long as the worker). */
int mir_extract_job(void *arg, const char *name, const char *data, size_t bytes, mir_wbuf *reply, int *status,
                    mir_error *err);

/* Parse and extract IR held in data (data[bytes] == '\0'): in w's child, or here when w is NULL.
 * Returns 0, or -1 with *status MIR_STATUS_PARSE_ERROR, _EXTRACT_ERROR or _CRASHED (schema.h) and err
 * naming the module. xo (NULL: the whole module, no separators) says how (mir_extract_module_opts); with a
 * worker, it must hold the options the worker was created with. The probe (may be NULL) times phase_parse and
 * the extraction's phases in-process; with a worker, the whole call counts as phase_parse (the child's own
 * timings stay in the child). */
int mir_extract_bytes(mir_worker *w, const char *name, const char *data, size_t bytes,
                      const mir_extract_options *xo, mir_extract *x, const mir_extract_probe *probe, int phase_parse,
                      int *status, mir_error *err);

/* The same with the worker pipelined (worker.h): submit a module's bytes (copied), then collect the oldest
 * submitted module's extraction into x; name is that module's (the one collected). Several may be submitted
 * before the first collect: MIR_WORKER_DEPTH keeps the child busy while the caller unpacks a reply. */
void mir_extract_submit(mir_worker *w, const char *name, const char *data, size_t bytes);
int mir_extract_collect(mir_worker *w, const char *name, mir_extract *x, const mir_extract_probe *probe,
                        int phase_parse, int *status, mir_error *err);

#endif
