#!/usr/bin/env bash
# The test suite, exactly as CI runs it:   bash tools/run_tests.sh [pytest args]
# Tests that compare against the authors' reference fixtures read them from $MMEDGE_REFERENCE_DIR
# (default: ../shared/reference beside the checkout, when present); without it they are skipped
# with a reason and everything else still runs.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
if [ -z "${MMEDGE_REFERENCE_DIR:-}" ] && [ -d "$ROOT/../shared/reference" ]; then
  export MMEDGE_REFERENCE_DIR="$(cd "$ROOT/../shared/reference" && pwd)"
fi
echo "[run_tests] MMEDGE_REFERENCE_DIR=${MMEDGE_REFERENCE_DIR:-<unset: reference tests skip>}"
PY=${PYTHON:-python3}
"$PY" -m pytest tests -q -p no:cacheprovider "$@"
rc=$?
if [ $rc -eq 5 ]; then
  echo "[run_tests] pytest collected no tests: failing" >&2
fi
exit $rc
