#!/usr/bin/env bash
# Heavy listings beside webhook load: a database of MENTIONS (default 200,000) mentions over the
# last year, then signed Meta deliveries at CONCURRENCY (default 8), first alone, then with four
# clients looping on the heaviest listings (topics and case statuses over a whole year).
# Prints each run's webhook and listing latencies.
#   bench/listing.sh [MENTIONS] [REQUESTS] [CONCURRENCY]
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
mentions="${1:-200000}"
requests="${2:-10000}"
concurrency="${3:-8}"
cargo build --release --bin pantau --bin pantau-load
work="$(mktemp -d)"
trap 'kill ${server:-} 2>/dev/null || true; wait ${server:-} 2>/dev/null || true; rm -rf "$work"' EXIT
python3 - "$mentions" "$work/mentions.csv" <<'PY'
import csv, random, sys, datetime
n, path = int(sys.argv[1]), sys.argv[2]
random.seed(20261203)
texts = [
    "Jalan provinsi di {p} rusak parah, tolong segera diperbaiki",
    "Kapan pendaftaran beasiswa Jatim Cerdas dibuka min?",
    "Terima kasih Pemprov Jatim, pelayanan Samsat makin cepat",
    "Banjir lagi di {p}, warga mengungsi, mohon bantuan",
    "Usul pak, tambah armada bus Trans Jatim ke {p}",
    "wkwk macet parah di {p} pagi ini",
    "Harga beras di pasar {p} naik terus, tolong operasi pasar",
    "PPDB SMA tahun ini ribet, server sering down",
]
places = ["Sidoarjo", "Gresik", "Lamongan", "Jember", "Malang", "Tuban", "Bojonegoro", "Kediri", "Blitar", "Madiun"]
platforms = ["facebook", "instagram", "x", "telegram", "youtube", "whatsapp", "news"]
end = datetime.datetime(2026, 12, 2, tzinfo=datetime.timezone.utc)
with open(path, "w", newline="", encoding="utf-8") as f:
    w = csv.writer(f)
    w.writerow(["platform", "external_id", "text", "created_at", "author_id", "author_followers"])
    for i in range(n):
        at = end - datetime.timedelta(seconds=random.randrange(365 * 86400))
        text = random.choice(texts).format(p=random.choice(places)) + f" #{i}"
        w.writerow([random.choice(platforms), f"bench-{i}", text, at.strftime("%Y-%m-%dT%H:%M:%SZ"), f"u{i % 20000}", random.randrange(50000)])
PY
start=$(date +%s)
RUST_LOG=warn target/release/pantau import "$work/mentions.csv" --db "$work/pantau.db" --data-dir "$work/data" >/dev/null 2>&1
echo "imported and classified $mentions mentions in $(( $(date +%s) - start )) s" >&2
PANTAU_META_APP_SECRET=bench-secret PANTAU_API_KEYS=bench-key RUST_LOG=warn \
  target/release/pantau serve --addr 127.0.0.1:0 --db "$work/pantau.db" --data-dir "$work/data" >/dev/null 2>"$work/serve.log" &
server=$!
for _ in $(seq 1 100); do grep -q "serving on" "$work/serve.log" 2>/dev/null && break; sleep 0.1; done
url="$(sed -n 's/^pantau: serving on //p' "$work/serve.log" | head -n 1)"
# Over a whole year: a topic no mention has and one many have, a case status no case has and
# the one most have (before the indexes, each of these walked the year's mentions).
year="from=2025-12-04&to=2026-12-03&limit=50"
heavy=("$year&topic=stunting" "$year&topic=infrastruktur_jalan" "$year&case_status=selesai" "$year&case_status=baru")
target/release/pantau-load --url "$url" --requests 2000 --concurrency "$concurrency" \
  --meta-secret bench-secret --api-key bench-key --run warm >/dev/null
echo "== webhooks alone" >&2
target/release/pantau-load --url "$url" --requests "$requests" --concurrency "$concurrency" \
  --meta-secret bench-secret --api-key bench-key --run alone
echo "== webhooks with 4 clients on the heaviest listings" >&2
target/release/pantau-load --url "$url" --requests "$requests" --concurrency "$concurrency" \
  --meta-secret bench-secret --api-key bench-key --run beside \
  --listing-clients 4 --listing-query "${heavy[0]}" --listing-query "${heavy[1]}" \
  --listing-query "${heavy[2]}" --listing-query "${heavy[3]}"
grep -E "VmHWM" /proc/$server/status || true
