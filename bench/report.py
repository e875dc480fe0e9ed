#!/usr/bin/env python3
"""Turns the raw outputs of scripts/bench.sh into the printed table and the
results JSON. Inputs (all in --work):
  http/<route>.<target>.meta       JSON: precheck status, availability, CPU seconds
  http/<route>.<target>.wrk.json   JSON written by bench/wrk/bench.lua (target
                                   pgbench: the same shape from pgbench's tps;
                                   latency null)
  micro/<exe>.json                 Google Benchmark --benchmark_out JSON
  etl/<name>.json                  {"rows": [...]} written by bench/etl/*.sh
"""
import argparse
import datetime
import glob
import json
import os
import platform
import sys

ROUTES = [
    ("health", "GET /health"),
    ("items_list", "GET /items?limit=100"),
    ("products_list", "GET /products?limit=100"),
    ("products_filter", "  &brand=Brand 7"),
    ("products_sort_name", "  &sort_by=name"),
    ("products_sort_price", "  &sort_by=price&order=desc"),
    ("products_sort_updated", "  &sort_by=updated_at&order=desc"),
    ("products_304", "  If-None-Match (304)"),
    ("products_pages", "GET /products, 1,000 cursors"),
    ("items_pages", "GET /items, every cursor"),
    ("product_get", "GET /products/{source}/{sku}"),
    ("items_create", "POST /items"),
]
# pgbench: the route's rows selected as plain columns (LIMIT 101, as the
# server asks for one extra row), same pinning: what PostgreSQL alone does.
TARGETS = ["catalog-api", "fastapi", "nginx", "pgbench"]

# (route, numerator, denominator, minimum ratio)
RATIO_TARGETS = [
    ("health", "catalog-api", "fastapi", 20.0),
    ("health", "catalog-api", "nginx", 0.5),
    ("items_list", "catalog-api", "fastapi", 10.0),
    ("products_list", "catalog-api", "fastapi", 10.0),
    ("product_get", "catalog-api", "fastapi", None),
    ("items_create", "catalog-api", "fastapi", 5.0),
    # The same list page asked over and over is served from the response
    # cache (issue 22): >= 3x the plain query alone, PostgreSQL no longer the limit.
    ("items_list", "catalog-api", "pgbench", 3.0),
    ("products_list", "catalog-api", "pgbench", 3.0),
    ("products_filter", "catalog-api", "pgbench", 3.0),
    ("products_sort_name", "catalog-api", "pgbench", 3.0),
    ("products_sort_price", "catalog-api", "pgbench", 3.0),
    ("products_sort_updated", "catalog-api", "pgbench", 3.0),
    # Pages that are not the same page twice, computed every time (issue 22):
    # at the database's limit, >= 0.8x pgbench reading the same kind of page.
    ("products_pages", "catalog-api", "pgbench", 0.8),
    ("items_pages", "catalog-api", "pgbench", 0.8),
    # Random rows, never the same twice: at the database's limit (issue 13).
    ("product_get", "catalog-api", "pgbench", 0.8),
    # A revalidated page (304, no page query) against nginx's return 200.
    ("products_304", "catalog-api", "nginx", 0.5, "health"),
]
# p99 no worse than the reference's p99 in the same run (issue 22: an absolute
# latency on a shared 2-core machine is noise; was <= 2 ms, issue 13).
P99_TARGETS = [("health", "catalog-api", "nginx")]
CSV_TARGET_MBPS = 500.0


