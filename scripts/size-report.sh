#!/usr/bin/env bash
# Firmware size and memory report of the example firmwares.
#
# Builds examples/bluepill (release and dev profiles) and examples/nrf52840 (release),
# measures flash and static RAM with llvm-size, the driver's share of flash from symbol
# sizes (llvm-nm), and the Blue Pill application's peak stack under QEMU (the `qemu`
# build paints its stack, runs the whole end-to-end flow of scripts/qemu-e2e.sh and
# reports the deepest word used). Writes the `## Firmware size and memory` section to
# target/FIRMWARE.md (or the file given with --out) and prints it; with --benchmarks it
# also puts that section in place of BENCHMARKS.md's own (from its `## Firmware size and
# memory` heading to the next `## ` heading).
#
# Usage: scripts/size-report.sh [--install] [--out FILE] [--no-stack] [--benchmarks]
#   --install     install what is missing (rustup: targets, llvm-tools; and what
#                 scripts/qemu-e2e.sh --install installs)
#   --no-stack    skip the QEMU run (peak stack reported as not measured)
#   --benchmarks  write the section into BENCHMARKS.md too
# With CI=true a missing component is a failure, and so is a Blue Pill build over the
# issue #6 budget (flash under 32 KiB, static RAM + peak stack under 6 KiB).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
OUT_FILE="$ROOT/target/FIRMWARE.md"
INSTALL=0
STACK=1
BENCHMARKS=0
while [ $# -gt 0 ]; do
    case "$1" in
        --install) INSTALL=1 ;;
        --no-stack) STACK=0 ;;
        --benchmarks) BENCHMARKS=1 ;;
        --out)
            OUT_FILE="$2"
            shift
            ;;
        -h | --help)
            sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
            exit 0
            ;;
        *)
            echo "size-report: unknown argument $1" >&2
            exit 2
            ;;
    esac
    shift
done

log() { printf 'size-report: %s\n' "$*" >&2; }
die() {
    log "FAIL: $*"
    exit 1
}

if ! command -v cargo >/dev/null 2>&1 && [ -d "${CARGO_HOME:-$HOME/.cargo}/bin" ]; then
    export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
fi

if [ "$INSTALL" -eq 1 ]; then
    rustup target add thumbv7m-none-eabi thumbv7em-none-eabihf </dev/null >/dev/null
    rustup component add llvm-tools </dev/null >/dev/null 2>&1 ||
        rustup component add llvm-tools-preview </dev/null >/dev/null
fi

LLVM_BIN="$(rustc --print sysroot)/lib/rustlib/$(rustc -vV | awk '/^host:/ {print $2}')/bin"
SIZE="$LLVM_BIN/llvm-size"
NM="$LLVM_BIN/llvm-nm"
if [ ! -x "$SIZE" ] || [ ! -x "$NM" ]; then
    die "llvm-size / llvm-nm missing: rustup component add llvm-tools (or --install)"
fi

BP="$ROOT/examples/bluepill"
NRF="$ROOT/examples/nrf52840"
BP_ELF="$BP/target/thumbv7m-none-eabi/release/at-wifi-bluepill"
BP_DEV_ELF="$BP/target/thumbv7m-none-eabi/debug/at-wifi-bluepill"
NRF_ELF="$NRF/target/thumbv7em-none-eabihf/release/at-wifi-nrf52840"

log "building examples/bluepill (release, dev) and examples/nrf52840 (release)"
(cd "$BP" && export CARGO_TARGET_DIR="$BP/target" &&
    cargo build --release --quiet && cargo build --quiet) || die "bluepill build"
(cd "$NRF" && CARGO_TARGET_DIR="$NRF/target" cargo build --release --quiet) || die "nrf52840 build"

# section_sum ELF SECTION... : summed sizes of the named sections.
section_sum() {
    local elf=$1
    shift
    "$SIZE" -A "$elf" | awk -v want=" $* " '
        index(want, " " $1 " ") { s += $2 } END { print s + 0 }'
}
flash_of() { section_sum "$1" .vector_table .text .rodata .data; }
ram_of() { section_sum "$1" .data .bss .uninit; }

