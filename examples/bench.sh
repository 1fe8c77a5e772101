#!/usr/bin/env bash
# Runs the load generator against a fresh server, as docs/benchmarks.md describes.
#
#   examples/bench.sh SERVER_BINARY sqlite|postgres [VAR=value ...]
#
# e.g. examples/bench.sh target/release/echochat sqlite LOAD_USERS=1000 LOAD_WATCH=1
# The server gets a new data folder (and, for postgres, a new database on 127.0.0.1:5432 that is
# dropped afterwards); LOAD_SERVER_PID is set so the load generator reports RSS per WebSocket.
# LOADGEN (default target/release/examples/loadgen) names the load generator binary.
# BENCH_LIMITS=off (default) runs the server with every [limits] rate off: the load generator is
# one client address sending far faster than a person. BENCH_LIMITS=default keeps the defaults
# (for examples/abuse.rs).
set -euo pipefail
server=$(realpath "$1")
backend=$2
shift 2
loadgen=${LOADGEN:-$(dirname "$0")/../target/release/examples/loadgen}
work=$(mktemp -d)
db=""
args=(--listen 127.0.0.1:0 --data-dir "$work/data")
if [[ ${BENCH_LIMITS:-off} == off ]]; then
    {
        echo "[limits]"
        for key in login_per_ip login_per_account_and_ip login_per_account register_per_ip \
            password_reset_per_ip password_reset_per_account pin_attempts_per_account \
            refresh_per_ip messages_per_user rooms_per_user joins_per_user invites_per_user; do
            echo "$key = { count = 0, per_secs = 1, burst = 1 }"
        done
        echo "max_pending_invites_per_recipient = 0"
        echo "friend_requests_per_minute = 0"
        echo "max_pending_friend_requests = 0"
    } >"$work/limits.toml"
    args+=(--config "$work/limits.toml")
fi
if [[ $backend == postgres ]]; then
    db="echochat_bench_$RANDOM$RANDOM"
    psql -h 127.0.0.1 -U postgres -qc "CREATE DATABASE $db" postgres
    args+=(--database-url "postgres://postgres@127.0.0.1:5432/$db")
fi
"$server" "${args[@]}" >"$work/out" 2>"$work/err" &
pid=$!
cleanup() {
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    [[ -n $db ]] && psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" postgres
    rm -rf "$work"
}
trap cleanup EXIT
for _ in $(seq 1 100); do
    grep -q "setup?token=" "$work/out" 2>/dev/null && break
    sleep 0.1
done
url=$(grep -o 'http://[^ ]*/setup?token=[^ ]*' "$work/out" | head -n1)
base=${url%%/setup*}
token=${url##*token=}
echo "server $server ($backend) pid $pid at $base" >&2
env LOAD_SERVER_PID="$pid" "$@" "$loadgen" "$base" "$token"