def load_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def http_runs(work):
    runs = {}
    for meta_path in sorted(glob.glob(os.path.join(work, "http", "*.meta"))):
        meta = load_json(meta_path)
        if meta is None:
            continue
        base = meta_path[: -len(".meta")]
        run = dict(meta)
        wrk = load_json(base + ".wrk.json")
        run["wrk"] = wrk
        problems = []
        if not meta.get("available", True):
            run["status"] = "not available"
        else:
            code = str(meta.get("precheck_status", ""))
            if not code.startswith("2"):
                problems.append(f"precheck answered {code or 'nothing'}")
            if wrk is None:
                problems.append("wrk produced no summary")
            else:
                errors = sum(wrk["errors"].values())
                if errors:
                    detail = ", ".join(f"{k} {v}" for k, v in wrk["errors"].items() if v)
                    problems.append(f"{errors} errors ({detail})")
                if wrk["requests"] <= 0:
                    problems.append("no requests completed")
                seconds = wrk["duration_us"] / 1e6
                run["rps"] = wrk["requests"] / seconds if seconds > 0 else 0.0
                lat = wrk["latency_us"]
                run["p50_ms"] = lat["p50"] / 1000.0 if lat.get("p50") is not None else None
                run["p99_ms"] = lat["p99"] / 1000.0 if lat.get("p99") is not None else None
                run["errors"] = errors
                if wrk["requests"] > 0:
                    for key in ("server_cpu_s", "db_cpu_s"):
                        if meta.get(key) is not None:
                            run[key.replace("_s", "_us_per_req")] = meta[key] * 1e6 / wrk["requests"]
            run["status"] = "INVALID" if problems else "ok"
            if problems:
                run["problems"] = problems
        runs[(meta["route"], meta["target"])] = run
    return runs


def ratio_rows(runs):
    rows = []
    for route, num, den, minimum, *den_route in RATIO_TARGETS:
        a, b = runs.get((route, num)), runs.get((den_route[0] if den_route else route, den))
        if a is None and b is None:
            continue
        row = {"route": route, "numerator": num, "denominator": den, "target_min": minimum}
        if a is None or b is None or a["status"] == "not available" or b["status"] == "not available":
            row["status"] = "N/A (not available)"
        elif a["status"] != "ok" or b["status"] != "ok":
            row["status"] = "INVALID"
        else:
            row["ratio"] = a["rps"] / b["rps"] if b["rps"] else None
            if minimum is None:
                row["status"] = "info"
            else:
                row["status"] = "PASS" if row["ratio"] is not None and row["ratio"] >= minimum else "MISS"
        rows.append(row)
    for route, target, reference in P99_TARGETS:
        a, b = runs.get((route, target)), runs.get((route, reference))
        if a is None or b is None:
            continue
        row = {"route": route, "numerator": target, "metric": "p99_ms", "reference": reference}
        if a["status"] != "ok" or b["status"] != "ok" or a.get("p99_ms") is None or b.get("p99_ms") is None:
            row["status"] = "INVALID" if "INVALID" in (a["status"], b["status"]) else "N/A (not available)"
        else:
            row["value"] = a["p99_ms"]
            row["target_max"] = b["p99_ms"]
            row["status"] = "PASS" if a["p99_ms"] <= b["p99_ms"] else "MISS"
        rows.append(row)
    return rows


def micro_results(work):
    out = []
    for path in sorted(glob.glob(os.path.join(work, "micro", "*.json"))):
        data = load_json(path)
        exe = os.path.basename(path)[: -len(".json")]
        if data is None:
            out.append({"exe": exe, "error": "no JSON output"})
            continue
        for b in data.get("benchmarks", []):
            if b.get("run_type") == "aggregate" and b.get("aggregate_name") != "median":
                continue
            entry = {"exe": exe, "name": b.get("name")}
            if b.get("error_occurred"):
                entry["error"] = b.get("error_message", "error")
            else:
                entry["real_time"] = b.get("real_time")
                entry["time_unit"] = b.get("time_unit", "ns")
                if "bytes_per_second" in b:
                    entry["MB_per_s"] = b["bytes_per_second"] / 1e6
                if "items_per_second" in b:
                    entry["items_per_s"] = b["items_per_second"]
                for k, v in b.items():
                    if k.endswith("/s") and isinstance(v, (int, float)):
                        entry.setdefault("per_s", {})[k] = v
            out.append(entry)
    return out