# shares ELF : "driver atat app board hal core_builtins other total" bytes of code and
# read-only data by symbol owner.
shares() {
    "$NM" --size-sort -S -C --radix=d "$1" | awk '
        $3 ~ /^[tTrR]$/ {
            name = $4; for (i = 5; i <= NF; i++) name = name " " $i
            size = $2 + 0
            if (name ~ /at_wifi_firmware_app/) c = "app"
            else if (name ~ /at_wifi_bluepill|at_wifi_nrf52840|__cortex_m_rt_|^(USART1|UARTE0_UART0|RTC0|SysTick)$/) c = "board"
            else if (name ~ /at_wifi::/) c = "driver"
            else if (name ~ /serde_at|atat|serde_core|heapless/) c = "atat"
            else if (name ~ /stm32f1xx_hal|nrf_hal_common|stm32f1::|nrf52840_pac|cortex_m/) c = "hal"
            else if (name ~ /^core::|compiler_builtins|__aeabi|^_?mem(cpy|set|move|cmp)/) c = "core"
            else c = "other"
            s[c] += size; total += size
        }
        END {
            printf "%d %d %d %d %d %d %d %d\n", s["driver"], s["atat"], s["app"], s["board"], s["hal"], s["core"], s["other"], total
        }'
}

# stack_bound ELF : "MAIN_BYTES HANDLER_BYTES PATH" — the deepest call chain from the
# entry point and from the deepest interrupt handler, by static analysis of the
# disassembly: each function's frame is its pushes plus its `sub sp`; calls are `bl`/`b`
# to named functions; recursion and indirect calls are not followed.
stack_bound() {
    command -v python3 >/dev/null 2>&1 || { echo "- - -"; return; }
    "$LLVM_BIN/llvm-objdump" -d --no-show-raw-insn "$1" | python3 -c '
import re, sys, functools
fns, cur = {}, None
for line in sys.stdin:
    m = re.match(r"^[0-9a-f]+ <(.*)>:$", line)
    if m:
        cur = m.group(1); fns[cur] = [0, set()]; continue
    if cur is None: continue
    m = re.search(r"\tv?push(?:\.w)?\s+\{([^}]*)\}", line)
    if m:
        regs = m.group(1).split(",")
        fns[cur][0] += sum(8 if r.strip().startswith("d") else 4 for r in regs)
    m = re.search(r"\bsub(?:\.w)?\s+sp, (?:sp, )?#(0x[0-9a-f]+|\d+)", line)
    if m: fns[cur][0] += int(m.group(1), 0)
    m = re.search(r"\tbl?(?:\.w)?\s+0x[0-9a-f]+ <([^>+]*)>", line)
    if m and m.group(1) != cur: fns[cur][1].add(m.group(1))
sys.setrecursionlimit(100000)
def depth(f, seen=frozenset()):
    if f not in fns or f in seen: return 0
    return fns[f][0] + max([depth(c, seen | {f}) for c in fns[f][1]] + [0])
mains = [f for f in fns if "__cortex_m_rt_main" in f and "trampoline" not in f]
handlers = [f for f in fns if f in ("USART1", "SysTick", "RTC0", "UARTE0_UART0")]
m = max([depth(f) for f in mains] + [0])
h = max([depth(f) for f in handlers] + [0])
print(m, h)
'
}

kib() { awk -v b="$1" 'BEGIN { printf "%.1f KiB", b / 1024 }'; }
pct() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.0f%%", 100 * a / b }'; }

BP_FLASH=$(flash_of "$BP_ELF")
BP_RAM=$(ram_of "$BP_ELF")
BP_DEV_FLASH=$(flash_of "$BP_DEV_ELF")
BP_DEV_RAM=$(ram_of "$BP_DEV_ELF")
NRF_FLASH=$(flash_of "$NRF_ELF")
NRF_RAM=$(ram_of "$NRF_ELF")
read -r BP_SB_MAIN BP_SB_IRQ < <(stack_bound "$BP_ELF")
read -r NRF_SB_MAIN NRF_SB_IRQ < <(stack_bound "$NRF_ELF")
read -r BP_DRV BP_ATAT BP_APP BP_BOARD BP_HAL BP_CORE BP_OTHER BP_SYMS < <(shares "$BP_ELF")
read -r NRF_DRV NRF_ATAT NRF_APP NRF_BOARD NRF_HAL NRF_CORE NRF_OTHER NRF_SYMS < <(shares "$NRF_ELF")

