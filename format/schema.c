/* schema.c: the names of the module statuses (see schema.h). */
#include "schema.h"

const char *mir_status_name(int status) {
    switch (status) {
    case MIR_STATUS_OK: return "ok";
    case MIR_STATUS_READ_ERROR: return "read_error";
    case MIR_STATUS_EMPTY: return "empty";
    case MIR_STATUS_PARSE_ERROR: return "parse_error";
    case MIR_STATUS_COMPILE_ERROR: return "compile_error";
    case MIR_STATUS_TOO_LARGE: return "too_large";
    case MIR_STATUS_DUPLICATE: return "duplicate";
    case MIR_STATUS_EXTRACT_ERROR: return "extract_error";
    case MIR_STATUS_CRASHED: return "crashed";
    }
    return "unknown";
}