def micro_ratios(micro):
    """ours vs libcsv at the same chunk size, and the CSV MB/s target."""
    rows = []
    by_name = {m["name"]: m for m in micro if "error" not in m}
    for name, m in by_name.items():
        if name.startswith("BM_Ours/") and "MB_per_s" in m:
            chunk = name[len("BM_Ours/"):]
            row = {"name": f"CSV parse, {chunk} B chunks", "value": m["MB_per_s"], "unit": "MB/s",
                   "target": f">= {CSV_TARGET_MBPS:.0f} MB/s",
                   "status": "PASS" if m["MB_per_s"] >= CSV_TARGET_MBPS else "MISS"}
            base = by_name.get("BM_Libcsv/" + chunk)
            if base and base.get("MB_per_s"):
                row["vs_libcsv"] = m["MB_per_s"] / base["MB_per_s"]
            rows.append(row)
    return rows


def etl_results(work):
    rows, problems = [], []
    for path in sorted(glob.glob(os.path.join(work, "etl", "*.json"))):
        data = load_json(path)
        if data is None or not isinstance(data.get("rows"), list):
            problems.append(f"{os.path.basename(path)}: no valid JSON rows")
            continue
        for r in data["rows"]:
            r = dict(r)
            r.setdefault("script", os.path.basename(path)[: -len(".json")])
            rows.append(r)
    return rows, problems


def fmt_num(x, digits=0):
    if x is None:
        return "-"
    return f"{x:,.{digits}f}"


