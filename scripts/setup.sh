#!/usr/bin/env bash
# Install everything intake needs on a Debian machine (as root), idempotently:
# system packages (tesseract with fra/eng data, poppler, OCR-B font, Redis, PostgreSQL, Chromium for the
# browser tests), then the virtualenv in .venv with the package and its test extras.
set -euo pipefail
cd "$(dirname "$0")/.."

SYSTEM_PACKAGES=(
  tesseract-ocr tesseract-ocr-fra tesseract-ocr-eng tesseract-ocr-osd poppler-utils
  fonts-ocr-b fonts-dejavu-core fonts-liberation
  python3 python3-venv python3-dev
  redis-server postgresql
  chromium
  git ca-certificates
)
missing=()
for pkg in "${SYSTEM_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip >/dev/null 2>&1 || true
.venv/bin/python -m pip install -q --disable-pip-version-check -e ".[test]" 2>&1 | grep -v -E "^(WARNING|  )" || true
# Bytecode compiled now, not at the first `intake check` (an editable install has none of its own).
.venv/bin/python -m compileall -q -j 0 intake models fixtures bench >/dev/null || true
.venv/bin/python -c "import intake, cv2, pytesseract, dramatiq, sqlalchemy" || { echo "setup: the virtualenv is broken" >&2; exit 1; }
echo "setup: ready (.venv/bin/intake)" >&2
