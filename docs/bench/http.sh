#!/usr/bin/env bash
# The load harness against a fresh demo server: every scenario, then the mix, with the
# server's CPU and peak memory, as BENCHMARKS.md rows.
#
#   docs/bench/http.sh LABEL [DATABASE_URL]      (default: SQLite in a fresh folder)
#
# MOTCUA (default target/release/motcua), PORT (8097), DURATION (10), CONCURRENCY (16),
# SCENARIOS (all) change what runs. The per-address limits are lifted: every client here is
# 127.0.0.1.
set -euo pipefail
label=${1:?a label for the rows}
url=${2:-}
motcua=${MOTCUA:-target/release/motcua}
port=${PORT:-8097}
data=$(mktemp -d /tmp/motcua-bench.XXXXXX)
export MOTCUA_LIMITS__LOOKUP_PER_MINUTE=4000000000 MOTCUA_LOG__LEVEL=warn
[ -n "$url" ] && export DATABASE_URL=$url
"$motcua" --data-dir "$data" serve --demo --addr "127.0.0.1:$port" &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$data"' EXIT
for _ in $(seq 600); do
  curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
  sleep 0.1
done
"$motcua" --data-dir "$data" bench http --url "http://127.0.0.1:$port" --pid "$server" \
  --duration "${DURATION:-10}" --concurrency "${CONCURRENCY:-16}" \
  --scenario "${SCENARIOS:-trivial,search,procedure,lookup,submit,transition,stats,dashboard,mix}" \
  --markdown "$label"