# Peak stack, measured under QEMU.
STACK_LINE=""
E2E_RESULT="not run (--no-stack)"
if [ "$STACK" -eq 1 ]; then
    e2e_args=()
    [ "$INSTALL" -eq 1 ] && e2e_args+=(--install)
    log "running scripts/qemu-e2e.sh to measure the peak stack"
    if E2E_OUT="$ROOT/target/size-report-e2e" bash "$ROOT/scripts/qemu-e2e.sh" "${e2e_args[@]}"; then
        STACK_LINE=$(grep '^MEMORY ' "$ROOT/target/size-report-e2e/qemu.log" 2>/dev/null || true)
        if [ -n "$STACK_LINE" ]; then
            E2E_RESULT="passed"
        else
            E2E_RESULT="skipped (a component is missing)"
        fi
    else
        E2E_RESULT="FAILED"
        [ "${CI:-}" = "true" ] && die "the QEMU run failed"
    fi
fi
QEMU_ELF="$BP/target/qemu/thumbv7m-none-eabi/release/at-wifi-bluepill"
if [ -n "$STACK_LINE" ]; then
    Q_STATIC=$(sed -n 's/.*static_ram=\([0-9]*\).*/\1/p' <<<"$STACK_LINE")
    Q_PEAK=$(sed -n 's/.*stack_peak=\([0-9]*\).*/\1/p' <<<"$STACK_LINE")
    SIZES_LINE=$(grep '^SIZES ' "$ROOT/target/size-report-e2e/qemu.log" || true)
    S_CLIENT=$(sed -n 's/.*client=\([0-9]*\).*/\1/p' <<<"$SIZES_LINE")
    S_SESSION=$(sed -n 's/.*session=\([0-9]*\).*/\1/p' <<<"$SIZES_LINE")
    S_APP=$(sed -n 's/.*app=\([0-9]*\).*/\1/p' <<<"$SIZES_LINE")
    Q_FLASH=$(flash_of "$QEMU_ELF")
    Q_TOTAL=$((Q_STATIC + Q_PEAK))
fi

# The buffer sizes, as the application defines them.
APP_SRC="$ROOT/examples/firmware-app/src/lib.rs"
size_const() { sed -n "s/^pub const $1: usize = \([0-9_]*\);.*/\1/p" "$APP_SRC" | tr -d _; }

