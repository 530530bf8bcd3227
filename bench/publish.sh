#!/usr/bin/env bash
# One publish tick over N due occurrences (default 10,000) against local servers playing X,
# Graph and Telegram, on a fresh SQLite store: time, peak memory, and exactly one platform call
# per occurrence (the program fails otherwise). Then the same at concurrency 1 and 64.
#   bench/publish.sh [N]
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
n="${1:-10000}"
cargo build --release --bin pantau-bench-publish
export RUST_LOG=warn
for c in 16 1 64; do
  "$repo/target/release/pantau-bench-publish" --occurrences "$n" --concurrency "$c"
done
