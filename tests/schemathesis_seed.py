"""Seeds a fresh `pantau serve` for tests/schemathesis.sh, so that the operations schemathesis
calls return real content (mentions with classifications, cases with history and replies, an
answer, an alert, an approved post with two series, a reply sent on Telegram) and the examples of
shared/openapi.json address things that exist.

Usage: schemathesis_seed.py BASE_URL INGEST_KEY ADMIN_KEY
ADMIN_KEY must be the first key of PANTAU_API_KEYS (subject `key:env-1`): the answer, post and
series ids and the sent reply's occurrence the document gives as examples are derived from that
subject and the Idempotency-Keys below.
"""

import datetime
import json
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

BASE, INGEST, ADMIN = sys.argv[1], sys.argv[2], sys.argv[3]


def call(method, path, key, body=None, headers=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(BASE + path, data=data, method=method)
    req.add_header("Authorization", f"Bearer {key}")
    if data is not None:
        req.add_header("Content-Type", "application/json")
    for name, value in (headers or {}).items():
        req.add_header(name, value)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            raw = resp.read()
            return resp.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def expect(status, got, what):
    if got[0] != status:
        sys.exit(f"seed: {what}: expected {status}, got {got[0]}: {got[1]}")
    return got[1]


def path(value):
    return urllib.parse.quote(value, safe="")


now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)


def ago(hours):
    return (now - datetime.timedelta(hours=hours)).isoformat().replace("+00:00", "Z")


doc = expect(200, call("GET", "/v1/openapi.json", ""), "the document")
example = lambda p, method, name: next(  # noqa: E731
    x["example"] for x in doc["paths"][p][method]["parameters"] if x["name"] == name
)
mention_key = example("/v1/mentions/{key}", "get", "key")
author = example("/v1/authors/{author}", "get", "author")
author_to_erase = example("/v1/authors/{author}", "delete", "author")
answer_id = example("/v1/answers/{id}", "get", "id")
answer_to_delete = example("/v1/answers/{id}", "delete", "id")
assert (mention_key, author, author_to_erase) == ("api:lapor-9001", "api:warga-1", "api:warga-hapus")


def mention(external_id, author_id, text, hours, **extra):
    m = {"platform": "api", "external_id": external_id, "text": text, "created_at": ago(hours)}
    m["author"] = {"id": author_id, **extra.pop("author", {})}
    m.update(extra)
    return m


batch = {
    "mentions": [
        mention(
            "lapor-9001",
            "warga-1",
            "Jalan raya Lamongan–Babat rusak parah dan berlubang, sudah tiga bulan tidak diperbaiki. "
            "Mohon segera ditindaklanjuti.",
            5,
            author={"name": "Bu Sri", "followers": 120},
            url="https://lapor.example/9001",
        ),
        mention(
            "lapor-9002",
            "warga-1",
            "Terima kasih Pemprov Jatim, pelayanan Samsat sekarang cepat sekali",
            4,
            thread_id="t-1",
            has_media=True,
        ),
        mention(
            "lapor-9003",
            "warga-hapus",
            "Kapan pendaftaran PPDB SMA negeri dibuka? Syaratnya apa saja?",
            3,
            parent_id="lapor-9001",
        ),
        mention("lapor-9004", "berita.example", "Pemprov Jatim gelar pasar murah di 38 kabupaten dan kota", 2),
        mention(
            "lapor-9005",
            "akun-besar",
            "Gubernur goblok, kerjanya cuma pencitraan, bansos dikorupsi semua",
            1,
            author={"handle": "akun_besar", "followers": 250000},
        ),
    ]
}
stats = expect(200, call("POST", "/v1/mentions", INGEST, batch), "ingest")
assert stats["stored"] == 5, stats

# Classification runs in-process; wait for the cases it opens.
deadline = time.time() + 60
for case_id in ("api:lapor-9001", "api:lapor-9003"):
    while call("GET", f"/v1/cases/{path(case_id)}", ADMIN)[0] != 200:
        if time.time() > deadline:
            sys.exit(f"seed: no case {case_id} after classification")
        time.sleep(0.3)

answer = {
    "title": "Perbaikan jalan provinsi",
    "text": "Laporan jalan rusak kami teruskan ke Dinas PU Bina Marga untuk dijadwalkan perbaikannya.",
    "link": "https://dpubinamarga.jatimprov.go.id/",
    "topics": ["infrastruktur_jalan"],
    "categories": ["pengaduan"],
    "variants": {"x": "Laporan diteruskan ke Dinas PU Bina Marga. Terima kasih!"},
}
created = expect(201, call("POST", "/v1/answers", ADMIN, answer, {"Idempotency-Key": "seed-answer-jalan"}), "answer")
assert created["id"] == answer_id, f"the document's example answer id {answer_id} is not the seeded {created['id']}"
spare = dict(answer, title="Jawaban cadangan", topics=[], categories=[], variants={})
spare = expect(201, call("POST", "/v1/answers", ADMIN, spare, {"Idempotency-Key": "seed-answer-hapus"}), "answer 2")
assert spare["id"] == answer_to_delete, f"the document's answer to delete {answer_to_delete} is not {spare['id']}"

