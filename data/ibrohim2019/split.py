#!/usr/bin/env python3
"""Builds train.csv and heldout.csv here from the authors' original train.csv.

    python3 data/ibrohim2019/split.py /path/to/original/train.csv

- The authors' file writes emoji and other non-ASCII characters as literal `\\xNN` byte escapes
  (`\\xf0\\x9f\\x98\\x82` for 😂); they are decoded back to UTF-8 so the classifier sees the emoji
  (an escape cut off at the end of a tweet is dropped).
- Held out (20 %, never used for training or tuning): FNV-1a 64 of the tweet's key % 5 == 0,
  where the key is the lower-cased text with `RT`, `USER`, `URL` and every non-alphanumeric
  character removed, so retweets and copies of one tweet fall on the same side.
- Columns and row order are the authors'; nothing else is changed.
"""
import csv
import re
import sys

ESC = re.compile(r"(?:\\x[0-9a-fA-F]{2})+")


def decode(text):
    def one(m):
        raw = bytes(int(h, 16) for h in re.findall(r"\\x([0-9a-fA-F]{2})", m.group(0)))
        return raw.decode("utf-8", errors="replace")

    text = ESC.sub(one, text)
    # Tweets cut in the middle of an escape leave "\\xf" or a broken character: dropped.
    return re.sub(r"\\x[0-9a-fA-F]?", "", text).replace("\ufffd", "")


def key(text):
    t = text.lower()
    t = re.sub(r"\b(rt|user|url)\b", " ", t)
    return re.sub(r"[^0-9a-z]+", "", t)


def fnv1a64(s):
    h = 0xCBF29CE484222325
    for b in s.encode("utf-8"):
        h ^= b
        h = (h * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def main():
    src = sys.argv[1]
    rows = list(csv.DictReader(open(src, newline="", encoding="utf-8")))
    fields = list(rows[0].keys())
    out = {"train": [], "heldout": []}
    for r in rows:
        r["text"] = decode(r["text"])
        out["heldout" if fnv1a64(key(r["text"])) % 5 == 0 else "train"].append(r)
    here = __file__.rsplit("/", 1)[0] if "/" in __file__ else "."
    for name, part in out.items():
        with open(f"{here}/{name}.csv", "w", newline="", encoding="utf-8") as f:
            w = csv.DictWriter(f, fieldnames=fields, lineterminator="\n")
            w.writeheader()
            w.writerows(part)
        print(name, len(part))


if __name__ == "__main__":
    main()
