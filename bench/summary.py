#!/usr/bin/env python3
"""Summarise the criterion run: a Markdown table of every bench with its mean time, its
throughput in GB/s (of logical bytes read) and that throughput as a fraction of the read
bandwidth probe measured in the same run (probe/read/100000000 for cold cases,
probe/read/100000 for cases measured hot in cache). Standard library only."""

import json
import pathlib
import sys

ROOT = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "target/criterion")
HOT_MAX = 100_000


def load():
    rows = {}
    for bench in ROOT.rglob("new/benchmark.json"):
        meta = json.loads(bench.read_text())
        est = json.loads((bench.parent / "estimates.json").read_text())
        thr = meta.get("throughput") or {}
        nbytes = thr.get("Bytes") or thr.get("BytesDecimal")
        rows[meta["full_id"]] = (est["mean"]["point_estimate"], nbytes)
    return rows


def main():
    rows = load()
    if not rows:
        sys.exit(f"no criterion results under {ROOT}")

    def gbps(key):
        t, b = rows[key]
        return b / t if b else None  # bytes per ns == GB/s

    probe_cold = gbps("probe/read/100000000") if "probe/read/100000000" in rows else None
    probe_hot = gbps("probe/read/100000") if "probe/read/100000" in rows else None
    print(f"read-bandwidth probe: {probe_cold and round(probe_cold, 1)} GB/s from memory, "
          f"{probe_hot and round(probe_hot, 1)} GB/s for 100k words in cache\n")
    print("| bench | mean time | GB/s | of probe |")
    print("|---|---:|---:|---:|")
    for key in sorted(rows):
        t, b = rows[key]
        rate = gbps(key)
        last = key.rsplit("/", 1)[-1]
        hot = last.isdigit() and int(last) <= HOT_MAX
        probe = probe_hot if hot else probe_cold
        frac = f"{rate / probe:.0%}" if rate and probe else ""
        unit = f"{t / 1e3:.2f} us" if t < 1e6 else f"{t / 1e6:.2f} ms"
        print(f"| {key} | {unit} | {rate:.1f} | {frac} |" if rate else f"| {key} | {unit} | | |")


if __name__ == "__main__":
    main()
