#!/usr/bin/env python3
"""Deterministic partner-format feed for the ETL benchmarks.

    gen_feed.py --rows N [--version V --every K] OUT.csv
    gen_feed.py --rows N --naive-sql SOURCE OUT.sql

The feed has the partner header (docs/etl.md) plus an extra `color` column
(stored in `attributes`), quoted fields with commas and doubled quotes,
prices like "$1,234.50", unicode names and an embedded newline in every
7th description; about 90 bytes a row. The same --rows always gives the same
bytes. `--version V --every K` changes the price of every K-th row (rows
K, 2K, ...), so exactly rows // K rows differ from the base feed; versions
differ from each other on those rows too.

`--naive-sql SOURCE` writes the same rows as one `INSERT … ON CONFLICT DO
UPDATE` statement per row (normalised the way the service does), for the
naive per-row baseline that psql sends one round trip at a time.
"""
import argparse
import json
import sys

HEADER = "sku,product_name,description,brand,category,price,currency,availability,color\n"
NAMES = ["Café crème", "Kaffeebecher groß", "Чайник", "Ελαιόλαδο", "日本茶セット", "Smörgåsbord", "Piñata", "Tool"]
BRANDS = ["Acme", "Globex", "Initech", "Umbrella", "Soylent", "Hooli"]
CATEGORIES = ["Kitchen", "Garden", "Tools", "Toys", "Office"]
COLORS = ["red", "green", "blue", "black", "white"]
AVAIL = ["In Stock", "Out of Stock", "in stock"]


def row_fields(i, version, every):
    changed = version > 1 and every > 0 and i % every == 0
    cents = (i * 7919) % 100_000_00 + (version * 13 if changed else 0)
    name = "%s %d" % (NAMES[i % len(NAMES)], i)
    if i % 7 == 0:
        desc = 'Two lines:\nsecond, with "quotes" #%d' % i
    else:
        desc = "Sturdy, reliable item #%d" % i
    return {
        "sku": "SKU-%07d" % i,
        "name": name,
        "description": desc,
        "brand": BRANDS[i % len(BRANDS)],
        "category": CATEGORIES[i % len(CATEGORIES)],
        "cents": cents,
        "currency": "usd" if i % 3 else "eur",
        "availability": AVAIL[i % len(AVAIL)],
        "color": COLORS[i % len(COLORS)],
    }


def csv_quote(s):
    return '"' + s.replace('"', '""') + '"'


def write_csv(out, rows, version, every):
    w = out.write
    w(HEADER)
    buf = []
    for i in range(1, rows + 1):
        f = row_fields(i, version, every)
        price = "$%s.%02d" % (format(f["cents"] // 100, ","), f["cents"] % 100)
        buf.append("%s,%s,%s,%s,%s,%s,%s,%s,%s\n" % (
            f["sku"], csv_quote(f["name"]) if i % 2 else f["name"], csv_quote(f["description"]), f["brand"],
            f["category"], csv_quote(price), f["currency"], f["availability"], f["color"]))
        if len(buf) >= 10000:
            w("".join(buf))
            buf.clear()
    w("".join(buf))


def sql_text(s):
    return "'" + s.replace("'", "''") + "'"


def write_naive_sql(out, rows, source):
    w = out.write
    w("SELECT products_ensure_partition(%s);\n" % sql_text(source))  # products is partitioned by source
    for i in range(1, rows + 1):
        f = row_fields(i, 1, 0)
        avail = f["availability"].strip().lower().replace(" ", "_")
        attrs = json.dumps({"color": f["color"]}, ensure_ascii=False)
        content = "\x1f".join([f["name"], f["description"], f["brand"], f["category"], str(f["cents"]),
                               f["currency"].upper(), avail, attrs])
        w("INSERT INTO products AS p (source, sku, name, description, brand, category, price, currency, "
          "availability, attributes, content_hash) VALUES (%s, %s, %s, %s, %s, %s, %d.%02d, %s, %s, %s::jsonb, "
          "hashtextextended(%s, 0)) ON CONFLICT (source, sku) DO UPDATE SET name = EXCLUDED.name, "
          "description = EXCLUDED.description, brand = EXCLUDED.brand, category = EXCLUDED.category, "
          "price = EXCLUDED.price, currency = EXCLUDED.currency, availability = EXCLUDED.availability, "
          "attributes = EXCLUDED.attributes, content_hash = EXCLUDED.content_hash, updated_at = now() "
          "WHERE p.content_hash IS DISTINCT FROM EXCLUDED.content_hash;\n" % (
              sql_text(source), sql_text(f["sku"]), sql_text(f["name"]), sql_text(f["description"]),
              sql_text(f["brand"]), sql_text(f["category"]), f["cents"] // 100, f["cents"] % 100,
              sql_text(f["currency"].upper()), sql_text(avail), sql_text(attrs), sql_text(content)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, required=True)
    ap.add_argument("--version", type=int, default=1)
    ap.add_argument("--every", type=int, default=0)
    ap.add_argument("--naive-sql", metavar="SOURCE")
    ap.add_argument("out")
    a = ap.parse_args()
    with open(a.out, "w", encoding="utf-8", newline="") as out:
        if a.naive_sql:
            write_naive_sql(out, a.rows, a.naive_sql)
        else:
            write_csv(out, a.rows, a.version, a.every)
    return 0


if __name__ == "__main__":
    sys.exit(main())