def print_table(meta, runs, ratios, micro, micro_rows, etl_rows, etl_problems):
    w = sys.stdout.write
    w("\n")
    w(f"catalog-api benchmarks — {meta.get('mode')} mode, {meta.get('date')}, {meta.get('ncpu')} CPU "
      f"({meta.get('cpu_model', '?')}), commit {meta.get('commit')}\n")
    w(f"HTTP: {meta.get('wrk_version')}, keep-alive, {meta.get('connections')} connections, "
      f"{meta.get('threads')} threads, {meta.get('warmup_s')} s warm-up + {meta.get('duration_s')} s measured; "
      f"{meta.get('pinning')}\n")
    w(f"Load average at start / end: {meta.get('loadavg_start')} / {meta.get('loadavg_end')} "
      f"(anything else running on the machine skews every figure)\n")
    w(f"Data: {fmt_num(int(meta.get('rows') or 0))} products, 10,000 items"
      f"{' (generated in ' + meta['load_seconds'] + ' s)' if meta.get('load_seconds') else ''}; "
      f"catalog-api HTTP_THREADS=1 DB_POOL_SIZE=8; FastAPI uvicorn --workers 2 (uvloop, httptools); "
      f"nginx 1 worker\n\n")
    header = f"{'route':<30} {'server':<12} {'req/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} " \
             f"{'srv CPU µs/req':>15} {'PG CPU µs/req':>14}  status\n"
    w(header)
    w("-" * (len(header) + 8) + "\n")
    for route, label in ROUTES:
        first = True
        for target in TARGETS:
            run = runs.get((route, target))
            if run is None:
                continue
            name = label if first else ""
            first = False
            if run["status"] == "not available":
                w(f"{name:<30} {target:<12} {'not available (route missing in this build)':>56}\n")
                continue
            status = run["status"] if run["status"] != "ok" else ""
            if run.get("problems"):
                status += ": " + "; ".join(run["problems"])
            w(f"{name:<30} {target:<12} {fmt_num(run.get('rps')):>10} {fmt_num(run.get('p50_ms'), 2):>8} "
              f"{fmt_num(run.get('p99_ms'), 2):>8} {fmt_num(run.get('errors')):>7} "
              f"{fmt_num(run.get('server_cpu_us_per_req'), 0):>15} {fmt_num(run.get('db_cpu_us_per_req'), 0):>14}  "
              f"{status}\n")
    if ratios:
        w("\nTargets (ratios of req/s measured in this run)\n")
        for r in ratios:
            label = dict(ROUTES)[r["route"]]
            if r.get("metric") == "p99_ms":
                what = f"{r['numerator']} p99"
                val = f"{r['value']:.2f} ms" if "value" in r else "-"
                tgt = (f"<= {r['reference']} {r['target_max']:.2f} ms" if "target_max" in r
                       else f"<= {r['reference']}'s")
            else:
                what = f"{r['numerator']} / {r['denominator']}"
                if r["route"] == "products_304":
                    what += " /health"
                val = f"{r['ratio']:.2f}x" if r.get("ratio") is not None else "-"
                tgt = f">= {r['target_min']:g}x" if r["target_min"] is not None else "(no target)"
            w(f"  {label:<30} {what:<26} {val:>10}   {tgt:<12} {r['status']}\n")
    if micro:
        w("\nMicro (Google Benchmark, one core)\n")
        for m in micro:
            if "error" in m:
                w(f"  {m['exe']:<14} {m.get('name') or '':<34} skipped: {m['error']}\n")
                continue
            extra = []
            if "MB_per_s" in m:
                extra.append(f"{m['MB_per_s']:,.1f} MB/s")
            if "items_per_s" in m:
                extra.append(f"{m['items_per_s']:,.0f} items/s")
            w(f"  {m['exe']:<14} {m['name']:<34} {m['real_time']:>12,.3f} {m['time_unit']:<3} {'  '.join(extra)}\n")
        for r in micro_rows:
            vs = f"  ({r['vs_libcsv']:.2f}x libcsv)" if "vs_libcsv" in r else ""
            w(f"  target: {r['name']:<40} {r['value']:,.1f} {r['unit']}{vs}   {r['target']:<12} {r['status']}\n")
    w("\nETL" + (f" ({meta['etl_pinning']})" if meta.get("etl_pinning") else "") + "\n")
    if etl_rows:
        for r in etl_rows:
            val = r.get("value")
            val = f"{val:,.3f}" if isinstance(val, (int, float)) else str(val)
            w(f"  {r.get('name', '?'):<46} {val:>14} {r.get('unit', ''):<8} "
              f"{('target ' + r['target']) if r.get('target') else '':<22} {r.get('status', '')}"
              f"{('  ' + r['note']) if r.get('note') else ''}\n")
    else:
        w("  no ETL figures in this run (not selected by --only, or a bench/etl/*.sh failed: see problems)\n")
    for p in etl_problems:
        w(f"  problem: {p}\n")
    w("\n")


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--meta", nargs="*", default=[])
    args = ap.parse_args()
    meta = dict(kv.split("=", 1) for kv in args.meta)
    meta["date"] = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    meta["cpu_model"] = cpu_model()
    meta["kernel"] = platform.release()
    try:
        import fastapi, sqlalchemy, uvicorn  # noqa: E401
        meta["fastapi_version"] = f"fastapi {fastapi.__version__}, sqlalchemy {sqlalchemy.__version__}, " \
                                  f"uvicorn {uvicorn.__version__}"
    except ImportError:
        pass

    runs = http_runs(args.work)
    ratios = ratio_rows(runs)
    micro = micro_results(args.work)
    micro_rows = micro_ratios(micro)
    etl_rows, etl_problems = etl_results(args.work)
    print_table(meta, runs, ratios, micro, micro_rows, etl_rows, etl_problems)

    result = {
        "meta": meta,
        "http": [dict(v, route=k[0], target=k[1]) for k, v in sorted(runs.items())],
        "targets": ratios + [dict(r, group="micro") for r in micro_rows]
                   + [dict(r, group="etl") for r in etl_rows if r.get("target")],
        "micro": micro,
        "etl": etl_rows,
        "etl_problems": etl_problems,
    }
    with open(args.out, "w") as f:
        json.dump(result, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
