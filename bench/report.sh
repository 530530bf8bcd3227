#!/usr/bin/env bash
# The monthly report over N generated mentions (default 1,000,000; a fifth in the month before,
# for the comparison), each stored and classified through the production path with half of the
# cases answered: builds the database once (kept in bench/.report-N.db, minutes), then times
# `pantau report --period monthly` pinned to one core, with its peak memory.
#   bench/report.sh [N]
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
n="${1:-1000000}"
db="$repo/bench/.report-$n.db"
cargo build --release --bin pantau --bin pantau-bench-report
export RUST_LOG=warn
if [[ ! -f "$db" ]]; then
  "$repo/target/release/pantau-bench-report" --db "$db.partial" --mentions "$n" --month 2026-11-01
  for suffix in "" -wal -shm; do [[ -f "$db.partial$suffix" ]] && mv "$db.partial$suffix" "$db$suffix"; done
fi
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
for run in 1 2; do
  /usr/bin/time -f "run $run: %e s wall, %U s user, peak RSS %M KB" \
    taskset -c 0 "$repo/target/release/pantau" report --period monthly --from 2026-11-01 \
      --now 2026-12-02T00:00:00Z --db "$db" --data-dir "$out/data" --out "$out" >/dev/null
done
ls -la "$out"/monthly-2026-11-01-2026-11-30 | head -5