BP_LIMIT=$((64 * 1024))
BP_RAM_LIMIT=$((20 * 1024))
{
    echo "## Firmware size and memory (Blue Pill and nRF52840 examples)"
    echo
    echo "Two example firmwares run the same application (\`examples/firmware-app\`: Wi-Fi join,"
    echo "MQTT session, a counter published every 5 s, LED commands, recovery) over the driver"
    echo "with the buffer sizes of \`examples/firmware-app/src/lib.rs\` (client \`RX\` $(size_const RX),"
    echo "\`RESP\` $(size_const RESP), \`TX\` $(size_const TX), \`EV\` $(size_const EV); session \`BUF\` $(size_const BUF), \`STASH\` $(size_const STASH); interrupt-fed"
    echo "receive buffer $(size_const RX_BUFFER)). Profiles: \`opt-level = \"z\"\`, LTO, one codegen unit,"
    echo "\`panic = \"abort\"\`, for release and dev alike. $(rustc --version | cut -d' ' -f1-2)."
    echo
    echo "| firmware | flash | static RAM | fits |"
    echo "|---|---:|---:|---|"
    echo "| Blue Pill (STM32F103C8, thumbv7m), release | $BP_FLASH B ($(kib "$BP_FLASH")) | $BP_RAM B | $(pct "$BP_FLASH" $BP_LIMIT) of 64 KiB flash, $(pct "$BP_RAM" $BP_RAM_LIMIT) of 20 KiB RAM |"
    echo "| Blue Pill, dev profile | $BP_DEV_FLASH B ($(kib "$BP_DEV_FLASH")) | $BP_DEV_RAM B | $(pct "$BP_DEV_FLASH" $BP_LIMIT) of 64 KiB flash |"
    echo "| nRF52840-DK (thumbv7em-none-eabihf), release | $NRF_FLASH B ($(kib "$NRF_FLASH")) | $NRF_RAM B | $(pct "$NRF_FLASH" $((1024 * 1024))) of 1 MiB flash |"
    if [ -n "$STACK_LINE" ]; then
        echo "| Blue Pill, QEMU build (semihosting log, HSI clock) | $Q_FLASH B ($(kib "$Q_FLASH")) | $Q_STATIC B | 8 KiB RAM of stm32vldiscovery |"
    fi
    echo
    verdict() { if [ "$1" -lt "$2" ]; then echo "PASS"; else echo "FAIL"; fi; }
    echo "**Issue #6 budget** (Blue Pill release): flash under 32 KiB: $BP_FLASH B of 32768"
    echo "($((32768 - BP_FLASH)) B to spare), $(verdict "$BP_FLASH" 32768)."
    if [ -n "$STACK_LINE" ]; then
        echo "Static RAM + peak stack under 6 KiB: $Q_TOTAL B of 6144 ($((6144 - Q_TOTAL)) B to spare),"
        echo "$(verdict "$Q_TOTAL" 6144)."
    fi
    echo
    echo "Flash is \`.vector_table\` + \`.text\` + \`.rodata\` + \`.data\` (its initial values are"
    echo "stored in flash); static RAM is \`.data\` + \`.bss\` + \`.uninit\`, from \`llvm-size -A\`."
    echo "The client and the MQTT session are locals of \`main\`, so they are on the stack,"
    echo "not in static RAM: the peak stack below includes them."
    echo
    echo "**Peak stack** (Blue Pill application, QEMU build, end-to-end run: $E2E_RESULT):"
    echo
    if [ -n "$STACK_LINE" ]; then
        echo "| static RAM | peak stack | static + peak | QEMU RAM | Blue Pill RAM left |"
        echo "|---:|---:|---:|---:|---:|"
        echo "| $Q_STATIC B | $Q_PEAK B | $Q_TOTAL B ($(kib "$Q_TOTAL")) | 8192 B | $((BP_RAM_LIMIT - Q_TOTAL)) B of 20 KiB |"
        echo
        echo "Of the peak, $S_CLIENT B are the client (\`Client\` with the sizes above), $S_SESSION B the MQTT"
        echo "session (\`Mqtt\` with \`SUBS\` = $(size_const SUBS): each remembered subscription holds a"
        echo "topic of up to 128 bytes) and $S_APP B the application state, all"
        echo "in \`main\`'s frame; the rest is call frames, deepest in \`Mqtt::connect\` and"
        echo "\`Mqtt::recover\` (the \`AT+MQTTCONN\` line is built in a 320-byte stack buffer)."
        echo
    else
        echo "not measured."
        echo
    fi
    echo "**Static bound** (every path, including recovery paths the run did not take):"
    echo "the deepest call chain in the disassembly, each function's frame being its pushes"
    echo "and its \`sub sp\` (recursion and indirect calls not followed). Blue Pill: $BP_SB_MAIN B"
    echo "from \`main\` plus $BP_SB_IRQ B for the deepest interrupt handler and 32 B of exception"
    echo "frame, so $((BP_SB_MAIN + BP_SB_IRQ + 32)) B + $BP_RAM B static = $((BP_SB_MAIN + BP_SB_IRQ + 32 + BP_RAM)) B of the 20 KiB. nRF52840:"
    echo "$NRF_SB_MAIN B from \`main\` plus $NRF_SB_IRQ B (handler) and up to 104 B (exception frame"
    echo "with FPU state)."
    echo
    echo "Method: the \`qemu\` feature turns on cortex-m-rt's \`paint-stack\`, which fills the"
    echo "whole stack area (\`_stack_end\` to \`_stack_start\`) with \`0xCCCC_CCCC\` before \`main\`."
    echo "The firmware then runs the complete flow of \`scripts/qemu-e2e.sh\` against the"
    echo "simulator and a broker (bring-up with module restart, Wi-Fi join, MQTT configure,"
    echo "connect, subscribe; publications; an MQTT outage with the module's reconnection and"
    echo "the re-subscription; two module reboots, one in the middle of a command, each with a"
    echo "new bring-up; a command received and acted on) and, before exiting,"
    echo "scans up from \`_stack_end\` for the first word that lost the paint; the distance to"
    echo "the top of RAM is the deepest the stack went (semihosting prints included). The"
    echo "QEMU build differs from the Blue Pill one only in its clock set-up, its semihosting"
    echo "log and its exit; the application and driver code are the same. The peak varies by"
    echo "some tens of bytes between runs, with the order in which replies and events meet."
    echo
    echo "**Driver share of flash** (symbol sizes, \`llvm-nm --size-sort -S -C\`):"
    echo
    echo "| owner | Blue Pill | nRF52840 |"
    echo "|---|---:|---:|"
    echo "| driver (\`at_wifi::\`) | $BP_DRV B ($(pct "$BP_DRV" "$BP_SYMS")) | $NRF_DRV B ($(pct "$NRF_DRV" "$NRF_SYMS")) |"
    echo "| atat / serde_at / heapless code instantiated for it | $BP_ATAT B | $NRF_ATAT B |"
    echo "| application (\`at_wifi_firmware_app\`, with the driver code inlined into it) | $BP_APP B | $NRF_APP B |"
    echo "| board (\`main\`, interrupt handlers) | $BP_BOARD B | $NRF_BOARD B |"
    echo "| HAL, PAC, cortex-m | $BP_HAL B | $NRF_HAL B |"
    echo "| core, compiler builtins (memcpy, …) | $BP_CORE B | $NRF_CORE B |"
    echo "| other | $BP_OTHER B | $NRF_OTHER B |"
    echo "| all symbols | $BP_SYMS B | $NRF_SYMS B |"
    echo
    echo "LTO inlines part of the driver into its callers, where symbol sizes cannot tell it"
    echo "from the application: the driver row is a lower bound, driver + atat + application"
    echo "an upper bound of what the driver costs. The production builds print nothing"
    echo "and format nothing (no \`core::fmt\` on their paths: errors are passed as values)."
    echo
    echo "Reproduce (installs the targets, llvm-tools, QEMU and mosquitto when missing;"
    echo "\`--benchmarks\` writes this section into BENCHMARKS.md):"
    echo
    echo '```sh'
    echo "scripts/size-report.sh --install --benchmarks"
    echo '```'
} >"$OUT_FILE.tmp"
mv "$OUT_FILE.tmp" "$OUT_FILE"
cat "$OUT_FILE"
log "wrote $OUT_FILE"

