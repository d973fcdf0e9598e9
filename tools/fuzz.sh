#!/usr/bin/env bash
# Fuzzes every parser of user files (the targets in tests/fuzz/): builds them as libFuzzer binaries
# with clang, AddressSanitizer and UBSan (GLIMPSE_FUZZ=ON, its own build folder), then runs each in
# turn, on one core, for SECONDS (default 60), and prints per target the executions per second and
# the number of inputs tried. Exits 1 when any target crashes, leaks, hangs or runs out of memory;
# the inputs that did it are kept in the artifact folder it names.
#
# Usage: tools/fuzz.sh [SECONDS] [TARGET...]     e.g. tools/fuzz.sh 30 npy splat_ply
# Environment:
#   GLIMPSE_FUZZ_BUILD_DIR  build folder (default build-fuzz/ in the repository, git-ignored)
#   GLIMPSE_FUZZ_JOBS       parallel build jobs (default: all cores)
#   GLIMPSE_FUZZ_LOG_DIR    one libFuzzer log per target (default <build>/fuzz-logs)
#   GLIMPSE_FUZZ_ARTIFACTS  crash, leak, timeout and OOM inputs (default <build>/fuzz-artifacts)
# Inputs that reach new code are kept between runs in <build>/fuzz-corpus/<target>/; the committed
# seeds (tests/fuzz/corpus/<target>/) are only read. A crash input, once minimised
# (<exe> -minimize_crash=1 -runs=100000 <input>), belongs in the seeds together with its fix.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
seconds=${1:-60}
shift || true
if ! [[ $seconds =~ ^[0-9]+$ ]] || ((seconds < 1)); then
  echo "usage: tools/fuzz.sh [SECONDS] [TARGET...]" >&2
  exit 2
fi
build=${GLIMPSE_FUZZ_BUILD_DIR:-$root/build-fuzz}
jobs=${GLIMPSE_FUZZ_JOBS:-$(nproc)}
logs=${GLIMPSE_FUZZ_LOG_DIR:-$build/fuzz-logs}
artifacts=${GLIMPSE_FUZZ_ARTIFACTS:-$build/fuzz-artifacts}

# [SECTION] clang and libFuzzer, installed like tools/install_deps.sh when missing ----------------
bash "$root/tools/install_deps.sh" clang libclang-rt-dev cmake ninja-build
probe=$(mktemp -d)
trap 'rm -rf "$probe"' EXIT
echo 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }' \
  >"$probe/probe.cpp"
if ! clang++ -fsanitize=fuzzer,address,undefined "$probe/probe.cpp" -o "$probe/probe" 2>"$probe/err"; then
  echo "fuzz: clang++ cannot link a libFuzzer program:" >&2
  cat "$probe/err" >&2
  exit 1
fi

# [SECTION] build -------------------------------------------------------------------------------
echo "fuzz: building the targets in $build ($jobs jobs)"
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGLIMPSE_WITH_CUDA=OFF -DGLIMPSE_FUZZ=ON >/dev/null
nice cmake --build "$build" --target glimpse_fuzz_targets -j "$jobs"

targets=("$@")
if ((${#targets[@]} == 0)); then
  for source in "$root"/tests/fuzz/*_fuzz.cpp; do
    name=$(basename "$source")
    targets+=("${name%_fuzz.cpp}")
  done
fi
for t in "${targets[@]}"; do
  if [[ ! -x $build/tests/fuzz/fuzz_$t ]]; then
    echo "fuzz: no target '$t' (tests/fuzz/${t}_fuzz.cpp)" >&2
    exit 2
  fi
done

# [SECTION] run ---------------------------------------------------------------------------------
mkdir -p "$logs" "$artifacts"
generated=$build/tests/fuzz/generated_corpus
"$build/tests/fuzz/fuzz_checkpoint_seeds" "$generated/checkpoint" >/dev/null

# Limits: one input may not allocate more than 512 MiB at once nor grow the process past 2 GiB
# (the seeds are kilobytes: a bigger allocation comes from an unchecked size field), nor take
# more than 10 s.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
echo "fuzz: ${#targets[@]} targets, ${seconds} s each, one at a time; logs in $logs"
failed=()
summary=()
for t in "${targets[@]}"; do
  exe=$build/tests/fuzz/fuzz_$t
  work=$build/fuzz-corpus/$t
  mkdir -p "$work"
  corpora=("$work" "$root/tests/fuzz/corpus/$t")
  [[ -d $generated/$t ]] && corpora+=("$generated/$t")
  log=$logs/$t.log
  start=$(date +%s)
  rc=0
  nice -n 10 "$exe" -max_total_time="$seconds" -print_final_stats=1 -timeout=10 \
    -rss_limit_mb=2048 -malloc_limit_mb=512 -artifact_prefix="$artifacts/$t-" \
    "${corpora[@]}" >"$log" 2>&1 || rc=$?
  elapsed=$(($(date +%s) - start))
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2 || true)
  status=ok
  if ((rc != 0)); then
    status="FAILED (exit $rc)"
    failed+=("$t")
  fi
  line=$(printf '%-16s %-16s %9s exec/s %11s runs  cov %6s  rss %5s MB  %4d s' "$t" "$status" \
    "${speed:-?}" "${runs:-?}" "${cov:-?}" "${rss:-?}" "$elapsed")
  echo "$line"
  summary+=("$line")
  if ((rc != 0)); then
    grep -m3 -E '^==[0-9]+==ERROR|^SUMMARY|runtime error|terminate called|what\(\)|ALARM|out-of-memory|Test unit written' \
      "$log" | sed 's/^/    /' || true
  fi
done

echo
echo "fuzz: summary (${seconds} s per target)"
printf '%s\n' "${summary[@]}"
if ((${#failed[@]} > 0)); then
  echo "fuzz: FAILED: ${failed[*]}; inputs in $artifacts, logs in $logs" >&2
  exit 1
fi
echo "fuzz: no crashes"
