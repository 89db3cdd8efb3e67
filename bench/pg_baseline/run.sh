#!/usr/bin/env bash
# PostgreSQL baseline for scripts/bench (not run in CI): starts a throwaway
# PostgreSQL cluster (Debian's package) on a temporary data directory,
# listening on a Unix socket in that directory only (no TCP), creates the
# hash-chained append-only audit table (schema.sql), feeds it events over
# 64 connections with pgbench (insert.sql), runs the same load into a table
# without the chain for comparison (insert_plain.sql), recomputes the whole
# chain (verify.sql), then stops the cluster and removes the directory.
#
# Usage: bench/pg_baseline/run.sh [RESULT.json]
# Environment: PG_SECONDS (default 20; pgbench -T), or PG_TRANSACTIONS (per
# client; pgbench -t) for a fixed count; PG_CLIENTS (64), PG_JOBS (2);
# PG_PLAIN=0 skips the comparison run into a table without the chain.
# Needs the postgresql package (scripts/bench installs it when missing).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-}
clients=${PG_CLIENTS:-64}
jobs=${PG_JOBS:-2}
seconds=${PG_SECONDS:-20}

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
  echo "pg_baseline: PostgreSQL server binaries not found under /usr/lib/postgresql (install postgresql)" >&2
  exit 3
fi
pgbench=$bindir/pgbench
[ -x "$pgbench" ] || pgbench=$(command -v pgbench)

# Run cluster commands as the postgres user when we are root (initdb refuses root).
as_pg=()
if [ "$(id -u)" -eq 0 ]; then as_pg=(runuser -u postgres --); fi

work=$(mktemp -d /tmp/vellum-pg-XXXXXX)
chmod 0755 "$work"
if [ "$(id -u)" -eq 0 ]; then chown postgres: "$work"; fi
pgdata=$work/data
port=5432   # only names the socket file inside $work: no TCP listener
started=0
cleanup() {
  if [ "$started" = 1 ]; then "${as_pg[@]}" "$bindir/pg_ctl" -D "$pgdata" -m immediate -w stop >/dev/null 2>&1 || true; fi
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

"${as_pg[@]}" "$bindir/initdb" -D "$pgdata" -U postgres -A trust -E UTF8 --locale=C.UTF-8 --no-instructions >"$work/initdb.log" 2>&1 \
  || { cat "$work/initdb.log" >&2; exit 1; }
"${as_pg[@]}" "$bindir/pg_ctl" -D "$pgdata" -l "$work/server.log" -w -t 60 \
  -o "-c listen_addresses='' -k $work -p $port -c max_connections=$((clients + 16)) -c synchronous_commit=on -c fsync=on -c full_page_writes=on" \
  start >/dev/null || { cat "$work/server.log" >&2; exit 1; }
started=1

psql_q() { "${as_pg[@]}" psql -X -q -h "$work" -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 "$@"; }
psql_q -f "$here/schema.sql" >/dev/null
version=$(psql_q -At -c "SHOW server_version")
sync=$(psql_q -At -c "SHOW synchronous_commit")
echo "pg_baseline: PostgreSQL $version, synchronous_commit=$sync, $clients connections, $jobs pgbench threads"

if [ -n "${PG_TRANSACTIONS:-}" ]; then run=(-t "$PG_TRANSACTIONS"); else run=(-T "$seconds"); fi
"${as_pg[@]}" "$pgbench" -h "$work" -p "$port" -U postgres -n -c "$clients" -j "$jobs" "${run[@]}" \
  -f "$here/insert.sql" postgres >"$work/pgbench.log" 2>&1 || { cat "$work/pgbench.log" >&2; exit 1; }
cat "$work/pgbench.log"; echo

tps=$(sed -n 's/^tps = \([0-9.]*\) (without initial connection time).*/\1/p' "$work/pgbench.log" | head -n 1)
[ -n "$tps" ] || tps=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' "$work/pgbench.log" | tail -n 1)
latency=$(sed -n 's/^latency average = \([0-9.]*\) ms.*/\1/p' "$work/pgbench.log" | head -n 1)
failed=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$work/pgbench.log" | head -n 1)

# The same load into the table without the chain (comparison only).
plain_tps=0
if [ "${PG_PLAIN:-1}" = 1 ]; then
  "${as_pg[@]}" "$pgbench" -h "$work" -p "$port" -U postgres -n -c "$clients" -j "$jobs" "${run[@]}" \
    -f "$here/insert_plain.sql" postgres >"$work/pgbench-plain.log" 2>&1 || { cat "$work/pgbench-plain.log" >&2; exit 1; }
  plain_tps=$(sed -n 's/^tps = \([0-9.]*\) (without initial connection time).*/\1/p' "$work/pgbench-plain.log" | head -n 1)
  echo "pg_baseline: without the hash chain (comparison only): ${plain_tps:-?} rows/s"
fi

IFS='|' read -r rows broken contiguous head_ok table_bytes payload_bytes < <(psql_q -At -f "$here/verify.sql")
chain_ok=false
if [ "$broken" = 0 ] && [ "$contiguous" = t ] && [ "$head_ok" = t ]; then chain_ok=true; fi
bytes_per_row=$(awk -v b="$table_bytes" -v r="$rows" 'BEGIN { if (r > 0) printf "%.0f", b / r; else print 0 }')
echo "pg_baseline: $rows rows, ${tps} rows/s, latency average ${latency} ms, chain recomputed: broken=$broken contiguous=$contiguous head=$head_ok, ${bytes_per_row} bytes/row on disk (table + indexes + TOAST), payload ${payload_bytes} bytes"

if [ -n "$out" ]; then
  cat >"$out" <<JSON
{"bench":"pg_baseline","clean":$chain_ok,"postgresql_version":"$version","synchronous_commit":"$sync",
 "clients":$clients,"pgbench_threads":$jobs,"rows":$rows,"rows_per_s":${tps:-0},"latency_avg_ms":${latency:-0},
 "failed_transactions":${failed:-0},"chain_ok":$chain_ok,"bytes_per_row":$bytes_per_row,"payload_bytes":$payload_bytes,
 "figures":[
  {"id":"pg_rows_per_s","what":"PostgreSQL hash-chained inserts, $clients connections, synchronous_commit on","value":${tps:-0},"unit":"rows/s"},
  {"id":"pg_plain_rows_per_s","what":"PostgreSQL plain inserts without the chain (comparison only)","value":${plain_tps:-0},"unit":"rows/s"},
  {"id":"pg_latency_avg_ms","what":"PostgreSQL insert latency, average","value":${latency:-0},"unit":"ms"},
  {"id":"pg_bytes_per_row","what":"PostgreSQL bytes on disk per row (table, indexes, TOAST)","value":$bytes_per_row,"unit":"bytes",
   "bound":{"what":"JSON payload size","value":$payload_bytes},"ratio":$(awk -v a="$bytes_per_row" -v b="$payload_bytes" 'BEGIN { printf "%.4f", (b > 0 ? a / b : 0) }')}]}
JSON
fi
[ "$chain_ok" = true ]
