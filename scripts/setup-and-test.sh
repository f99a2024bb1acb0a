#!/usr/bin/env bash
# Command 2 of the README (and CI): set everything up, start Redis and PostgreSQL, run the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
source scripts/services.sh
export INTAKE_TEST_DATABASE_URL="${INTAKE_TEST_DATABASE_URL:-postgresql+psycopg://postgres${PGPASSWORD:+:$PGPASSWORD}@127.0.0.1:5432/intake_test}"
export INTAKE_TEST_REDIS_URL="${INTAKE_TEST_REDIS_URL:-redis://127.0.0.1:6379/15}"
export OMP_THREAD_LIMIT=1
export INTAKE_TEST_DERANDOMIZE="${INTAKE_TEST_DERANDOMIZE:-1}"
# Two workers (pytest-xdist), a test file each at a time: the suite is mostly tesseract, one core
# each; INTAKE_TEST_WORKERS=0 runs it in one process.
.venv/bin/python -m pytest -q -p no:cacheprovider -n "${INTAKE_TEST_WORKERS:-2}" --dist loadfile "$@"
