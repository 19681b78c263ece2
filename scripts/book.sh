#!/usr/bin/env bash
# Builds the lessons as an HTML book (Sphinx + myst-nb): every notebook of notebooks/ executed,
# the docs/*.md pages beside them, then checks that every internal link resolves.
#
#   scripts/book.sh                  full mode (the lessons' real sizes), into build/book/html
#   scripts/book.sh --quick          MLCORE_QUICK=1: the small sizes the tests use
#   scripts/book.sh --executed DIR   render notebooks already executed into DIR (no execution)
#   scripts/book.sh --out DIR        build into DIR/html (staging in DIR/src)
#   scripts/book.sh --export         also write every figure as PNG into notebooks/figures/
#
# A cell error or any Sphinx warning fails the build. Python is $PYTHON (default python3), which
# must import mlcore (installed, or PYTHONPATH=build/dev/python) and have requirements-test.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
python="${PYTHON:-python3}"
out=build/book
executed=""
export_figures=0
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) export MLCORE_QUICK=1 ;;
    --executed) executed="$2"; shift ;;
    --out) out="$2"; shift ;;
    --export) export_figures=1 ;;
    *) echo "book.sh: unknown option $1 (see the header of $0)" >&2; exit 2 ;;
  esac
  shift
done

src="$out/src"
rm -rf "$src" "$out/html" "$out/jupyter_execute"
mkdir -p "$src/notebooks" "$src/docs"
cp book/conf.py book/index.md "$src/"
cp docs/*.md "$src/docs/"
if [ -n "$executed" ]; then
  for nb in notebooks/*.ipynb; do
    [ -f "$executed/$(basename "$nb")" ] || { echo "book.sh: $executed lacks $(basename "$nb")" >&2; exit 1; }
    cp "$executed/$(basename "$nb")" "$src/notebooks/"
  done
  export MLCORE_BOOK_EXECUTE=off
else
  cp notebooks/*.ipynb "$src/notebooks/"
  export MLCORE_BOOK_EXECUTE=force
fi

echo "== book: sphinx-build ($([ -n "$executed" ] && echo "pre-executed notebooks" || echo "executing notebooks${MLCORE_QUICK:+, quick mode}"))"
"$python" -m sphinx -b html -W --keep-going -q "$src" "$out/html"
"$python" scripts/check_book_links.py "$out/html"
if [ "$export_figures" = 1 ]; then
  "$python" scripts/export_figures.py "$out/jupyter_execute" notebooks/figures
fi
echo "== book: $out/html/index.html"
