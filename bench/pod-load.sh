#!/usr/bin/env bash
# Loopback load test of a pod: the funkwhale pod's protected
# GET /api/v1/users/me/ (real token from the pod's own SQLite store, through
# the cached store validator, scope check and rate limiter: limits raised so
# that none refuses) against the bare-axum baseline (the same handler and
# database, principal fixed, no framework), driven by wrk in one run, ABBA
# order. Prints req/s, p99, the throughput ratio and each server's peak RSS
# during the load (VmHWM, reset when the load starts).
#
#   bench/pod-load.sh [DURATION_SECONDS] [CONNECTIONS]   (each of the four runs lasts DURATION)
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-5}
connections=${2:-32}

if ! command -v wrk >/dev/null; then
    echo "wrk is missing; installing it from the distribution's packages" >&2
    if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
    $SUDO apt-get update -qq && $SUDO apt-get install -y -qq wrk >/dev/null
fi

cargo build --release -q -p funkwhale-pod --bins
work=$(mktemp -d)
db="sqlite://$work/pod.db"
pod_addr=127.0.0.1:18300
base_addr=127.0.0.1:18301
trap 'kill $pod $baseline 2>/dev/null || true; rm -rf "$work"' EXIT

# Limits far above what the run sends, so the limiter counts but never refuses.
rates=""
for who in anonymous authenticated; do
    for action in wildcard list retrieve create update destroy; do
        rates="$rates$who-$action=1000000000/day,"
    done
done
THROTTLING_RATES="$rates" RUST_LOG=warn target/release/funkwhale-pod serve --listen "$pod_addr" --database "$db" --demo \
    >"$work/pod.log" 2>&1 &
pod=$!
for _ in $(seq 100); do
    curl -s -o /dev/null "http://$pod_addr/api/v1/instance/nodeinfo/2.0/" && break
    sleep 0.1
done
token=$(python3 bench/pod_token.py "http://$pod_addr" demo demo-password read)
user_id=$(curl -s -H "Authorization: Bearer $token" "http://$pod_addr/api/v1/users/me/" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])')
target/release/funkwhale-pod-baseline "$db" "$base_addr" "$user_id" >/dev/null 2>&1 &
baseline=$!
for _ in $(seq 100); do
    curl -s -o /dev/null "http://$base_addr/api/v1/users/me/" && break
    sleep 0.1
done

run() { # name url
    local out rps p99 errors
    out=$(wrk -t2 -c"$connections" -d"${duration}s" --latency -H "Authorization: Bearer $token" "$2")
    rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
    p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
    errors=$(awk '/Non-2xx/ {print $5}' <<<"$out")
    printf '%-9s %10s req/s   p99 %8s   non-2xx %s\n' "$1" "$rps" "$p99" "${errors:-0}" >&2
    if [ "${errors:-0}" != 0 ]; then
        echo "error: $1 answered non-2xx responses; the figures would be meaningless" >&2
        exit 1
    fi
    echo "$rps"
}

peak_rss() { awk '/VmHWM/ {printf "%.1f MiB", $2 / 1024}' "/proc/$1/status"; }
rss() { awk '/VmRSS/ {printf "%.1f MiB", $2 / 1024}' "/proc/$1/status"; }
# Start the peak-RSS count at the load: setting up (argon2 hashing the demo
# password and the login, 19 MiB each by design) is not the serving cost.
echo "RSS before the load: pod $(rss $pod), baseline $(rss $baseline); peak so far: pod $(peak_rss $pod)" >&2
echo 5 >"/proc/$pod/clear_refs"
echo 5 >"/proc/$baseline/clear_refs"

echo "wrk -t2 -c$connections -d${duration}s x2 each, ABBA order, loopback, GET /api/v1/users/me/:" >&2
b1=$(run baseline "http://$base_addr/api/v1/users/me/")
p1=$(run pod "http://$pod_addr/api/v1/users/me/")
p2=$(run pod "http://$pod_addr/api/v1/users/me/")
b2=$(run baseline "http://$base_addr/api/v1/users/me/")
curl -s -D - -o /dev/null -H "Authorization: Bearer $token" "http://$pod_addr/api/v1/users/me/" |
    grep -i '^x-ratelimit-scope' >&2 || { echo "error: the rate limiter did not run" >&2; exit 1; }
awk -v b1="$b1" -v b2="$b2" -v p1="$p1" -v p2="$p2" 'BEGIN {
    b = (b1 + b2) / 2; p = (p1 + p2) / 2
    printf "mean req/s: baseline %.0f, pod %.0f\nratio pod/baseline: %.3f\n", b, p, p / b
}'
echo "peak RSS under load: pod $(peak_rss $pod), baseline $(peak_rss $baseline)"
