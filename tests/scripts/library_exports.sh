#!/usr/bin/env bash
# libmirencoder.so exports exactly the C API (issue 18): the dynamic symbols it defines are the functions
# declared in include/mir/mir.h, no more (an internal function a consumer could come to depend on) and no
# fewer (a declared function a consumer could not link). The header's declarations are read with its
# comments and preprocessor lines removed: every `mir_NAME (` left is a function. infer/mirencoder.map
# (the linker's version script) is the list that makes it so.
set -euo pipefail
LIB=${MIR_LIBRARY:?}
HDR=${MIR_HEADER:?}
NM=${MIR_NM:-nm}
fail() { echo "FAIL: library_exports: $*"; exit 1; }
[[ -f $LIB ]] || fail "$LIB missing"
[[ -f $HDR ]] || fail "$HDR missing"
declared=$(perl -0777 -ne 's{/\*.*?\*/}{ }gs; s{//[^\n]*}{}g; s{^[ \t]*#[^\n]*}{}gm;
                           print "$1\n" while /\b(mir_\w+)\s*\(/g' "$HDR" | sort -u)
[[ -n $declared ]] || fail "no function declarations found in $HDR"
# defined dynamic symbols, without their version suffix (NAME@@MIRENCODER_0); type A is the version node itself
exported=$("$NM" -D --defined-only "$LIB" | awk '$2 != "A" { sub(/@.*/, "", $3); print $3 }' | sort -u) ||
    fail "$NM -D $LIB failed"
extra=$(comm -13 <(echo "$declared") <(echo "$exported"))
missing=$(comm -23 <(echo "$declared") <(echo "$exported"))
n_decl=$(wc -l <<<"$declared")
n_exp=$(grep -c . <<<"$exported" || true)
if [[ -n $extra || -n $missing ]]; then
    [[ -z $extra ]] || echo "exported but not declared in $(basename "$HDR") ($(wc -l <<<"$extra")):" $extra
    [[ -z $missing ]] || echo "declared in $(basename "$HDR") but not exported ($(wc -l <<<"$missing")):" $missing
    fail "$(basename "$LIB") exports $n_exp symbols, $(basename "$HDR") declares $n_decl functions"
fi
echo "library_exports: PASSED ($(basename "$LIB") exports the $n_decl functions of $(basename "$HDR"):" $declared")"
