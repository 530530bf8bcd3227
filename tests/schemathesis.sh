#!/usr/bin/env bash
# Property-based test of `pantau serve` against its own OpenAPI document (shared/openapi.json,
# served at /v1/openapi.json) with schemathesis: a fresh server on a free loopback port and a
# temporary database, a little real data (tests/schemathesis_seed.py), an admin key from
# `pantau keys create`, then every operation with generated valid and invalid input. Fails on
# a 5xx, a status, content type or body the document does not give, a 401 not enforced, or a
# panic in the server's log. Reproducible: fixed seed, bounded examples.
#   PANTAU_BIN: the `pantau` binary to test (default: built here with cargo);
#   SCHEMATHESIS_MAX_EXAMPLES (default 200) bounds the examples per operation and phase;
#   SCHEMATHESIS_SEED, SCHEMATHESIS_CHECKS and SCHEMATHESIS_ARGS (extra options) are for exploring.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

venv="$(tests/venv)"
bin="${PANTAU_BIN:-}"
if [[ -z "$bin" ]]; then
  cargo build --quiet -p pantau-local
  bin="${CARGO_TARGET_DIR:-$repo/target}/debug/pantau"
fi
[[ -x "$bin" ]] || { echo "schemathesis: no pantau binary at $bin" >&2; exit 1; }
work="$(mktemp -d -t pantau-schemathesis.XXXXXX)"
# A copy of the binary under test, so a concurrent build cannot swap it mid-run.
cp "$bin" "$work/pantau"
py="$venv/bin/python"
port="$("$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
bootstrap="$("$py" -c 'import secrets; print(secrets.token_hex(24))')"
base="http://127.0.0.1:$port"

env -u PANTAU_META_APP_SECRET -u PANTAU_X_CONSUMER_SECRET -u PANTAU_TELEGRAM_SECRET_TOKEN \
  PANTAU_API_KEYS="$bootstrap" RUST_LOG=warn \
  "$work/pantau" serve --addr "127.0.0.1:$port" --db "$work/pantau.db" --data-dir "$work/data" \
  >/dev/null 2>"$work/serve.log" &
serve_pid=$!
trap 'kill "$serve_pid" 2>/dev/null || true; wait "$serve_pid" 2>/dev/null || true; rm -rf "$work"' EXIT

for _ in $(seq 1 100); do
  if "$py" -c "import urllib.request; urllib.request.urlopen('$base/v1/openapi.json', timeout=1)" 2>/dev/null; then
    break
  fi
  if ! kill -0 "$serve_pid" 2>/dev/null; then
    echo "schemathesis: pantau serve failed to start:" >&2; cat "$work/serve.log" >&2; exit 1
  fi
  sleep 0.2
done

key() { "$work/pantau" keys create --role "$1" --label schemathesis --db "$work/pantau.db" 2>/dev/null; }
admin="$(key admin)"
ingest="$(key ingest)"
"$py" tests/schemathesis_seed.py "$base" "$ingest" "$bootstrap"
# schemathesis keeps its working files in the current folder: keep them out of the repository.
cd "$work"

# Every check but positive_data_acceptance: the document cannot say that a listing covers at
# most 366 days, that topics must be in the taxonomy or that a cursor must be one we issued, so
# schema-valid requests are refused there by design (400).
checks=not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance
checks+=,response_headers_conformance,negative_data_rejection,missing_required_header,ignored_auth
checks+=,unsupported_method,allow_header_conformance,use_after_free,ensure_resource_availability
cmd=(
  "$venv/bin/schemathesis" run "$base/v1/openapi.json"
  --header "Authorization: Bearer $admin"
  --checks "${SCHEMATHESIS_CHECKS:-$checks}"
  --seed "${SCHEMATHESIS_SEED:-20261127}"
  --max-examples "${SCHEMATHESIS_MAX_EXAMPLES:-200}"
  --workers 1
  --generation-database none
  --request-timeout 10
  --no-color
  ${SCHEMATHESIS_ARGS:-}
)
echo "schemathesis: ${cmd[*]/$admin/<admin key>}" >&2
status=0
"${cmd[@]}" || status=$?
if grep -n "panicked" "$work/serve.log" >&2; then
  echo "schemathesis: pantau serve panicked (above)" >&2
  status=1
fi
exit "$status"
