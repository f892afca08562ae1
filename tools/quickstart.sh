#!/usr/bin/env bash
# The README's first quick-start command: set up the environment, then train the example detector
# (SSDLite + EdgeNeXt-XXS, the model family of configs/edgenext/ssdlite_edgenext_s_coco.py, at
# 256x256 for 100 epochs of 6 iterations: configs/toy/toy_ssdlite_edgenext_xxs_coco.py) on the
# generated toy COCO
# set on CPU, evaluate it with the real COCO metric and draw its predictions.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PY=${PYTHON:-python3}
bash tools/setup_env.sh
CONFIG=${CONFIG:-configs/toy/toy_ssdlite_edgenext_xxs_coco.py}
NAME=$(basename "$CONFIG" .py)
WORK_DIR=work_dirs/$NAME
# a rerun continues (or, when finished, just re-evaluates) the run in $WORK_DIR: tools/train.py
# refuses to start a new run over another run's checkpoints
RESUME=()
if [ -f "$WORK_DIR/last_checkpoint" ]; then RESUME=(--resume); fi
"$PY" tools/train.py "$CONFIG" --work-dir "$WORK_DIR" ${RESUME[@]+"${RESUME[@]}"}
CKPT=$(ls -t "$WORK_DIR"/epoch_*.pth | head -1)
"$PY" tools/test.py "$CONFIG" "$CKPT" --work-dir "$WORK_DIR" --show-dir "$WORK_DIR/vis"
echo
echo "[quickstart] checkpoint: $CKPT"
echo "[quickstart] metrics:    $WORK_DIR/metrics.json"
echo "[quickstart] drawings:   $WORK_DIR/vis"
