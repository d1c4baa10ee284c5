#!/usr/bin/env bash
# Reproduces every figure of BENCHMARKS.md in one go: framing cost (callgrind), the
# criterion wall-time bench, publish throughput through the simulator at 115200 and 921600
# baud, and the firmware size and stack report (QEMU), which it writes into BENCHMARKS.md's
# firmware section. Installs what it needs (valgrind, QEMU, mosquitto, llvm-tools).
# The other sections quote the printed figures by hand.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash bench/callgrind.sh
cargo bench --bench framer </dev/null
for baud in 115200 921600; do
    cargo run --release --example throughput -- --baud "$baud" </dev/null
done
bash scripts/size-report.sh --install --benchmarks --out target/FIRMWARE.md </dev/null
