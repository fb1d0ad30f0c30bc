/* xgbtry.h: XGB_TRY(call) for functions with `int rc`, `mir_error *err` and a `done:` label: a failing XGBoost
 * C API call sets rc with XGBoost's own message and jumps to done. (Include <xgboost/c_api.h> first.) */
#ifndef MIR_XGBTRY_H
#define MIR_XGBTRY_H
#define XGB_TRY(call)                                                        \
    do {                                                                     \
        if ((call) != 0) {                                                   \
            rc = mir_fail(err, "xgboost: %s: %s", #call, XGBGetLastError()); \
            goto done;                                                       \
        }                                                                    \
    } while (0)
#endif
