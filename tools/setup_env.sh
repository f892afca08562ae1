#!/usr/bin/env bash
# Set up a working mmedge environment on a CPU machine (Python 3.11) from nothing.
#
#   bash tools/setup_env.sh            # install the pinned stack + mmedge (editable)
#
# Idempotent: when every pinned package is already importable at the pinned version it only
# (re)installs mmedge itself, which takes seconds.  Users who bring their own torch / mmcv
# (for instance on a GPU machine) can skip this script and run `pip install -e .` directly.
#
# Why each pin (see README "Known pins"):
#   torch===2.13.0        three '=' select the standard build (CUDA libs, runs on CPU): the '+cpu' wheel
#                         this machine's pip prefers cannot import torchvision.
#   torchvision==0.28.0   the release that matches torch 2.13 (mmpretrain needs it).
#   setuptools>=77,<81    torch 2.13 wants >=77; mmcv's build and mmdet's `mmdet::` base configs need
#                         pkg_resources, removed in 81.
#   mmcv==2.1.0           newest mmcv accepted by mmdet 3.3.0 / mmseg 1.2.2; no wheels on PyPI, so it is
#                         built from the sdist with its compiled ops (8-18 min once, then pip's cache).
#   mmengine==0.10.7, mmdet==3.3.0, mmsegmentation==1.2.2, mmpretrain==1.2.0: the matching releases.
#   openmim==0.3.9        `mim train / test / search mmedge`; installed with --no-deps: it requires
#                         opendatalab -> openxlab, whose pin downgrades setuptools to 60. What mim
#                         imports (model-index, pandas, click, colorama, rich, tabulate, requests)
#                         is installed beside it.
set -euo pipefail

PY=${PYTHON:-python3}
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PIP=("$PY" -m pip install --disable-pip-version-check)
CONSTRAINTS="$ROOT/tools/constraints.txt"

have_stack() {
  "$PY" - <<'PYEOF' 2>/dev/null
import importlib.metadata as md
want = {'torch': '2.13.0', 'torchvision': '0.28.0', 'mmengine': '0.10.7', 'mmcv': '2.1.0',
        'mmdet': '3.3.0', 'mmsegmentation': '1.2.2', 'mmpretrain': '1.2.0'}
for name, ver in want.items():
    if md.version(name).split('+')[0] != ver:
        raise SystemExit(1)
import setuptools, pkg_resources  # noqa: F401  (pkg_resources must exist)
major = int(setuptools.__version__.split('.')[0])
assert 77 <= major < 81
import torch, torchvision, mmcv.ops, mmdet, mmseg, mmpretrain, pycocotools, ftfy, regex  # noqa
PYEOF
}

if have_stack; then
  echo "[setup_env] pinned stack already present"
else
  echo "[setup_env] installing the pinned stack (first time: mmcv compiles for 8-18 minutes)"
  "${PIP[@]}" "setuptools>=77,<81" wheel ninja psutil
  "${PIP[@]}" -c "$CONSTRAINTS" "torch===2.13.0" "torchvision==0.28.0"
  "${PIP[@]}" -c "$CONSTRAINTS" "mmengine==0.10.7" opencv-python-headless
  if ! "$PY" -c "import mmcv.ops" 2>/dev/null || \
     [ "$("$PY" -c 'import mmcv; print(mmcv.__version__)' 2>/dev/null)" != "2.1.0" ]; then
    MMCV_WITH_OPS=1 MAX_JOBS="${MAX_JOBS:-$(nproc)}" \
      "${PIP[@]}" -c "$CONSTRAINTS" --no-build-isolation "mmcv==2.1.0"
  fi
  "${PIP[@]}" -c "$CONSTRAINTS" "mmdet==3.3.0" "mmsegmentation==1.2.2" "mmpretrain==1.2.0" \
      pycocotools ftfy regex
fi

# mmedge itself (editable) with the test / deploy extras; --no-deps keeps the pins above intact.
"${PIP[@]}" -c "$CONSTRAINTS" -q --no-build-isolation --no-deps -e "$ROOT"
"${PIP[@]}" -c "$CONSTRAINTS" -q "pytest>=7" onnx onnxruntime fvcore "timm>=1.0"
"${PIP[@]}" -c "$CONSTRAINTS" -q --no-deps "openmim==0.3.9"
"${PIP[@]}" -c "$CONSTRAINTS" -q model-index pandas click colorama rich tabulate requests
"$PY" -c "import mmedge, torch, mmcv, mmdet, mmseg, mmpretrain; \
print('[setup_env] ok: mmedge', mmedge.__version__, '| torch', torch.__version__, '| mmcv', mmcv.__version__, \
'| mmdet', mmdet.__version__, '| mmseg', mmseg.__version__, '| mmpretrain', mmpretrain.__version__)"