ppdb = f"/v1/cases/{path('api:lapor-9003')}"
expect(200, call("POST", f"{ppdb}/transitions", ADMIN, {"to": "diverifikasi", "note": "cek jadwal"}), "transition")
expect(200, call("PUT", f"{ppdb}/assignment", ADMIN, {"assignee": "sari", "unit": "Dinas Pendidikan"}), "assign")
reply = {"text": "Pendaftaran PPDB dibuka Juni; syaratnya di situs Dinas Pendidikan.", "url": "https://ppdb.example/"}
expect(201, call("POST", f"{ppdb}/replies", ADMIN, reply, {"Idempotency-Key": "seed-reply"}), "reply")
expect(200, call("POST", f"/v1/mentions/{path('api:lapor-9002')}/correction", ADMIN, {"sentiment": "netral"}), "fix")

# The influential hater raises an alert, recorded by `watch` for GET /v1/alerts.
while not expect(200, call("GET", "/v1/alerts", ADMIN), "alerts")["items"]:
    if time.time() > deadline:
        sys.exit("seed: no alert recorded for the influential hater")
    time.sleep(0.3)

export = expect(200, call("GET", f"/v1/authors/{path(author)}", ADMIN), "export")
assert len(export["mentions"]) == 2 and export["cases"], export

# The content calendar: an approved post, a series of it and one to cancel (from tomorrow, WIB).
post_id = example("/v1/posts/{id}", "get", "id")
series_id = example("/v1/series/{id}", "get", "id")
series_to_cancel = example("/v1/series/{id}", "delete", "id")
reply_occurrence = example("/v1/occurrences/{id}", "get", "id")
post = {
    "title": "Pasar murah Desember",
    "text": "Pasar murah Pemprov Jatim hadir di 38 kabupaten dan kota. Cek jadwal dan lokasinya!",
    "variants": {"x": {"alternatives": ["Pasar murah kembali hadir di 38 kabupaten/kota se-Jawa Timur."]}},
    "link": "https://jatimprov.go.id/pasar-murah",
    "hashtags": ["PasarMurahJatim"],
    "platforms": ["x", "facebook", "telegram"],
}
created = expect(201, call("POST", "/v1/posts", ADMIN, post, {"Idempotency-Key": "seed-post"}), "post")
assert created["id"] == post_id, f"the document's example post id {post_id} is not the seeded {created['id']}"
approved = expect(200, call("POST", f"/v1/posts/{post_id}/approval", ADMIN, {"revision": 0}), "approval")
assert approved["status"] == "disetujui", approved
tomorrow = ((now + datetime.timedelta(hours=7)).date() + datetime.timedelta(days=1)).isoformat()
for key, want, times in (
    ("seed-series", series_id, ["09:00", "19:00"]),
    ("seed-series-cancel", series_to_cancel, ["12:00"]),
):
    series = {"post_id": post_id, "schedule": {"start": tomorrow, "times_wib": times, "run_days": 3}}
    made = expect(201, call("POST", "/v1/series", ADMIN, series, {"Idempotency-Key": key}), "series")
    assert made["id"] == want, f"the document's example series id {want} is not the seeded {made['id']}"
    assert made["upcoming"], made

# A reply sent from the inbox on Telegram (the local outbox publishes it): an occurrence to read.
telegram = {
    "platform": "telegram",
    "external_id": "-1001234567890.4521",
    "text": "Lampu penerangan jalan di Jl. Ahmad Yani Surabaya mati semua sejak seminggu, mohon diperbaiki.",
    "created_at": ago(1),
    "author": {"id": "5551234", "name": "Pak Budi"},
}
expect(200, call("POST", "/v1/mentions", ADMIN, {"mentions": [telegram]}), "telegram mention")
telegram_case = f"/v1/cases/{path('telegram:' + telegram['external_id'])}"
while call("GET", telegram_case, ADMIN)[0] != 200:
    if time.time() > deadline:
        sys.exit("seed: no case for the telegram mention after classification")
    time.sleep(0.3)
sent = {"text": "Terima kasih, laporan lampu PJU sudah kami teruskan ke Dishub Surabaya.", "send": True}
status, view = call("POST", f"{telegram_case}/replies", ADMIN, sent, {"Idempotency-Key": "seed-reply-sent"})
if status not in (201, 202):
    sys.exit(f"seed: sent reply: expected 201 or 202, got {status}: {view}")
delivery = view["delivery"]
assert delivery["id"] == reply_occurrence, f"the document's occurrence {reply_occurrence} is not {delivery['id']}"
# Known accounts: the one the document reads and changes, and the one it deletes.
for account, kind, tier in (
    (example("/v1/accounts/{account}", "get", "account"), "pengkritik", "besar"),
    (example("/v1/accounts/{account}", "delete", "account"), "media", "sangat_besar"),
):
    known = {"kind": kind, "influence": tier, "name": f"Akun {account}", "notes": "Didaftarkan oleh seed"}
    expect(201, call("PUT", f"/v1/accounts/{path(account)}", ADMIN, known), f"known account {account}")

print(
    f"seed: 6 mentions, 3 cases, 2 answers, 2 known accounts, {len(export['mentions'])} mentions of {author}, a post with 2 series, "
    f"a reply sent ({delivery['state']})",
    file=sys.stderr,
)
