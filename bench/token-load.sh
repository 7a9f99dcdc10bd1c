#!/usr/bin/env bash
# Token issuance under load: client_credentials grants against the
# operator binary on SQLite (WAL, synchronous=FULL: every token is on disk
# before its response), driven by wrk with 32 connections. Prints tokens/s,
# p99 latency and the number of non-2xx responses (the goal is 0).
#
#   bench/token-load.sh [DURATION_SECONDS] [CONNECTIONS]
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-10}
connections=${2:-32}

if ! command -v wrk >/dev/null; then
    echo "wrk is missing; installing it from the distribution's packages" >&2
    if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
    $SUDO apt-get update -qq && $SUDO apt-get install -y -qq wrk >/dev/null
fi

cargo build --release -q -p oauth-server --bin oauth-server
bin=target/release/oauth-server
work=$(mktemp -d)
db="sqlite://$work/bench.db"
trap 'kill $server 2>/dev/null || true; rm -rf "$work"' EXIT

app=$($bin --database "$db" create-app bench --redirect-uri https://bench.example/cb --scopes "read write")
client_id=$(awk '/client_id:/ {print $2}' <<<"$app")
client_secret=$(awk '/client_secret:/ {print $2}' <<<"$app")
addr=127.0.0.1:18090
RUST_LOG=warn $bin --database "$db" serve --listen "$addr" >/dev/null 2>&1 &
server=$!
for _ in $(seq 50); do
    curl -s -o /dev/null "http://$addr/.well-known/oauth-authorization-server" && break
    sleep 0.1
done

cat >"$work/token.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.body = "grant_type=client_credentials&scope=read&client_id=$client_id&client_secret=$client_secret"
LUA
out=$(wrk -t2 -c"$connections" -d"${duration}s" --latency -s "$work/token.lua" "http://$addr/oauth/token")
rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
errors=$(awk '/Non-2xx/ {print $5}' <<<"$out")
socket_errors=$(awk '/Socket errors/ {print $0}' <<<"$out")
echo "client_credentials on SQLite, wrk -t2 -c$connections -d${duration}s:"
echo "  tokens/s: $rps   p99: $p99   non-2xx: ${errors:-0}   ${socket_errors}"
issued=$(sqlite3 "$work/bench.db" 'SELECT count(*) FROM tokens' 2>/dev/null || echo "?")
echo "  tokens in the database: $issued"
