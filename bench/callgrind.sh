#!/usr/bin/env bash
# Reproduces every figure of the framing-cost part of BENCHMARKS.md in one run:
#   1. installs valgrind if it is missing (apt);
#   2. builds the harness (bench/icount, its own package: fat LTO, one codegen unit) and
#      checks that the framer and atat frame the generated traffic exactly, at every read
#      size and stream size;
#   3. runs every configuration under callgrind, counting only the receive path (function
#      `icount_measure`; generating the traffic is not counted);
#   4. prints the machine, the tables, the ratios, the verdict against each aim and a
#      wall-time table (all also written to target/bench-callgrind/report.md).
# Usage: bash bench/callgrind.sh        (about 3 minutes on an idle 2-core machine)
# Env:   JOBS (parallel runs, default nproc), OUT (default target/bench-callgrind).
set -euo pipefail
cd "$(dirname "$0")/.."
START=$SECONDS
OUT=${OUT:-target/bench-callgrind}
JOBS=${JOBS:-$(nproc)}
TOTAL=1M # every configuration frames the same 1 MiB, cut into streams of SIZE bytes

if ! command -v valgrind >/dev/null 2>&1; then
    sudo=()
    if [ "$(id -u)" -ne 0 ]; then sudo=(sudo); fi
    "${sudo[@]}" apt-get update </dev/null
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y --no-install-recommends valgrind </dev/null
fi

echo "==> building bench/icount (release: fat LTO, one codegen unit)"
export CARGO_TARGET_DIR="$PWD/target/bench-icount"
cargo build --release --manifest-path bench/icount/Cargo.toml </dev/null
BIN="$CARGO_TARGET_DIR/release/icount"

rm -rf "$OUT"
mkdir -p "$OUT"

echo "==> checking that every path frames the generated traffic exactly"
if ! "$BIN" check 64K >"$OUT/check.log" 2>&1; then
    grep -v ': ok$' "$OUT/check.log" >&2
    exit 1
fi
echo "    $(grep -c ': ok$' "$OUT/check.log") configurations framed exactly"

# One configuration per line: IMP KIND READ SIZE TOTAL. The slowest (atat, 1-byte reads)
# first, so that the parallel runs end together.
configs() {
    for size in 1M 64K 1K; do echo "atat compat 1 $size $TOTAL"; done
    for kind in msg1k msg64; do echo "atat $kind 1 64K 64K"; done
    for read in 16 64 1024; do
        for size in 1K 64K 1M; do echo "atat compat $read $size $TOTAL"; done
    done
    for imp in framer copy; do
        for kind in full compat; do
            for read in 1 16 64 1024; do
                for size in 1K 64K 1M; do echo "$imp $kind $read $size $TOTAL"; done
            done
        done
    done
    # Client level: the framer behind `Client::read_chunk`'s batched reads, its floor, and
    # the real driver (`Client::poll`) over the same reads.
    for imp in client client-copy driver; do
        for kind in full compat; do
            for read in 1 16 64 1024; do echo "$imp $kind $read 64K $TOTAL"; done
        done
    done
    # Rescanning test: frames of one length only (64 KiB of each is enough).
    for imp in framer atat copy; do
        for kind in msg64 msg1k; do
            for read in 1 1024; do
                if [ "$imp $read" != "atat 1" ]; then echo "$imp $kind $read 64K 64K"; fi
            done
        done
    done
}

run_one() {
    local name="$1-$2-r$3-s$4"
    if ! valgrind --tool=callgrind --collect-atstart=no --toggle-collect=icount_measure \
        --callgrind-out-file="$OUT/$name.out" \
        "$BIN" measure "$1" "$2" "$3" "$4" "$5" >"$OUT/$name.log" 2>"$OUT/$name.err"; then
        echo "FAILED: $name" >&2
        tail -20 "$OUT/$name.err" >&2
        exit 255
    fi
}
export -f run_one
export BIN OUT

N=$(configs | wc -l)
echo "==> $N configurations under callgrind, $JOBS at a time"
configs | xargs -P "$JOBS" -L 1 bash -c 'run_one "$@"' _

{
    echo "# Instruction counts ($(date -u '+%Y-%m-%d'))"
    echo
    echo "- machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(uname -m)"
    echo "- $(rustc -V), $(valgrind --version); release profile (opt-level 3), fat LTO, one codegen unit"
    echo "- command: bash bench/callgrind.sh ($N configurations)"
    echo
    "$BIN" report "$OUT"
    echo
    "$BIN" wall
} | tee "$OUT/report.md"
echo
echo "==> done in $((SECONDS - START)) s; report in $OUT/report.md"
