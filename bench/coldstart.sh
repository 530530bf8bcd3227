#!/usr/bin/env bash
# Cold starts of the seven Lambda functions under a local Lambda Runtime API
# (bench/runtime_api.py), with their SDK clients against the local AWS emulator (moto):
#   1. builds each function in release for this machine (x86_64: it cannot run the arm64
#      artefacts, so the figures are x86_64 proxies), the seven packages alone so that the
#      bundled SQLite stays out as in the Lambda build, and checks that it did;
#   2. starts moto on a free loopback port, and bench/src/coldstart.rs creates the tables
#      (from the template's definitions), the bus, the bucket and the secret, and writes each
#      function's environment (the template's, resolved), memory, timeout and first events;
#   3. starts each bootstrap RUNS times (default 5), each with a new first event, and prints
#      the time to the first `next` (init), to the first response, and the peak RSS.
#   bench/coldstart.sh [RUNS] [FUNCTION...]     (default 5 runs of all seven)
# Results: target/coldstart/results.jsonl (one line per start) and the table on stdout.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
runs="${1:-5}"
functions=(ingest-webhook ingest-poll classify publish report watch api)
if [[ $# -gt 1 ]]; then functions=("${@:2}"); fi
target="${CARGO_TARGET_DIR:-$repo/target}"
out="$target/coldstart"

packages=()
for f in "${functions[@]}"; do packages+=(-p "$f"); done
cargo build --release --bin pantau-bench-coldstart
cargo build --release "${packages[@]}"
for f in "${functions[@]}"; do
  if grep -q -a 'sqlite3_' "$target/release/$f"; then
    echo "coldstart: $f links SQLite; it must not" >&2; exit 1
  fi
done

venv="$(tests/venv)"
port="$("$venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
rm -rf "$out" && mkdir -p "$out"
"$venv/bin/moto_server" -H 127.0.0.1 -p "$port" >"$out/moto.log" 2>&1 &
moto_pid=$!
trap 'kill "$moto_pid" 2>/dev/null || true; wait "$moto_pid" 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  "$venv/bin/python" -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/moto-api/', timeout=1)" 2>/dev/null && break
  kill -0 "$moto_pid" 2>/dev/null || { echo "coldstart: moto failed to start" >&2; cat "$out/moto.log" >&2; exit 1; }
  sleep 0.2
done

RUST_LOG=warn "$target/release/pantau-bench-coldstart" --endpoint "http://127.0.0.1:$port" --out "$out" --runs "$runs"

status=0
for f in "${functions[@]}"; do
  events=()
  for run in $(seq 1 "$runs"); do events+=(--event "$out/$f-$run.json"); done
  python3 bench/runtime_api.py --function "$f" --env-file "$out/$f.env" --config "$out/$f.config" \
    "${events[@]}" --log "$out/$f.log" -- "$target/release/$f" | tee -a "$out/results.jsonl" || status=1
done
echo
python3 bench/runtime_api.py --summary "$out/results.jsonl"
exit "$status"
