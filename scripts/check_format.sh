#!/usr/bin/env bash
# The format check the test command runs first: C++/CUDA sources against .clang-format, Python
# against pyproject.toml's [tool.ruff] (formatting, and the lint rules that catch real mistakes:
# unused imports, undefined names, statements run together). Both tools are pinned in
# requirements-test.txt, because formatters change their output between versions and a check
# must give the same answer on every machine. `scripts/check_format.sh --fix` rewrites the files
# in place instead of checking them.
set -euo pipefail
cd "$(dirname "$0")/.."

# The pinned clang-format from PyPI, not whichever one the system has on its PATH.
clang_format="$(python3 -c 'import clang_format, os; print(os.path.join(os.path.dirname(clang_format.__file__), "data", "bin", "clang-format"))')"
mapfile -t cxx_files < <(git ls-files '*.cpp' '*.hpp' '*.h' '*.cu' '*.cuh')

if [ "${1:-}" = "--fix" ]; then
  "$clang_format" -i "${cxx_files[@]}"
  python3 -m ruff format --quiet .
  python3 -m ruff check --quiet --fix .
  exit 0
fi

echo "== format check ($("$clang_format" --version | sed 's/.*version /clang-format /'), $(python3 -m ruff --version))"
"$clang_format" --dry-run --Werror "${cxx_files[@]}"
python3 -m ruff format --check --quiet . || {
  echo "error: Python files above are not formatted; run scripts/check_format.sh --fix" >&2
  exit 1
}
python3 -m ruff check --quiet .
