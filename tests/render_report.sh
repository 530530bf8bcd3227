#!/usr/bin/env bash
# The demo's report as a person opens it: headless Chromium (Debian's `chromium`, installed here
# with apt-get when missing) loads report.html and report.en.html at phone width (412 px); a probe
# copy of each page checks that nothing is fetched from outside the file, that every chart
# (each inline <svg>) has a size, that the page is no wider than the phone and that no script
# error happened; then the page is captured as a phone screenshot and printed to A4 PDF into
# target/report-render/ for people to look at.
#   PANTAU_BIN: the `pantau` binary (default: built here with cargo).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

if ! command -v chromium >/dev/null; then
  echo "render_report: installing chromium (apt-get)" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >&2
fi
bin="${PANTAU_BIN:-}"
if [[ -z "$bin" ]]; then
  cargo build --quiet -p pantau-local
  bin="${CARGO_TARGET_DIR:-$repo/target}/debug/pantau"
fi
work="$(mktemp -d -t pantau-render.XXXXXX)"
trap 'rm -rf "$work"' EXIT
"$bin" demo --out "$work/demo" >/dev/null
pages="$work/demo/reports/daily/2026-11-16_2026-11-16"
artifacts="$repo/target/report-render"
mkdir -p "$artifacts"
chrome=(chromium --headless=new --no-sandbox --disable-gpu --hide-scrollbars --no-first-run
  --disable-dev-shm-usage --user-data-dir="$work/profile")

# Chromium's headless window is never narrower than 500 px: the page is loaded into a 412-px
# frame of a probe page, served from loopback so the probe may look inside the frame.
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
python3 -m http.server "$port" --bind 127.0.0.1 --directory "$pages" >/dev/null 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 50); do
  python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/report.html', timeout=1)" 2>/dev/null && break
  sleep 0.1
done
for page in report.html report.en.html; do
  cat > "$pages/probe-$page" <<HTML
<!DOCTYPE html><html><body style="margin:0"><iframe id="f" src="$page" style="width:412px;height:2400px;border:0"></iframe>
<pre id="probe"></pre><script>
const f = document.getElementById('f');
f.addEventListener('load', () => {
  const w = f.contentWindow, d = f.contentDocument;
  const charts = [...d.querySelectorAll('svg')].map(s => { const r = s.getBoundingClientRect(); return [r.width, r.height]; });
  document.getElementById('probe').textContent = JSON.stringify({
    charts: charts.length,
    unsized: charts.filter(([cw, ch]) => !(cw > 0 && ch > 0)).length,
    resources: w.performance.getEntriesByType('resource').map(r => r.name),
    scripts: d.querySelectorAll('script').length,
    width: d.documentElement.scrollWidth,
    viewport: w.innerWidth,
    title: d.title,
  });
});
</script></body></html>
HTML
  "${chrome[@]}" --window-size=500,900 --virtual-time-budget=5000 --dump-dom "http://127.0.0.1:$port/probe-$page" \
    2>"$work/chrome.log" >"$work/dom.html"
  python3 - "$work/dom.html" "$page" <<'PY'
import html, json, re, sys
dom = open(sys.argv[1], encoding="utf-8").read()
found = re.search(r'<pre id="probe">(.*?)</pre>', dom, re.S)
assert found and found.group(1).strip(), "the probe did not run (the page did not load)"
r = json.loads(html.unescape(found.group(1)))
page = sys.argv[2]
problems = []
if r["viewport"] != 412: problems.append(f"not loaded at phone width: {r['viewport']} px")
if r["charts"] < 5: problems.append(f"only {r['charts']} charts")
if r["unsized"]: problems.append(f"{r['unsized']} charts without a size")
if r["resources"]: problems.append(f"fetched from outside the file: {r['resources']}")
if r["scripts"]: problems.append(f"{r['scripts']} scripts in a page that needs none")
if r["width"] > r["viewport"]: problems.append(f"wider than the phone: {r['width']} > {r['viewport']} px")
if problems:
    sys.exit(f"render_report: {page}: " + "; ".join(problems))
print(f"render_report: {page} at {r['viewport']} px: {r['charts']} charts, all sized; nothing fetched; no script; not wider than the screen — {r['title']}")
PY
  if grep -E "Uncaught|ERROR:CONSOLE" "$work/chrome.log"; then
    echo "render_report: $page: errors while loading" >&2; exit 1
  fi
  stem="${page%.html}"
  "${chrome[@]}" --window-size=412,2400 --screenshot="$artifacts/$stem-phone.png" "http://127.0.0.1:$port/probe-$page" 2>>"$work/chrome.log"
  "${chrome[@]}" --no-pdf-header-footer --print-to-pdf="$artifacts/$stem.pdf" "http://127.0.0.1:$port/$page" 2>>"$work/chrome.log"
  size="$(stat -c %s "$artifacts/$stem.pdf")"
  [[ "$size" -gt 20000 ]] || { echo "render_report: $stem.pdf is only $size bytes" >&2; exit 1; }
done
cp "$pages/report.html" "$artifacts/report.html"
echo "render_report: screenshots and PDFs in $artifacts" >&2
