#!/usr/bin/env bash
# Token issuance under load: client_credentials grants against the
# operator binary, driven by wrk, with the bare-axum baseline measured in
# the same run (load-target's bare route, a GET for the same duration,
# before and after the issuance run). Prints tokens/s, p99 latency, the
# number of non-2xx responses (the goal is 0: the script then exits with 1,
# after printing), the ratio issuance/bare, and the tokens in the database
# at the end.
#
# The database is SQLite by default (WAL, synchronous=FULL: every token is
# on disk before its response), in a temporary directory. A PostgreSQL URL
# (third argument, or DATABASE_URL) runs the same load on PostgreSQL, in a
# fresh schema bench_PID that is dropped at exit (psql must be installed
# and the role allowed to create schemas).
#
#   bench/token-load.sh [DURATION_SECONDS] [CONNECTIONS] [DATABASE_URL]
#   bench/token-load.sh 10 32 postgres://postgres@127.0.0.1:5432/test
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-10}
connections=${2:-32}
url=${3:-${DATABASE_URL:-}}

if ! command -v wrk >/dev/null; then
    echo "wrk is missing; installing it from the distribution's packages" >&2
    if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
    $SUDO apt-get update -qq && $SUDO apt-get install -y -qq wrk >/dev/null
fi

# load-target too, in the same invocation as bench/load.sh, so that both
# scripts share one build.
cargo build --release -q -p scope-tests -p oauth-server --bin load-target --bin oauth-server
bin=target/release/oauth-server
work=$(mktemp -d)
server=
baseline=
schema=
cleanup() {
    if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; fi
    if [ -n "$baseline" ]; then kill "$baseline" 2>/dev/null || true; fi
    if [ -n "$schema" ]; then
        psql "$url" -qAt -v ON_ERROR_STOP=1 -c "SET client_min_messages = warning" -c "DROP SCHEMA $schema CASCADE" >/dev/null ||
            echo "warning: could not drop schema $schema" >&2
    fi
    rm -rf "$work"
}
trap cleanup EXIT

case "$url" in
"")
    backend=SQLite
    db="sqlite://$work/bench.db"
    count() { sqlite3 "$work/bench.db" 'SELECT count(*) FROM tokens'; }
    ;;
sqlite://*)
    backend=SQLite
    db=$url
    file=${url#sqlite://}
    file=${file%%\?*}
    count() { sqlite3 "$file" 'SELECT count(*) FROM tokens'; }
    ;;
postgres://* | postgresql://*)
    backend=PostgreSQL
    command -v psql >/dev/null || {
        echo "error: psql is needed for a PostgreSQL run" >&2
        exit 1
    }
    schema=bench_$$
    psql "$url" -qAt -v ON_ERROR_STOP=1 -c "CREATE SCHEMA $schema" >/dev/null
    # sqlx understands libpq's `options`: the operator binary works in the
    # schema (its tables and migration history land there).
    case "$url" in *\?*) sep='&' ;; *) sep='?' ;; esac
    db="$url${sep}options=-c%20search_path%3D$schema"
    count() { psql "$url" -qAt -v ON_ERROR_STOP=1 -c "SELECT count(*) FROM $schema.tokens"; }
    ;;
*)
    echo "error: unsupported database URL (expected sqlite://PATH or postgres://...): $url" >&2
    exit 2
    ;;
esac

app=$(RUST_LOG=warn $bin --database "$db" create-app bench --redirect-uri https://bench.example/cb --scopes "read write")
client_id=$(awk '/client_id:/ {print $2}' <<<"$app")
client_secret=$(awk '/client_secret:/ {print $2}' <<<"$app")
addr=127.0.0.1:18090
bare=127.0.0.1:18091
RUST_LOG=warn $bin --database "$db" serve --listen "$addr" --throttling-enabled false >"$work/server.log" 2>&1 &
server=$!
target/release/load-target "$bare" >"$work/target.out" &
baseline=$!
wait_for() { # what url pid
    for _ in $(seq 100); do
        curl -s -o /dev/null "$2" && return 0
        if ! kill -0 "$3" 2>/dev/null; then
            echo "error: $1 exited before it answered" >&2
            cat "$work/server.log" "$work/target.out" >&2
            exit 1
        fi
        sleep 0.1
    done
    echo "error: $1 does not answer at $2" >&2
    exit 1
}
wait_for oauth-server "http://$addr/.well-known/oauth-authorization-server" "$server"
wait_for load-target "http://$bare/api/v1/statuses/1" "$baseline"

cat >"$work/token.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.body = "grant_type=client_credentials&scope=read&client_id=$client_id&client_secret=$client_secret"
LUA

run() { # label [wrk options...] url -> sets rps p99 errors socket; prints a line
    local label=$1 out
    shift
    out=$(wrk -t2 -c"$connections" -d"${duration}s" --latency "$@")
    rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
    p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
    errors=$(awk '/Non-2xx/ {print $5}' <<<"$out")
    errors=${errors:-0}
    socket=$(awk '/Socket errors/ {$1 = $2 = ""; print}' <<<"$out")
    printf '  %-9s %12s req/s   p99 %8s   non-2xx %s%s\n' "$label" "$rps" "$p99" "$errors" \
        "${socket:+   socket errors:$socket}"
    if [ -z "$rps" ]; then
        echo "error: wrk measured nothing for $label:" >&2
        echo "$out" >&2
        exit 1
    fi
}

echo "client_credentials on $backend vs bare axum, wrk -t2 -c$connections -d${duration}s, order bare/issuance/bare, loopback, $(nproc) CPUs:"
run bare "http://$bare/api/v1/statuses/1"
b1=$rps
[ "$errors" = 0 ] || { echo "error: the bare route answered non-2xx" >&2; exit 1; }
run issuance -s "$work/token.lua" "http://$addr/oauth/token"
t_rps=$rps t_p99=$p99 t_errors=$errors t_socket=$socket
run bare "http://$bare/api/v1/statuses/1"
b2=$rps
[ "$errors" = 0 ] || { echo "error: the bare route answered non-2xx" >&2; exit 1; }

echo "  tokens/s: $t_rps   p99: $t_p99   non-2xx: $t_errors${t_socket:+   socket errors:$t_socket}"
awk -v b1="$b1" -v b2="$b2" -v t="$t_rps" 'BEGIN {
    b = (b1 + b2) / 2
    printf "  bare req/s (mean): %.0f   ratio issuance/bare: %.4f\n", b, t / b
}'
issued=$(count 2>/dev/null || echo "?")
echo "  tokens in the database: $issued"
if [ "$t_errors" != 0 ]; then
    echo "error: $t_errors token requests answered non-2xx" >&2
    exit 1
fi
