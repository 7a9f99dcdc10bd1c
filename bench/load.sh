#!/usr/bin/env bash
# Loopback load test: the same handler bare and behind scope enforcement
# (bearer parse + cached validation + scope check), driven by wrk in one run.
# Prints req/s and p99 latency of each and the throughput ratio.
#
#   bench/load.sh [DURATION_SECONDS] [CONNECTIONS]   (each of the four runs lasts DURATION)
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-5}
connections=${2:-32}
token="bench-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"

if ! command -v wrk >/dev/null; then
    echo "wrk is missing; installing it from the distribution's packages" >&2
    if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
    $SUDO apt-get update -qq && $SUDO apt-get install -y -qq wrk >/dev/null
fi

cargo build --release -q -p scope-tests --bin load-target
bare=127.0.0.1:18080
protected=127.0.0.1:18081
target/release/load-target "$bare" "$protected" "$token" &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 50); do
    curl -s -o /dev/null "http://$bare/api/v1/statuses/1" && break
    sleep 0.1
done

run() { # name url [header]
    local out
    if [ -n "${3:-}" ]; then
        out=$(wrk -t2 -c"$connections" -d"${duration}s" --latency -H "$3" "$2")
    else
        out=$(wrk -t2 -c"$connections" -d"${duration}s" --latency "$2")
    fi
    local rps p99 errors
    rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
    p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
    errors=$(awk '/Non-2xx/ {print $5}' <<<"$out")
    printf '%-10s %12s req/s   p99 %8s   non-2xx %s\n' "$1" "$rps" "$p99" "${errors:-0}" >&2
    if [ "${errors:-0}" != 0 ]; then
        echo "error: $1 answered non-2xx responses; the figures would be meaningless" >&2
        exit 1
    fi
    echo "$rps"
}

header="Authorization: Bearer $token"
url_bare="http://$bare/api/v1/statuses/1"
url_prot="http://$protected/api/v1/statuses/1"
# The same request (token included) to both, so only the server differs;
# ABBA order so that drift of the machine does not favour either side.
echo "wrk -t2 -c$connections -d${duration}s x2 each, ABBA order, loopback:" >&2
b1=$(run bare "$url_bare" "$header")
e1=$(run enforced "$url_prot" "$header")
e2=$(run enforced "$url_prot" "$header")
b2=$(run bare "$url_bare" "$header")
awk -v b1="$b1" -v b2="$b2" -v e1="$e1" -v e2="$e2" 'BEGIN {
    b = (b1 + b2) / 2; e = (e1 + e2) / 2
    printf "mean req/s: bare %.0f, enforced %.0f\nratio enforced/bare: %.3f\n", b, e, e / b
}'
