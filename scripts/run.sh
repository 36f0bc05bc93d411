#!/usr/bin/env bash
# Set up everything sohoa needs on Debian bookworm (as root), then run a task:
#   bash scripts/run.sh serve   install, then start `sohoa serve` on the embedded default
#   bash scripts/run.sh test    install, then lint and run the whole test suite
#   bash scripts/run.sh setup   install only
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  python3 python3-venv              # the interpreter and venv for .venv/
  tesseract-ocr tesseract-ocr-vie   # OCR engine and its Vietnamese model
  tesseract-ocr-osd tesseract-ocr-eng
  poppler-utils                     # pdftoppm (PDF input) and pdftotext (checks)
  qpdf                              # PDF structure checks in tests
  fonts-dejavu-core fonts-liberation2  # Vietnamese-capable fonts for generated test pages
  redis-server postgresql           # real broker and database for the distributed tests
  rabbitmq-server                   # the other broker Celery may use (SOHOA_BROKER_URL=amqp://…)
  ghostscript softhsm2              # PDF/A cross-check and a PKCS#11 token for signing tests
  chromium                          # headless browser for the counter-page tests (Playwright)
)

install_system() {
  local missing=()
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "sohoa: installing Debian packages: ${missing[*]}" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
}

install_python() {
  [ -x .venv/bin/python ] || python3 -m venv .venv
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e '.[test]'
}

task=${1:-setup}
install_system
install_python
case "$task" in
  setup) ;;
  serve) shift; exec .venv/bin/sohoa serve "$@" ;;
  test)
    shift
    .venv/bin/ruff check .
    .venv/bin/ruff format --check .
    exec .venv/bin/python -m pytest "$@"
    ;;
  *) echo "usage: bash scripts/run.sh [setup|serve|test]" >&2; exit 2 ;;
esac
