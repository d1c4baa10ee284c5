#!/usr/bin/env bash
# End-to-end test of the Blue Pill example firmware, emulated:
#
#   firmware (QEMU stm32vldiscovery, USART1)  --TCP-->  at-wifi-sim (ESP-AT)
#       --MQTT-->  mosquitto  <--  mosquitto_sub / mosquitto_pub (this script)
#
# Passes when, in this order,
#   1. the firmware's counter publication reaches an independent subscriber;
#   2. the simulator's path to the broker breaks for a moment (`outage`): the module
#      reconnects by itself and the firmware sees the link come back (its session
#      subscribes again);
#   3. the simulated module reboots (`reboot`), then reboots in the middle of a command
#      (`reboot-next`): each time the firmware brings it up again (restart, Wi-Fi, MQTT,
#      subscription), exactly once per reboot;
#   4. a command this script publishes on the firmware's command topic makes it toggle its
#      LED, which the firmware confirms through semihosting ("E2E PASS", exit status 0).
# E2E_FAULTS=0 skips steps 2 and 3.
#
# Usage: scripts/qemu-e2e.sh [--install]
#   --install   install what is missing first (apt: qemu-system-arm, mosquitto,
#               mosquitto-clients; rustup: thumbv7m-none-eabi)
# Environment:
#   CI=true            a missing component is a failure (otherwise the test is skipped)
#   E2E_TIMEOUT=SECS   wall-clock bound of the emulated run (default 120)
#   E2E_FAULTS=0       no outage and no reboot
#   E2E_OUT=DIR        where logs go (default target/qemu-e2e)
#   AT_WIFI_SIM_BIN=F  an at-wifi-sim binary built before (by `cargo build -p at-wifi-sim`):
#                      used as it is instead of building the simulator here (.ci/run uses
#                      it after it has removed the workspace's build output to save disk)
#
# Every server listens on 127.0.0.1 only, on free ephemeral ports; every process this
# script starts is stopped by its own PID.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
FW_DIR="$ROOT/examples/bluepill"
# Its own target directory, so it does not replace the Blue Pill build.
FW_TARGET="$FW_DIR/target/qemu"
FW_ELF="$FW_TARGET/thumbv7m-none-eabi/release/at-wifi-bluepill"
CLIENT_ID="qemu-bluepill"
TIMEOUT="${E2E_TIMEOUT:-120}"
OUT="${E2E_OUT:-$ROOT/target/qemu-e2e}"
INSTALL=0
for arg in "$@"; do
    case "$arg" in
        --install) INSTALL=1 ;;
        -h | --help)
            sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
            exit 0
            ;;
        *)
            echo "qemu-e2e: unknown argument $arg" >&2
            exit 2
            ;;
    esac
done

log() { printf 'qemu-e2e: %s\n' "$*" >&2; }

if ! command -v cargo >/dev/null 2>&1 && [ -d "${CARGO_HOME:-$HOME/.cargo}/bin" ]; then
    export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
fi

# ---------------------------------------------------------------------------------------
# Components
# ---------------------------------------------------------------------------------------

apt_get() {
    local sudo=()
    [ "$(id -u)" -ne 0 ] && sudo=(sudo)
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get "$@" </dev/null
}

install_missing() {
    local pkgs=()
    command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || pkgs+=(mosquitto)
    command -v mosquitto_sub >/dev/null 2>&1 || pkgs+=(mosquitto-clients)
    if ! command -v qemu-system-arm >/dev/null 2>&1; then
        pkgs+=(qemu-system-arm)
    fi
    if [ "${#pkgs[@]}" -gt 0 ]; then
        log "installing ${pkgs[*]}"
        apt_get update -qq
        local extra=()
        if [[ " ${pkgs[*]} " == *" qemu-system-arm "* ]]; then
            # qemu-system-arm alone would remove a newer qemu-utils some images carry (its
            # qemu-system-common is older): name qemu-utils at qemu-system-arm's version in
            # the same install.
            local v
            v=$(apt-cache policy qemu-system-arm | awk '/Candidate:/ {print $2}')
            extra=(--allow-downgrades "qemu-utils=$v")
        fi
        apt_get install -y -qq --no-install-recommends "${extra[@]}" "${pkgs[@]}"
    fi
    rustup target add thumbv7m-none-eabi </dev/null >/dev/null
}

[ "$INSTALL" -eq 1 ] && install_missing

