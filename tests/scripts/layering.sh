#!/usr/bin/env bash
# The house's arrows (docs/design.md), read from the sources' #include lines (a second):
#  - infer/ and analysis/ include no header of train/ (they reach the corpus and the model file through format/);
#  - format/ includes no header of train/, infer/ or analysis/, and of preprocess/ only wordpiece.h (the
#    vocabulary a model file and a corpus hold);
#  - model/ includes nothing from the stages, and of format/ only schema.h;
#  - common/ includes nothing from the other folders.
set -euo pipefail
SRC=${MIR_SOURCE_DIR:?}
bad=0
# forbid FROM TO [ALLOWED...]: no source of FROM/ includes a header of TO/ other than the ALLOWED ones
forbid() {
  local from=$1 to=$2 h hits
  shift 2
  for h in "$SRC/$to"/*.h; do
    h=$(basename "$h")
    [[ " $* " == *" $h "* ]] && continue
    hits=$(grep -Hn "^[[:space:]]*#[[:space:]]*include[[:space:]]*\"$h\"" "$SRC/$from"/*.[ch] 2>/dev/null || true)
    if [[ -n $hits ]]; then
      echo "FAIL: $from/ includes $to/$h:"
      sed "s|^$SRC/||; s|^|  |" <<<"$hits"
      bad=1
    fi
  done
}
forbid infer train
forbid analysis train
for to in train infer analysis; do forbid format "$to"; done
forbid format preprocess wordpiece.h
for to in preprocess train infer analysis; do forbid model "$to"; done
forbid model format schema.h
for to in format preprocess model train infer analysis; do forbid common "$to"; done
((bad == 0)) || exit 1
echo "layering: PASSED (infer/ and analysis/ include nothing from train/; format/, model/, common/ as docs/design.md draws)"
