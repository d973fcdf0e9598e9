#!/usr/bin/env bash
# Fails when a C++/CUDA file in the repository (tracked, or new and not ignored) differs from
# clang-format's output for the committed .clang-format. Fix with: clang-format -i <files>.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v clang-format >/dev/null 2>&1; then
  echo "check_format: clang-format not found (bash tools/install_deps.sh installs it)" >&2
  exit 1
fi

files=()
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  while IFS= read -r -d '' file; do
    [[ -f "$file" ]] && files+=("$file")
  done < <(git ls-files -z --cached --others --exclude-standard -- \
    '*.h' '*.hpp' '*.cpp' '*.cc' '*.cu' '*.cuh')
else
  while IFS= read -r -d '' file; do
    files+=("$file")
  done < <(find . -path './build*' -prune -o -path './.git' -prune -o -type f \
    \( -name '*.h' -o -name '*.hpp' -o -name '*.cpp' -o -name '*.cc' -o -name '*.cu' \
    -o -name '*.cuh' \) -print0)
fi

if ((${#files[@]} == 0)); then
  echo "check_format: no C++/CUDA files found"
  exit 0
fi

if clang-format --dry-run -Werror "${files[@]}"; then
  echo "check_format: ${#files[@]} files formatted ($(clang-format --version | head -n 1))"
else
  echo "check_format: the files above are not clang-format clean; run clang-format -i on them" >&2
  exit 1
fi
