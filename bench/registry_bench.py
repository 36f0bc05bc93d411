"""Registry at scale: N generated records (no OCR) on the embedded SQLite default.

Measures owner look-up (the query API by owner, and the procedure look-up) and full-text
query latency, p50 and p99, through the real storage functions, and the database size.

    .venv/bin/python bench/registry_bench.py                # 1,000,000 records
    .venv/bin/python bench/registry_bench.py --records 20000 --db /tmp/small.db
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import statistics
import sys
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from storage.db import make_engine, migrate, session_factory  # noqa: E402
from storage.query import DocumentQuery, find_documents  # noqa: E402
from storage.reuse import look_up  # noqa: E402
from storage.search import canonical, fold  # noqa: E402

ONSETS = "b c ch d đ g gi h k kh l m n ng nh p ph qu r s t th tr v x".split(" ")  # noqa: SIM905
RHYMES = "a ai am an ang anh ao au ay e em en eng i ia im in inh iêu o oa oai oan oi om on ong "
RHYMES += "ô ôi ôm ôn ông ơ ơi ơn u ua ui um un ung uy uyên ư ưa ưi ưng ươi ương ướt"
TONES = ["", "\u0301", "\u0300", "\u0309", "\u0303", "\u0323"]
TYPES = ["can_cuoc", "giay_khai_sinh", "gcn_qsdd", "giay_phep_xay_dung", "ban_ve",
         "quyet_dinh", "don_to_khai", "giay_cn_dkdn", "ho_khau", "khac"]  # fmt: skip
HEADER = "Cộng hòa xã hội chủ nghĩa Việt Nam Độc lập Tự do Hạnh phúc"


def vocabulary(rng: random.Random, size: int) -> list[str]:
    import unicodedata

    words: set[str] = set()
    rhymes = RHYMES.split()
    while len(words) < size:
        w = rng.choice(ONSETS) + rng.choice(rhymes)
        tone = rng.choice(TONES)
        # put the tone on the first vowel (placement varies in real text; search folds it)
        for i, ch in enumerate(w):
            if ch in "aăâeêioôơuưy":
                w = w[: i + 1] + tone + w[i + 1 :]
                break
        words.add(unicodedata.normalize("NFC", w))
    return sorted(words)


def generate(db: Path, n: int, words_per_doc: int, seed: int = 7) -> list[str]:
    """Fill a migrated database with n records; returns the owner IDs used."""
    engine = make_engine(f"sqlite:///{db}")
    migrate(engine)
    engine.dispose()
    rng = random.Random(seed)
    vocab = vocabulary(rng, 6000)
    forms = {w: (canonical(w), fold(w)) for w in vocab}
    head = HEADER.lower().split()
    head_exact = " ".join(canonical(w) for w in head)
    head_folded = " ".join(fold(w) for w in head)
    owners = [f"0{rng.randrange(1, 96):02d}{rng.randrange(0, 4)}{rng.randrange(10**8):08d}"
              for _ in range(max(1, n // 3))]  # fmt: skip
    con = sqlite3.connect(db)
    con.execute("PRAGMA journal_mode=OFF")
    con.execute("PRAGMA synchronous=OFF")
    con.execute("PRAGMA cache_size=-400000")
    # index the text once at the end ('rebuild') instead of row by row through the trigger
    con.execute("DROP TRIGGER search_docs_ai")
    t0 = datetime(2024, 1, 1)
    batch = 20000
    started = time.perf_counter()
    for lo in range(0, n, batch):
        blobs, comps, owner_rows, field_rows, docs = [], [], [], [], []
        for i in range(lo, min(n, lo + batch)):
            cid = uuid.UUID(int=rng.getrandbits(128)).hex
            sha = f"{i:064x}"
            body = rng.choices(vocab, k=words_per_doc)
            text = HEADER + " " + " ".join(body)
            exact = head_exact + " " + " ".join(forms[w][0] for w in body)
            folded = head_folded + " " + " ".join(forms[w][1] for w in body)
            at = (t0 + timedelta(minutes=i % 500000)).isoformat(sep=" ")
            doc_type = TYPES[i % len(TYPES)]
            number = f"{i % 9999 + 1}/QĐ-UBND"
            status = "verified" if i % 5 else "draft"
            blobs.append((sha, f"originals/{sha}", 1000, "image/png", at))
            comps.append((cid, "", f"scan{i}.png", sha, "image/png", "done", doc_type, 0.9, 1,
                          "[]", text, 1, at, at, status, f"KQ.{i:08d}", number,
                          f"20{i % 24:02d}-0{i % 9 + 1}-1{i % 9}", "UBND tỉnh", 0))  # fmt: skip
            owner_rows.append((cid, owners[i % len(owners)], "ocr"))
            if i % 4 == 0:
                owner_rows.append((cid, owners[(i * 7 + 1) % len(owners)], "clerk"))
            field_rows.append((cid, "so_ky_hieu", number, "ocr", 0.9))
            docs.append((cid, exact, folded))
        with con:
            con.executemany("INSERT INTO blobs VALUES (?,?,?,?,?)", blobs)
            con.executemany(
                "INSERT INTO components (id, dossier_key, source, original_sha256, media_type,"
                " status, type, type_confidence, page_count, pages, text, attempts, created_at,"
                " updated_at, registry_status, result_code, doc_number, issued_on, issuer,"
                " reuse_count) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                comps,
            )
            con.executemany(
                "INSERT INTO owners (component_id, owner_id, source) VALUES (?,?,?)", owner_rows
            )
            con.executemany(
                "INSERT INTO fields (component_id, name, value, source, confidence)"
                " VALUES (?,?,?,?,?)",
                field_rows,
            )
            con.executemany(
                "INSERT INTO search_docs (component_id, exact, folded) VALUES (?,?,?)", docs
            )
        done = min(n, lo + batch)
        rate = done / (time.perf_counter() - started)
        print(f"\r{done:>9,} records ({rate:,.0f}/s)", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    t = time.perf_counter()
    con.execute("INSERT INTO search_fts(search_fts) VALUES ('rebuild')")
    con.execute(
        "CREATE TRIGGER search_docs_ai AFTER INSERT ON search_docs BEGIN "
        "INSERT INTO search_fts(rowid, exact, folded) VALUES (new.id, new.exact, new.folded); END"
    )
    print(f"full-text index built in {time.perf_counter() - t:.0f} s", file=sys.stderr)
    con.execute("INSERT INTO search_fts(search_fts) VALUES ('optimize')")
    con.commit()
    con.execute("ANALYZE")
    con.close()
    return owners


def percentile(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def timed(fn, args_list) -> tuple[list[float], list[int]]:  # type: ignore[no-untyped-def]
    times, sizes = [], []
    for a in args_list:
        t = time.perf_counter()
        n = fn(a)
        times.append((time.perf_counter() - t) * 1000)
        sizes.append(n)
    return times, sizes


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--words", type=int, default=60, help="OCR words per generated record")
    ap.add_argument("--queries", type=int, default=300)
    ap.add_argument("--db", type=Path, default=Path("/tmp/sohoa-bench/registry.db"))
    ap.add_argument("--reuse", action="store_true", help="keep an existing database")
    args = ap.parse_args()
    args.db.parent.mkdir(parents=True, exist_ok=True)
    if not (args.reuse and args.db.exists()):
        for p in args.db.parent.glob(args.db.name + "*"):
            p.unlink()
        t = time.perf_counter()
        generate(args.db, args.records, args.words)
        print(f"generated {args.records:,} records in {time.perf_counter() - t:.0f} s",
              file=sys.stderr)  # fmt: skip
    engine = make_engine(f"sqlite:///{args.db}")
    sessions = session_factory(engine)
    rng = random.Random(11)
    with sessions() as s:
        owners = [r[0] for r in s.execute(
            __import__("sqlalchemy").text("SELECT owner_id FROM owners ORDER BY random() LIMIT :n"),
            {"n": args.queries})]  # fmt: skip
        vocab = vocabulary(random.Random(7), 6000)
        two_words = [" ".join(rng.sample(vocab, 2)) for _ in range(args.queries)]
        folded_q = [fold(q) for q in two_words]
        one_word = [rng.choice(vocab) for _ in range(args.queries)]

        def by_owner(o: str) -> int:
            return len(find_documents(s, DocumentQuery(owner_id=o, limit=50))[0])

        def lookup(o: str) -> int:
            return len(look_up(s, o, "xd.gpxd_nha_o_rieng_le").documents)

        def fulltext(q: str) -> int:
            return len(find_documents(s, DocumentQuery(text=q, limit=20))[0])

        by_owner(owners[0])  # warm the cache
        rows = [
            ("owner look-up (query API, 50/page)", *timed(by_owner, owners)),
            ("look up first (owner + procedure)", *timed(lookup, owners)),
            ("full text, 1 word with diacritics", *timed(fulltext, one_word)),
            ("full text, 2 words with diacritics", *timed(fulltext, two_words)),
            ("full text, 2 words without diacritics", *timed(fulltext, folded_q)),
        ]
        common = ["cộng hòa"] * 5
        rows.append(("full text, word in every record (x5)", *timed(fulltext, common)))
    size = sum(p.stat().st_size for p in args.db.parent.glob(args.db.name + "*"))
    print(f"\nregistry benchmark: {args.records:,} records, {args.words} OCR words each, "
          f"SQLite {sqlite3.sqlite_version}, {args.queries} queries per row")  # fmt: skip
    print(f"{'query':<42} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'hits p50':>9}")
    for name, times, sizes in rows:
        print(f"{name:<42} {percentile(times, 50):>8.1f} {percentile(times, 99):>8.1f} "
              f"{max(times):>8.1f} {statistics.median(sizes):>9.0f}")  # fmt: skip
    print(f"database size: {size / 1e9:.2f} GB ({size / args.records:.0f} bytes per record)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
