#!/usr/bin/env bash
# `pantau classify` over 100,000+ messages (the held-out test texts, repeated with an id),
# timed, with the process's peak memory.
#   bench/classify.sh [COPIES]   (default 200 copies of the 500 test texts = 100,000 messages)
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
copies="${1:-200}"
cargo build --release --bin pantau
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
python3 - "$copies" "$work/in.csv" <<'PY'
import csv, sys
copies, out = int(sys.argv[1]), sys.argv[2]
texts = [r["text"] for r in csv.DictReader(open("data/category/test.csv", newline="", encoding="utf-8"))]
with open(out, "w", newline="", encoding="utf-8") as f:
    w = csv.writer(f)
    w.writerow(["id", "text"])
    for c in range(copies):
        for i, t in enumerate(texts):
            w.writerow([f"{c}-{i}", t])
PY
rows=$(($(wc -l < "$work/in.csv") - 1))
start=$(date +%s.%N)
/usr/bin/time -v target/release/pantau classify --input "$work/in.csv" --output "$work/out.jsonl" 2> "$work/time.txt"
end=$(date +%s.%N)
out_rows=$(wc -l < "$work/out.jsonl")
seconds=$(python3 -c "print(round($end - $start, 3))")
peak=$(grep "Maximum resident set size" "$work/time.txt" | awk '{print $NF}')
echo "{\"messages\": $rows, \"output_lines\": $out_rows, \"seconds\": $seconds, \"messages_per_second\": $(python3 -c "print(round($rows / ($end - $start)))"), \"peak_rss_kb\": $peak}"
