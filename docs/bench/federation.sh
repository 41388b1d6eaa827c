#!/usr/bin/env bash
# Federation catch-up: a provincial instance holding generated dossier histories pushes its
# whole dossier-sync feed through the signed exchange to a fresh national instance, as after
# a long outage. Prints the records pushed, the time from the provincial server's start to
# the last one accepted, and the national figures.
#
#   docs/bench/federation.sh [DOSSIERS]     (default 220,000: about 1 M sync records)
#
# MOTCUA (default target/release/motcua). SQLite on both sides, in a fresh folder.
set -euo pipefail
n=${1:-220000}
M=${MOTCUA:-target/release/motcua}
w=$(mktemp -d /tmp/motcua-federation.XXXXXX)
export MOTCUA_LOG__LEVEL=warn
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; wait 2>/dev/null; rm -rf "$w"' EXIT

"$M" generate catalogue --output "$w/cat" >/dev/null
# `exec`: a server started in the background is then the process whose id the trap kills.
province() { MOTCUA_EXCHANGE__AGENCY=000.00.00.H31 MOTCUA_EXCHANGE__NATIONAL_MEMBER=000.00.00.G01/motcua \
  exec "$M" --data-dir "$w/province" "$@"; }
national() { MOTCUA_EXCHANGE__AGENCY=000.00.00.G01 MOTCUA_EXCHANGE__NATIONAL=true \
  exec "$M" --data-dir "$w/national" "$@"; }
(province import agencies "$w/cat/agencies.json") >/dev/null
(province import procedures "$w/cat/procedures.dvcqg.json" --effective-from 2025-07-01) >/dev/null
(province generate dossiers --count "$n" --days 730)

national serve --addr 127.0.0.1:8091 & pids+=($!)
for _ in $(seq 600); do curl -fs http://127.0.0.1:8091/readyz >/dev/null 2>&1 && break; sleep 0.1; done
read -r nat_id nat_key < <(national exchange identity)
read -r prov_id prov_key < <(province exchange identity)
(province exchange add-member "$nat_id" --name "Quốc gia" --public-key "$nat_key" --url http://127.0.0.1:8091)
(national exchange add-member "$prov_id" --name "Hải Phòng" --public-key "$prov_key" --url http://127.0.0.1:8092)
(national exchange grant sync-push "$prov_id")
events=$(python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('SELECT COUNT(*) FROM dossier_events').fetchone()[0])" "$w/province/motcua.db")
echo "the province's feed: $events events"

start=$(date +%s.%N)
province serve --addr 127.0.0.1:8092 & pids+=($!)
# Done when the national side has accepted the province's feed to its end.
national_cursor() {
  curl -fs http://127.0.0.1:8091/api/v1/national/stats | python3 -c \
    "import json,sys; p=json.load(sys.stdin)['provinces']; print(p[0]['cursor'] if p else 0)"
}
while [ "$(national_cursor)" -lt "$events" ]; do sleep 1; done
end=$(date +%s.%N)
python3 - "$start" "$end" "$(curl -fs http://127.0.0.1:8091/api/v1/national/stats)" <<'PY'
import json, sys
start, end = float(sys.argv[1]), float(sys.argv[2])
province = json.loads(sys.argv[3])["provinces"][0]
seconds = end - start
records = province["records"]
print(f"{records:,} sync records accepted in {seconds:.1f} s: {records / seconds:,.0f} records/s")
PY
curl -fs http://127.0.0.1:8091/api/v1/national/stats
echo
(national exchange verify-log)
