#!/usr/bin/env bash
# Streams under load: the Mastodon pod (release, SQLite, demo data, and
# STREAMS / 256 users, the per-user bound, with 4 tokens each, 64 streams
# per token, the per-token bound) holds
# STREAMS authenticated streams of public statuses, SSE
# (/api/v1/streaming/public) and then, in a fresh pod, WebSocket
# (/api/v1/streaming?stream=public), opened by the Rust client
# examples/mastodon-pod/examples/stream-load.rs over loopback, each through
# the whole enforcement path (bearer, validator, channel scope, Watch). The
# client then posts POSTS public statuses one at a time and revokes
# REVOCATIONS tokens (64 streams each), and prints:
#
# - the pod's resident memory per open stream, read from /proc: overall
#   ((RSS with the streams open - RSS before) / STREAMS) and marginal (the
#   growth over the second half of the streams, per stream), and again
#   after the posts (buffers grown by the traffic);
# - fan-out latency, from sending the POST to each stream's read of the
#   event: p50 and p99 over every delivery, and of the last subscriber's;
# - the time from POST /oauth/revoke to the last of the token's streams
#   ending (EOF), and that no other stream ended.
#
# Client and pod share the machine's cores (the client runs on one thread),
# so the latencies include the client's own work. Rate limiting is off (one
# address opens every stream); everything else is the pod as it is served.
#
#   bench/stream-load.sh [STREAMS] [POSTS] [REVOCATIONS] [KINDS]
#   (default: 10000 20 5 "sse websocket")
set -euo pipefail
cd "$(dirname "$0")/.."
streams=${1:-10000}
posts=${2:-20}
revocations=${3:-5}
kinds=${4:-sse websocket}
password=load-password-1234

# Each stream is a socket at both ends (the client's and the pod's).
ulimit -n "$(ulimit -Hn)"
if [ "$(ulimit -n)" -lt $((streams + 1000)) ]; then
    echo "error: $streams streams need $((streams + 1000)) open files; the limit is $(ulimit -n)" >&2
    exit 1
fi

cargo build --release -q -p mastodon-pod --bins --example stream-load
work=$(mktemp -d)
addr=127.0.0.1:18400
pod=
trap 'kill $pod 2>/dev/null || true; rm -rf "$work"' EXIT

for kind in $kinds; do
    rm -f "$work"/pod.db*
    THROTTLING_ENABLED=false RUST_LOG=warn target/release/mastodon-pod serve --listen "$addr" \
        --database "sqlite://$work/pod.db" --demo >"$work/pod.log" 2>&1 &
    pod=$!
    for _ in $(seq 100); do
        curl -s -o /dev/null "http://$addr/api/v1/streaming/health" && break
        sleep 0.1
    done
    users=$(( (streams + 255) / 256 ))
    names=$(seq -f "load%g" 1 "$users" | paste -sd, -)
    echo "== $kind: a fresh pod, $users users; getting $((users * 4)) read tokens and a poster's token through the consent page" >&2
    for name in ${names//,/ }; do
        echo "$password" | target/release/mastodon-pod create-user "$name" \
            --database "sqlite://$work/pod.db" --password-stdin >/dev/null
    done
    python3 bench/pod_token.py "http://$addr" "$names" "$password" read 4 >"$work/tokens"
    poster=$(python3 bench/pod_token.py "http://$addr" demo demo-password "read write")
    target/release/examples/stream-load "$kind" "$addr" "$pod" "$work/tokens" "$poster" \
        "$streams" "$posts" "$revocations"
    echo "pod's peak RSS: $(awk '/VmHWM/ {printf "%.1f MiB", $2 / 1024}' "/proc/$pod/status")"
    kill "$pod"
    wait "$pod" 2>/dev/null || true
    pod=
done
