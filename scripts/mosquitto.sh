#!/usr/bin/env bash
# A throwaway mosquitto broker on 127.0.0.1 for the end-to-end tests (tests/e2e_mqtt.rs).
#
#   eval "$(bash scripts/mosquitto.sh start)"    # exports AT_WIFI_BROKER=127.0.0.1:PORT
#   cargo test --test e2e_mqtt                   # the tests use that broker (and FAIL if
#                                                # it is set but unreachable)
#   bash scripts/mosquitto.sh stop               # kills the broker by its own PID
#
# start: installs mosquitto if missing (apt-get update once, then apt-get install -y
#   --no-install-recommends mosquitto mosquitto-clients; sudo when not root), writes a
#   configuration in a temporary directory (listener PORT 127.0.0.1, allow_anonymous
#   true, persistence false), picks a free port, starts mosquitto in the background,
#   records the broker's own PID (mosquitto is exec'd, no wrapper shell in between),
#   waits until the port accepts connections (at most 10 s), and prints
#   `export AT_WIFI_BROKER=127.0.0.1:PORT` on standard output (everything else goes to
#   standard error). Starting while a broker of this script runs is an error.
# stop: kills that PID (SIGTERM, then SIGKILL after 5 s), and removes the directory.
#   Nothing running is not an error.
#
# Note: mosquitto publishes the last will of every client still connected when it shuts
# down. Stop it only after the tests finished; a broker restart is not how the tests cut a
# module's link (they use the simulator's relay, `Sim::broker_drop`).
#
# Environment: MOSQUITTO_STATE_DIR — where the PID file and the state directory's path
# are kept (default: target/mosquitto under the repository root).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STATE_DIR="${MOSQUITTO_STATE_DIR:-$ROOT/target/mosquitto}"
PID_FILE="$STATE_DIR/mosquitto.pid"
DIR_FILE="$STATE_DIR/mosquitto.dir"

log() { printf 'mosquitto.sh: %s\n' "$*" >&2; }
die() {
    log "ERROR: $*"
    exit 1
}

find_mosquitto() {
    local m
    m="$(command -v mosquitto 2>/dev/null || true)"
    if [ -z "$m" ] && [ -x /usr/sbin/mosquitto ]; then
        m=/usr/sbin/mosquitto
    fi
    printf '%s' "$m"
}

install_mosquitto() {
    local sudo=()
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null 2>&1 || die "mosquitto is missing and installing it needs root (no sudo)"
        sudo=(sudo)
    fi
    log "installing mosquitto (apt-get)"
    "${sudo[@]}" apt-get update </dev/null >&2
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y --no-install-recommends mosquitto mosquitto-clients </dev/null >&2
}

# A free TCP port on 127.0.0.1 (the kernel picks it).
free_port() {
    if command -v python3 >/dev/null 2>&1; then
        python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
        return
    fi
    local p _
    for _ in $(seq 1 100); do
        p=$((20000 + RANDOM % 40000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
            printf '%s\n' "$p"
            return
        fi
    done
    die "no free port found"
}

running_pid() {
    [ -f "$PID_FILE" ] || return 1
    local pid
    pid="$(cat "$PID_FILE")"
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && printf '%s' "$pid"
}

start() {
    local pid
    if pid="$(running_pid)"; then
        die "a broker of this script already runs (PID $pid); run '$0 stop' first"
    fi
    local mosq
    mosq="$(find_mosquitto)"
    if [ -z "$mosq" ]; then
        install_mosquitto
        mosq="$(find_mosquitto)"
        [ -n "$mosq" ] || die "mosquitto still not found after installing it"
    fi
    mkdir -p "$STATE_DIR"
    local dir port
    dir="$(mktemp -d "${TMPDIR:-/tmp}/at-wifi-mosquitto.XXXXXX")"
    port="$(free_port)"
    cat >"$dir/mosquitto.conf" <<EOF
# Written by scripts/mosquitto.sh for the at-wifi end-to-end tests.
listener $port 127.0.0.1
allow_anonymous true
persistence false
# stderr, not a file: run as root, mosquitto drops to its own user and could not
# open a file in this directory (mode 0700); the inherited descriptor still works.
log_dest stderr
log_type error
log_type warning
log_type notice
EOF
    # `exec` in the background subshell: $! is mosquitto's own PID, not a shell's.
    (exec "$mosq" -c "$dir/mosquitto.conf" </dev/null >>"$dir/mosquitto.out" 2>&1) &
    pid=$!
    printf '%s\n' "$pid" >"$PID_FILE"
    printf '%s\n' "$dir" >"$DIR_FILE"
    local _
    for _ in $(seq 1 200); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            log "mosquitto (PID $pid) listening on 127.0.0.1:$port; config and log (mosquitto.out) in $dir"
            printf 'export AT_WIFI_BROKER=127.0.0.1:%s\n' "$port"
            return 0
        fi
        if ! kill -0 "$pid" 2>/dev/null; then
            cat "$dir/mosquitto.out" >&2 2>/dev/null || true
            rm -f "$PID_FILE"
            die "mosquitto exited before listening on 127.0.0.1:$port"
        fi
        sleep 0.05
    done
    kill "$pid" 2>/dev/null || true
    rm -f "$PID_FILE"
    die "mosquitto (PID $pid) not listening on 127.0.0.1:$port within 10 s"
}

stop() {
    local pid dir=""
    [ -f "$DIR_FILE" ] && dir="$(cat "$DIR_FILE")"
    if pid="$(running_pid)"; then
        kill "$pid" 2>/dev/null || true
        local _
        for _ in $(seq 1 100); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.05
        done
        if kill -0 "$pid" 2>/dev/null; then
            log "PID $pid did not stop on SIGTERM; SIGKILL"
            kill -9 "$pid" 2>/dev/null || true
        fi
        log "mosquitto (PID $pid) stopped"
    else
        log "no broker of this script is running"
    fi
    rm -f "$PID_FILE" "$DIR_FILE"
    case "$dir" in
    "${TMPDIR:-/tmp}"/at-wifi-mosquitto.*) rm -rf "$dir" ;;
    esac
}

case "${1:-}" in
start) start ;;
stop) stop ;;
*)
    echo "usage: $0 start|stop" >&2
    exit 2
    ;;
esac
