#!/usr/bin/env bash
# Reproduces every figure of BENCHMARKS.md in one go: framing cost (callgrind), publish
# throughput through the simulator at 115200 and 921600 baud, and the firmware size and
# stack report (QEMU). Installs what it needs (valgrind, QEMU, mosquitto, llvm-tools).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash bench/callgrind.sh
for baud in 115200 921600; do
    cargo run --release --example throughput -- --baud "$baud" </dev/null
done
bash scripts/size-report.sh --install --out target/FIRMWARE.md </dev/null
cat target/FIRMWARE.md
