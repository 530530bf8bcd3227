#!/usr/bin/env bash
# `pantau classify` against a scikit-learn baseline, side by side in one run, on the same
# 100,000 real tweets (ibrohim2019's held-out part and EmoT's validation tweets, repeated).
#
#   bench/classify.sh [MESSAGES]      (default 100000)
#
# - pantau: the built-in model, `pantau classify` end to end (CSV in, JSON lines out) on one
#   core (taskset -c 0), timed with its peak memory.
# - baseline: TF-IDF (word 1–2-grams + character 2–5-grams, sublinear tf) + LogisticRegression
#   (scikit-learn, pinned below, in its own venv under the target directory's bench-sklearn), trained on the
#   single-label part of the same training data (the office's and data/social's categories;
#   ibrohim2019's hate speech with a target as `hater` and tweets without hate speech or abusive
#   words as `lainnya` — the partial "not hater" labels Pantau also learns from have no
#   equivalent there). Its predict time (vectorise + predict, one thread) is what is compared.
# - quality: category macro-F1 of both on data/realistic/final.csv (evaluation only) and
#   data/category/test.csv.
# Not part of the test command (tests/run); run it by hand. It downloads scikit-learn from PyPI
# the first time.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
messages="${1:-100000}"
# Honours CARGO_TARGET_DIR (a target directory of one's own, away from other builds).
target="${CARGO_TARGET_DIR:-$repo/target}"
cargo build --release --bin pantau
pantau="$target/release/pantau"
venv="$target/bench-sklearn"
if [[ ! -x "$venv/bin/python" ]]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet "scikit-learn==1.6.1" "numpy==2.2.4" "scipy==1.15.2"
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1

python3 - "$messages" "$work/in.csv" <<'PY'
import csv, sys
n, out = int(sys.argv[1]), sys.argv[2]
texts = [r["text"] for r in csv.DictReader(open("data/ibrohim2019/heldout.csv", newline="", encoding="utf-8"))]
texts += [r["text"] for r in csv.DictReader(open("data/emot/valid.csv", newline="", encoding="utf-8"))]
with open(out, "w", newline="", encoding="utf-8") as f:
    w = csv.writer(f)
    w.writerow(["id", "text"])
    for i in range(n):
        w.writerow([i, texts[i % len(texts)]])
PY

# pantau, one core.
start=$(date +%s.%N)
/usr/bin/time -v taskset -c 0 "$pantau" classify --input "$work/in.csv" --output "$work/out.jsonl" \
    2> "$work/time.txt"
end=$(date +%s.%N)
peak=$(grep "Maximum resident set size" "$work/time.txt" | awk '{print $NF}')
pantau_seconds=$(python3 -c "print($end - $start)")
f1() { "$pantau" eval --input "$1" --json | python3 -c "import json,sys; print(json.load(sys.stdin)['category']['macro_f1'])"; }
pantau_real=$(f1 data/realistic/final.csv)
pantau_tidy=$(f1 data/category/test.csv)

# scikit-learn, one thread.
taskset -c 0 "$venv/bin/python" - "$work/in.csv" "$pantau_seconds" "$pantau_real" "$pantau_tidy" "$peak" <<'PY'
import csv, json, sys, time
import numpy as np
from scipy.sparse import hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score

inp, p_sec, p_real, p_tidy, peak = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
rows = lambda p: list(csv.DictReader(open(p, newline="", encoding="utf-8")))
X, y = [], []
for p in ["data/category/train.csv", "data/social/train.csv"]:
    for r in rows(p):
        X.append(r["text"]); y.append(r["category"])
for r in rows("data/ibrohim2019/train.csv"):
    targeted = r["hs"] == "1" and (r["hs_individual"] == "1" or r["hs_group"] == "1")
    if targeted and (r["abusive"] == "1" or r["hs_weak"] != "1"):
        X.append(r["text"]); y.append("hater")
    elif r["hs"] == "0" and r["abusive"] == "0":
        X.append(r["text"]); y.append("lainnya")
word = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1, lowercase=True)
char = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2, lowercase=True)
t0 = time.perf_counter()
F = hstack([word.fit_transform(X), char.fit_transform(X)]).tocsr()
clf = LogisticRegression(max_iter=2000, C=10.0, class_weight="balanced")
clf.fit(F, y)
train_s = time.perf_counter() - t0

def predict(texts):
    return clf.predict(hstack([word.transform(texts), char.transform(texts)]).tocsr())

bench = [r["text"] for r in rows(inp)]
t0 = time.perf_counter()
predict(bench)
sk_sec = time.perf_counter() - t0

def macro(path):
    data = rows(path)
    labels = sorted({r["category"] for r in data})
    return f1_score([r["category"] for r in data], predict([r["text"] for r in data]), average="macro", labels=labels)

out = {
    "messages": len(bench),
    "pantau": {"seconds": round(p_sec, 3), "messages_per_second": round(len(bench) / p_sec),
               "peak_rss_kb": int(peak), "macro_f1_realistic": round(p_real, 4), "macro_f1_tidy_test": round(p_tidy, 4),
               "measures": "pantau classify end to end: CSV in, JSON lines with reasons out, one core"},
    "sklearn": {"seconds": round(sk_sec, 3), "messages_per_second": round(len(bench) / sk_sec),
                "train_seconds": round(train_s, 1),
                "macro_f1_realistic": round(macro("data/realistic/final.csv"), 4),
                "macro_f1_tidy_test": round(macro("data/category/test.csv"), 4),
                "measures": "TfidfVectorizer.transform (word 1-2 + char 2-5) + LogisticRegression.predict, one thread"},
}
out["speedup"] = round(out["pantau"]["messages_per_second"] / out["sklearn"]["messages_per_second"], 1)
print(json.dumps(out, indent=2))
PY
