#!/usr/bin/env bash
# Clang's thread-safety analysis (-Wthread-safety) over every source file that
# takes an annotated lock (core/thread_annotations.h): a member read or written
# without the mutex its GUARDED_BY names, or a REQUIRES function called without
# it, fails the check. GCC builds sluice and ignores the annotations, so this
# runs clang in syntax-only mode (no code is generated; about a second a file).
set -euo pipefail
cd "$(dirname "$0")/.."
CLANG="${CLANG:-$(command -v clang++ || command -v clang++-14)}"
mapfile -t files < <(git ls-files 'src/*.cc' | xargs grep -l -E 'MutexLock|AssertHeld|CondVar|GUARDED_BY' || true)
if ((${#files[@]} == 0)); then
  echo "thread-safety: no annotated files"
  exit 0
fi
echo "thread-safety: ${#files[@]} file(s) with $("$CLANG" --version | head -1)"
printf '%s\n' "${files[@]}" | xargs -P "$(nproc)" -I{} \
  "$CLANG" -std=c++20 -Isrc -fsyntax-only -Wno-everything -Wthread-safety -Werror {}
echo "thread-safety: ok"
