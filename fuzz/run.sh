#!/usr/bin/env bash
# Fuzzes every target of at-wifi for FUZZ_SECONDS seconds each (default 60), starting
# from the committed seeds, and prints the executions per target.
#
#   bash fuzz/run.sh                 # every target, 60 s each
#   FUZZ_SECONDS=600 bash fuzz/run.sh client
#
# Needs a nightly toolchain (`rustup toolchain install nightly`); installs cargo-fuzz
# when `cargo +nightly fuzz --version` fails. The corpus grows in fuzz/corpus/<target>
# (ignored by git); crashes and timeouts land in fuzz/artifacts/<target>/ and make the
# script exit non-zero after every target has run. Reproduce one with
#   cargo +nightly fuzz run <target> fuzz/artifacts/<target>/<file>
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"

SECONDS_PER_TARGET="${FUZZ_SECONDS:-60}"
TARGETS=("$@")
if [ "${#TARGETS[@]}" -eq 0 ]; then
    TARGETS=(framer client urc_parse)
fi

if ! command -v cargo >/dev/null 2>&1 && [ -d "${CARGO_HOME:-$HOME/.cargo}/bin" ]; then
    export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
fi

if ! cargo +nightly --version >/dev/null 2>&1; then
    echo "fuzz/run.sh: no nightly toolchain; installing it" >&2
    rustup toolchain install nightly --profile minimal </dev/null
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
    echo "fuzz/run.sh: installing cargo-fuzz" >&2
    cargo +nightly install cargo-fuzz --locked </dev/null
fi
cargo +nightly fuzz --version

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"

for t in "${TARGETS[@]}"; do
    cargo +nightly fuzz build "$t" </dev/null
done

mkdir -p logs
failed=()
summary=()
for t in "${TARGETS[@]}"; do
    mkdir -p "corpus/$t" "artifacts/$t"
    log="logs/$t.log"
    echo "==> fuzzing $t for ${SECONDS_PER_TARGET}s (log: fuzz/$log)"
    set +e
    cargo +nightly fuzz run "$t" "corpus/$t" "seeds/$t" -- \
        -max_total_time="$SECONDS_PER_TARGET" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 </dev/null >"$log" 2>&1
    rc=$?
    set -e
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -n 1)
    if [ -z "$execs" ]; then
        execs=$(grep -o '^#[0-9]*[[:space:]]*DONE' "$log" | grep -o '[0-9]*' | tail -n 1)
    fi
    rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -n 1)
    cov=$(grep -o '^#[0-9]*[[:space:]]*\(DONE\|pulse\|NEW\|REDUCE\)[[:space:]]*cov: [0-9]*' "$log" |
        tail -n 1 | grep -o 'cov: [0-9]*' | grep -o '[0-9]*')
    corpus=$(find "corpus/$t" -type f | wc -l)
    line="$t: ${execs:-?} executions (${rate:-?}/s), coverage ${cov:-?} edges, corpus $corpus files, exit $rc"
    echo "$line"
    summary+=("$line")
    if [ "$rc" -ne 0 ]; then
        failed+=("$t")
        grep -m 5 -E 'panicked|ERROR: libFuzzer|SUMMARY|Test unit written' "$log" || true
    fi
done

echo
echo "==> summary (${SECONDS_PER_TARGET}s per target)"
printf '%s\n' "${summary[@]}"
if [ "${#failed[@]}" -ne 0 ]; then
    echo "failed: ${failed[*]} (see fuzz/logs/ and fuzz/artifacts/)" >&2
    exit 1
fi