if [ "$BENCHMARKS" -eq 1 ]; then
    # The section from its heading to the next `## ` heading is replaced; the rest of the
    # file is kept as it is. A file without the heading gets the section at its end.
    BENCH_MD="$ROOT/BENCHMARKS.md"
    [ -f "$BENCH_MD" ] || die "$BENCH_MD missing"
    awk -v section="$OUT_FILE" '
        function put() { while ((getline l < section) > 0) print l; close(section); done = 1 }
        /^## Firmware size and memory/ { if (!done) { put(); print "" }; skip = 1; next }
        skip && /^## / { skip = 0 }
        !skip { print }
        END { if (!done) { print ""; put() } }
    ' "$BENCH_MD" >"$BENCH_MD.tmp"
    mv "$BENCH_MD.tmp" "$BENCH_MD"
    log "wrote the firmware section of $BENCH_MD"
fi

# The issue #6 budget guards against regressions: in CI, over budget is a failure.
if [ "${CI:-}" = "true" ]; then
    [ "$BP_FLASH" -lt 32768 ] || die "Blue Pill release flash $BP_FLASH B is not under 32 KiB"
    if [ -n "$STACK_LINE" ]; then
        [ "$Q_TOTAL" -lt 6144 ] || die "static RAM + peak stack $Q_TOTAL B is not under 6 KiB"
    fi
fi
