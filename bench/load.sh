#!/usr/bin/env bash
# Load run: pantau serve (release, fresh database) on loopback, signed unique Meta deliveries
# at a fixed concurrency; prints throughput, latency percentiles and stored == accepted.
#   bench/load.sh [REQUESTS] [CONCURRENCY]
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
requests="${1:-20000}"
concurrency="${2:-32}"
cargo build --release --bin pantau --bin pantau-load
work="$(mktemp -d)"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
PANTAU_META_APP_SECRET=bench-secret PANTAU_API_KEYS=bench-key RUST_LOG=warn \
  target/release/pantau serve --addr "127.0.0.1:$port" --db "$work/pantau.db" --data-dir "$work/data" >/dev/null 2>"$work/serve.log" &
server=$!
trap 'kill $server 2>/dev/null || true; wait $server 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 100); do (echo > "/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
# Warm-up, then the measured run.
target/release/pantau-load --url "http://127.0.0.1:$port" --requests 2000 --concurrency "$concurrency" \
  --meta-secret bench-secret --api-key bench-key --run warm >/dev/null
sleep 2
target/release/pantau-load --url "http://127.0.0.1:$port" --requests "$requests" --concurrency "$concurrency" \
  --meta-secret bench-secret --api-key bench-key --run main
grep -E "peak|VmHWM" /proc/$server/status || true