MOSQUITTO=$(command -v mosquitto || true)
[ -z "$MOSQUITTO" ] && [ -x /usr/sbin/mosquitto ] && MOSQUITTO=/usr/sbin/mosquitto
missing=()
[ -n "$MOSQUITTO" ] || missing+=(mosquitto)
for tool in mosquitto_sub mosquitto_pub qemu-system-arm cargo; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if [ -f "$ROOT/sim/Cargo.toml" ]; then :; else missing+=("sim/ (at-wifi-sim)"); fi
if [ "${#missing[@]}" -gt 0 ]; then
    if [ "${CI:-}" = "true" ]; then
        log "FAIL: missing ${missing[*]} (run with --install)"
        exit 1
    fi
    log "SKIPPED: missing ${missing[*]} (run with --install)"
    exit 0
fi

# ---------------------------------------------------------------------------------------
# Processes and clean-up
# ---------------------------------------------------------------------------------------

mkdir -p "$OUT"
rm -f "$OUT"/*.log "$OUT"/*.txt "$OUT"/*.conf "$OUT"/sim.in
PIDS=()
cleanup() {
    local pid
    exec 7>&- 2>/dev/null || true
    for pid in "${PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${PIDS[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
}
trap cleanup EXIT

free_port() {
    if command -v python3 >/dev/null 2>&1; then
        python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
    else
        local p
        while :; do
            p=$((20000 + RANDOM % 40000))
            ss -Htln "sport = :$p" 2>/dev/null | grep -q . || { echo "$p"; return; }
        done
    fi
}

# wait_port PORT PID WHAT: until something accepts on 127.0.0.1:PORT (or PID died).
wait_port() {
    local _
    for _ in $(seq 1 200); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then
            return 0
        fi
        kill -0 "$2" 2>/dev/null || { log "FAIL: $3 exited"; return 1; }
        sleep 0.05
    done
    log "FAIL: $3 not listening on 127.0.0.1:$1"
    return 1
}

# wait_log PATTERN COUNT WHAT: until the firmware log holds COUNT lines matching PATTERN.
wait_log() {
    while [ "$(grep -c -- "$1" "$OUT/qemu.log" 2>/dev/null || true)" -lt "$2" ]; do
        kill -0 "$QEMU_PID" 2>/dev/null || fail "QEMU exited while waiting for $3"
        [ $((SECONDS - START)) -lt "$TIMEOUT" ] || fail "no $3 within ${TIMEOUT}s"
        sleep 0.1
    done
}

# fault TEXT: injects a fault into the simulator (its standard input).
fault() {
    echo "$1" >&7
    log "injected '$1' into the simulator"
}

fail() {
    log "FAIL: $*"
    for f in "$OUT"/*.log; do
        [ -s "$f" ] || continue
        printf '\n----- %s (last 40 lines) -----\n' "$(basename "$f")" >&2
        tail -n 40 "$f" >&2
    done
    exit 1
}

# ---------------------------------------------------------------------------------------
# Build
# ---------------------------------------------------------------------------------------

log "building the firmware (examples/bluepill, --features qemu)"
(cd "$FW_DIR" && CARGO_TARGET_DIR="$FW_TARGET" cargo build --release --features qemu --quiet) || fail "firmware build"
if [ -n "${AT_WIFI_SIM_BIN:-}" ]; then
    SIM_BIN="$AT_WIFI_SIM_BIN"
    log "simulator: $SIM_BIN (AT_WIFI_SIM_BIN, not rebuilt)"
else
    log "building the simulator (at-wifi-sim)"
    cargo build -p at-wifi-sim --quiet || fail "simulator build"
    SIM_BIN="${CARGO_TARGET_DIR:-$ROOT/target}/debug/at-wifi-sim"
fi
[ -x "$SIM_BIN" ] || fail "no simulator binary at $SIM_BIN"

# ---------------------------------------------------------------------------------------
# Run
# ---------------------------------------------------------------------------------------

BROKER_PORT=$(free_port)
SIM_PORT=$(free_port)
while [ "$SIM_PORT" = "$BROKER_PORT" ]; do SIM_PORT=$(free_port); done

cat >"$OUT/mosquitto.conf" <<EOF
listener $BROKER_PORT 127.0.0.1
allow_anonymous true
persistence false
log_dest stderr
EOF
"$MOSQUITTO" -c "$OUT/mosquitto.conf" >"$OUT/mosquitto.log" 2>&1 &
PIDS+=($!)
wait_port "$BROKER_PORT" "${PIDS[-1]}" mosquitto || fail "broker start"
log "mosquitto on 127.0.0.1:$BROKER_PORT"

# Faults go to the simulator's standard input, through a FIFO this script holds open.
mkfifo "$OUT/sim.in"
"$SIM_BIN" --dialect esp-at --listen "127.0.0.1:$SIM_PORT" --broker "127.0.0.1:$BROKER_PORT" \
    <"$OUT/sim.in" >"$OUT/sim.log" 2>&1 &
PIDS+=($!)
exec 7>"$OUT/sim.in"
wait_port "$SIM_PORT" "${PIDS[-1]}" at-wifi-sim || fail "simulator start"
log "at-wifi-sim (esp-at) on 127.0.0.1:$SIM_PORT"

COUNTER_TOPIC="at-wifi/$CLIENT_ID/counter"
CMD_TOPIC="at-wifi/$CLIENT_ID/cmd"
mosquitto_sub -h 127.0.0.1 -p "$BROKER_PORT" -t "$COUNTER_TOPIC" -C 1 -W "$TIMEOUT" \
    >"$OUT/counter.txt" 2>"$OUT/mosquitto_sub.log" &
SUB_PID=$!
PIDS+=("$SUB_PID")
# Subscribed before the firmware starts: wait until the broker has seen the subscriber.
for _ in $(seq 1 100); do
    grep -q "mosquitto_sub\|New client connected" "$OUT/mosquitto.log" 2>/dev/null && break
    sleep 0.05
done

START=$SECONDS
qemu-system-arm -machine stm32vldiscovery -display none -monitor none \
    -serial "tcp:127.0.0.1:$SIM_PORT,nodelay=on" \
    -semihosting-config enable=on,target=native \
    -kernel "$FW_ELF" >"$OUT/qemu.log" 2>&1 &
QEMU_PID=$!
PIDS+=("$QEMU_PID")
log "QEMU started (firmware log: $OUT/qemu.log)"

# 1. The firmware's publication reaches an independent subscriber.
while kill -0 "$SUB_PID" 2>/dev/null; do
    kill -0 "$QEMU_PID" 2>/dev/null || fail "QEMU exited before the counter arrived"
    [ $((SECONDS - START)) -lt "$TIMEOUT" ] || fail "no counter on $COUNTER_TOPIC within ${TIMEOUT}s"
    sleep 0.1
done
wait "$SUB_PID" || fail "mosquitto_sub got no counter on $COUNTER_TOPIC"
COUNTER=$(head -n 1 "$OUT/counter.txt")
[[ "$COUNTER" =~ ^[0-9]+$ ]] || fail "counter payload is not a number: '$COUNTER'"
log "received $COUNTER_TOPIC = $COUNTER after $((SECONDS - START))s"

EXPECT_BRINGUPS=1
if [ "${E2E_FAULTS:-1}" != 0 ]; then
    # 2. The broker path breaks for 1.5 s; the module reconnects, the session re-subscribes.
    fault "outage 1500"
    wait_log '^MQTT link down' 1 "MQTT link down"
    wait_log '^MQTT link back' 1 "MQTT link back"
    log "the firmware saw the MQTT link drop and come back"
    # 3. The module reboots on its own; the firmware brings it up again.
    fault reboot
    wait_log '^module rebooted' 1 "module reboot"
    wait_log '^online' 2 "second bring-up"
    log "the firmware brought the rebooted module up again"
    # The module reboots in the middle of the next command (a publication): the command
    # fails with a reset and the same reboot is also queued as an event; the firmware
    # must bring the module up once, not twice.
    fault reboot-next
    wait_log '^online' 3 "third bring-up"
    log "the firmware brought the module up again after a reboot during a command"
    EXPECT_BRINGUPS=3
fi

# 4. A command the firmware must act on.
mosquitto_pub -h 127.0.0.1 -p "$BROKER_PORT" -t "$CMD_TOPIC" -m toggle -q 1 \
    2>"$OUT/mosquitto_pub.log" || fail "mosquitto_pub"
log "published 'toggle' on $CMD_TOPIC"

while kill -0 "$QEMU_PID" 2>/dev/null; do
    [ $((SECONDS - START)) -lt "$TIMEOUT" ] || fail "the firmware did not finish within ${TIMEOUT}s"
    sleep 0.1
done
status=0
wait "$QEMU_PID" || status=$?
[ "$status" -eq 0 ] || fail "the firmware exited with status $status"
grep -q '^E2E PASS' "$OUT/qemu.log" || fail "no E2E PASS line from the firmware"
bringups=$(grep -c '^bring-up #' "$OUT/qemu.log" || true)
[ "$bringups" -eq "$EXPECT_BRINGUPS" ] ||
    fail "$bringups bring-ups, expected $EXPECT_BRINGUPS (one per reboot)"
grep -q '^LED on' "$OUT/qemu.log" || fail "the firmware did not report 'LED on'"
grep '^E2E PASS\|^MEMORY' "$OUT/qemu.log" >&2
log "PASS in $((SECONDS - START))s"
echo "qemu-e2e: 1 passed, 0 failed"
