#!/usr/bin/env bash
# The `watch` run over many open cases: import N complaints (each opens a case), then time
# `pantau invoke watch` at a moment when every case is due a reminder (a digest), and again when
# nothing is due, with the process's peak memory.
#   bench/watch.sh [N]   (default 5,000 open cases)
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
n="${1:-5000}"
cargo build --release --bin pantau
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
python3 - "$n" "$work/in.jsonl" <<'PY'
import datetime, json, sys
n, out = int(sys.argv[1]), sys.argv[2]
written = (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
places = ["Gresik", "Sidoarjo", "Lamongan", "Tuban", "Bojonegoro", "Jember", "Malang", "Kediri"]
things = ["jalan berlubang", "lampu PJU mati", "air PDAM tidak mengalir", "sampah menumpuk", "drainase mampet"]
with open(out, "w", encoding="utf-8") as f:
    for i in range(n):
        text = f"{things[i % len(things)].capitalize()} di {places[i % len(places)]} sudah seminggu, tolong segera diperbaiki ({i})"
        f.write(json.dumps({"platform": "api", "external_id": f"b-{i}", "text": text,
                            "created_at": written, "author": {"id": f"w{i}", "followers": 20}}) + "\n")
PY
cd "$work"
export RUST_LOG=warn
# Import at the real clock (cases open now), then watch with a fixed clock a week ahead.
"$repo/target/release/pantau" import in.jsonl --db bench.db > import.json
run() {
    local label="$1" now="$2"
    local start end
    start=$(date +%s.%N)
    /usr/bin/time -v "$repo/target/release/pantau" invoke watch --now "$now" --db bench.db > "$label.json" 2> "$label.time"
    end=$(date +%s.%N)
    python3 - "$label" "$start" "$end" <<'PY'
import json, re, sys
label, start, end = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
out = json.load(open(f"{label}.json"))
rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", open(f"{label}.time").read()).group(1)
print(json.dumps({"run": label, "cases_checked": out["cases_checked"], "reminders": out["reminders"],
                  "breaches": out["breaches"],
                  "seconds": round(end - start, 3), "peak_rss_kb": int(rss)}))
PY
}
opened=$(python3 -c "import json; print(json.load(open('import.json'))['stored'])")
echo "{\"imported\": $opened}"
# A week ahead every case has clocks past due: breaches for all, sent as one digest.
run due "$(date -u -d '+8 days' +%Y-%m-%dT%H:%M:%SZ)"
run quiet "$(date -u -d '+8 days 10 minutes' +%Y-%m-%dT%H:%M:%SZ)"
