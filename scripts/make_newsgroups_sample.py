"""Make the small 20 Newsgroups sample shipped with the package (the demo's text corpus).

Reads ``../shared/data/20newsgroups_train.jsonl.gz`` (the "bydate" training split, collected
by Ken Lang) and writes ``latentmodels/data/newsgroups_2k.jsonl.gz``: the first
``--per-group`` posts of each newsgroup in file order, quoted reply lines (starting with
``>``), reply attributions, e-mail addresses and uuencoded lines removed, each body cut
at ``--max-chars`` on a line boundary.
Empty bodies are skipped. Fields kept: ``id``, ``newsgroup``, ``text``.

    .venv/bin/python scripts/make_newsgroups_sample.py
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# uuencoded data: 61-character lines starting with "M" and holding no spaces
_UUENCODED = re.compile(r"^M\S{59,61}$")
# e-mail addresses and reply attributions ("In article <...>, x@y.edu writes:") would make
# "edu"/"com"/"article" the top words of every topic
_EMAIL = re.compile(r"\S+@\S+")
_ATTRIBUTION = re.compile(r"(^in article\b)|(\bwrites:\s*$)|(\bwrote:\s*$)", re.IGNORECASE)


def clean(text: str, max_chars: int) -> str:
    kept: list[str] = []
    size = 0
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith(">") or _UUENCODED.match(stripped) or stripped.startswith("begin 6"):
            continue
        if _ATTRIBUTION.search(stripped):
            continue
        line = _EMAIL.sub("", line)
        if size + len(line) + 1 > max_chars:
            break
        kept.append(line)
        size += len(line) + 1
    return "\n".join(kept).strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--source", default=str(ROOT.parent / "shared" / "data" /
                                                "20newsgroups_train.jsonl.gz"))
    parser.add_argument("--out", default=str(ROOT / "latentmodels" / "data" /
                                             "newsgroups_2k.jsonl.gz"))
    parser.add_argument("--per-group", type=int, default=100)
    parser.add_argument("--max-chars", type=int, default=2000)
    args = parser.parse_args()
    taken: dict[str, int] = {}
    records = []
    with gzip.open(args.source, "rt", encoding="utf-8") as lines:
        for line in lines:
            record = json.loads(line)
            group = record["newsgroup"]
            if taken.get(group, 0) >= args.per_group:
                continue
            text = clean(record["text"], args.max_chars)
            if len(text.split()) < 10:
                continue
            taken[group] = taken.get(group, 0) + 1
            records.append({"id": record["id"], "newsgroup": group, "text": text})
    records.sort(key=lambda r: r["id"])
    # mtime=0: the same input gives a byte-identical file
    with open(args.out, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as out:
        for record in records:
            out.write((json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8"))
    print(f"{len(records)} documents from {len(taken)} groups -> {args.out}")


if __name__ == "__main__":
    main()
