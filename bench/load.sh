#!/usr/bin/env bash
# Loopback load test of protected requests: the same handler bare and
# behind scope enforcement (bearer parse + validation + scope check) with
# each validator, all served by one load-target process and driven by wrk
# in one run:
#
#   memory         CachedValidator<InMemoryValidator> (a cache hit)
#   jwt            JwtValidator: ES256 signature and claims checked on every
#                  request, with the key set fetched over HTTP at start-up
#                  from an in-process oauth-server issuing JWT access tokens
#   jwt-cached     the same JwtValidator inside a CachedValidator: the
#                  signature is verified once per token and cache TTL
#   introspection  CachedValidator<IntrospectionValidator> of an in-process
#                  oauth-server (opaque tokens), warm: the token was
#                  introspected once before the measurement, then cached
#
# Each validator X is measured against the bare route in ABBA order (bare,
# X, X, bare; the same request, token included, to both) so that drift of
# the machine favours neither side. Prints req/s, p99 and non-2xx of every
# run (on stderr), then a summary: mean req/s of X and of its bare runs,
# the p99 of each X run, and the ratio X/bare. Any non-2xx response, or a
# token the enforced route refuses, stops the run with an error.
#
#   bench/load.sh [DURATION_SECONDS] [CONNECTIONS]   (each of the 12 runs lasts DURATION)
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

# oauth-server too, in the same invocation as bench/token-load.sh, so that
# both scripts share one build.
cargo build --release -q -p scope-tests -p oauth-server --bin load-target --bin oauth-server
bare=127.0.0.1:18080
memory=127.0.0.1:18081
jwt=127.0.0.1:18082
introspection=127.0.0.1:18083
jwt_cached=127.0.0.1:18084
work=$(mktemp -d)
server=
trap 'if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; fi; rm -rf "$work"' EXIT
target/release/load-target "$bare" "$memory" "$token" "$jwt" "$introspection" "$jwt_cached" >"$work/target.out" &
server=$!
for _ in $(seq 300); do
    grep -qx ready "$work/target.out" && break
    if ! kill -0 "$server" 2>/dev/null; then
        echo "error: load-target exited before it was ready:" >&2
        cat "$work/target.out" >&2
        exit 1
    fi
    sleep 0.1
done
if ! grep -qx ready "$work/target.out"; then
    echo "error: load-target not ready after 30 s" >&2
    exit 1
fi
jwt_token=$(awk '$1 == "jwt-token:" {print $2}' "$work/target.out")
opaque_token=$(awk '$1 == "opaque-token:" {print $2}' "$work/target.out")

path=/api/v1/statuses/1
# Each enforced route must accept its token before anything is measured;
# this first request also fills the introspection cache (warm from here on).
for check in "memory $memory $token" "jwt $jwt $jwt_token" "jwt-cached $jwt_cached $jwt_token" "introspection $introspection $opaque_token"; do
    read -r name addr tok <<<"$check"
    status=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $tok" "http://$addr$path")
    if [ "$status" != 200 ]; then
        echo "error: $name answered $status to its token, expected 200" >&2
        exit 1
    fi
done

run() { # label url header -> "rps p99" on stdout, a line on stderr
    local out rps p99 errors socket
    out=$(wrk -t2 -c"$connections" -d"${duration}s" --latency -H "$3" "$2")
    rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
    p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
    errors=$(awk '/Non-2xx/ {print $5}' <<<"$out")
    socket=$(awk '/Socket errors/ {$1 = $2 = ""; print}' <<<"$out")
    printf '  %-14s %12s req/s   p99 %8s   non-2xx %s%s\n' "$1" "$rps" "$p99" "${errors:-0}" \
        "${socket:+   socket errors:$socket}" >&2
    if [ "${errors:-0}" != 0 ] || [ -z "$rps" ]; then
        echo "error: $1 answered non-2xx responses (or none); the figures would be meaningless" >&2
        exit 1
    fi
    echo "$rps $p99"
}

summary=()
measure() { # name addr token
    local header="Authorization: Bearer $3" b1 x1 x2 b2
    echo "$1 vs bare:" >&2
    b1=$(run bare "http://$bare$path" "$header")
    x1=$(run "$1" "http://$2$path" "$header")
    x2=$(run "$1" "http://$2$path" "$header")
    b2=$(run bare "http://$bare$path" "$header")
    summary+=("$(awk -v name="$1" -v b1="${b1% *}" -v b2="${b2% *}" -v x1="${x1% *}" -v x2="${x2% *}" \
        -v p1="${x1#* }" -v p2="${x2#* }" 'BEGIN {
        b = (b1 + b2) / 2; x = (x1 + x2) / 2
        printf "%-14s %10.0f %10.0f   %8s %8s   %6.3f", name, x, b, p1, p2, x / b
    }')")
}

echo "wrk -t2 -c$connections -d${duration}s, ABBA order per validator, loopback, $(nproc) CPUs:" >&2
measure memory "$memory" "$token"
measure jwt "$jwt" "$jwt_token"
measure jwt-cached "$jwt_cached" "$jwt_token"
measure introspection "$introspection" "$opaque_token"
printf '%-14s %10s %10s   %17s   %6s\n' validator "req/s" "bare req/s" "p99 (both runs)" "X/bare"
printf '%s\n' "${summary[@]}"
