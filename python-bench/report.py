"""Turn the harness's pytest-benchmark JSON into ``python-bench/report/``.

- ``README.md``: the machine, the read-bandwidth probe, the target cases (met or missed), every
  loss to numpy, and the whole table: case, numpy time, stridewise time, speed-up, GB/s and the
  fraction of the probe, with bottleneck's and numexpr's times where they ran.
- ``speedup.png``: speed-up over numpy against array size, one line per layout; and GB/s
  against size with the probe as the ceiling line.

Times are the median of each benchmark's rounds. GB/s counts the logical bytes a call reads
(elements x item size; a broadcast row counts once per time it is read). A fraction of the probe
is given only for data that is not in cache. Usage:

    python report.py RESULTS.json OUT_DIR [--command "make bench"] [--print]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import pathlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import cases

OTHERS = ("bottleneck", "numexpr")


@dataclass
class Row:
    name: str
    info: dict[str, Any]
    times: dict[str, float] = field(default_factory=dict)  # lib -> median seconds

    @property
    def speedup(self) -> float | None:
        if "numpy" in self.times and "stridewise" in self.times:
            return self.times["numpy"] / self.times["stridewise"]
        return None

    def gbps(self, lib: str = "stridewise") -> float | None:
        t = self.times.get(lib)
        return self.info["bytes"] / t / 1e9 if t else None

    @property
    def elements(self) -> int:
        return int(self.info["elements"])


def load(path: pathlib.Path) -> tuple[list[Row], dict[str, float], dict[str, Any], str]:
    """Rows by case, and the probe's GB/s by name (``start``, ``end``)."""
    data = json.loads(path.read_text())
    rows: dict[str, Row] = {}
    probes: dict[str, float] = {}
    for b in data["benchmarks"]:
        info = b["extra_info"]
        median = b["stats"]["median"]
        if info.get("lib") == "probe":
            name = b["group"].partition("(")[2].rstrip(")") or "start"
            probes[name] = info["bytes"] / median / 1e9
            continue
        row = rows.setdefault(b["group"], Row(b["group"], info))
        row.times[info["lib"]] = median
    machine = data.get("machine_info", {})
    return list(rows.values()), probes, machine, data.get("datetime", "")


def fmt_time(t: float | None) -> str:
    if t is None:
        return ""
    if t < 1e-3:
        return f"{t * 1e6:.2f} us"
    return f"{t * 1e3:.2f} ms"


def fmt_ratio(r: float | None) -> str:
    if r is None:
        return ""
    text = f"{r:.2f}x"
    return f"**{text}**" if r < 1.0 else text  # losses stand out


def of_probe(row: Row, probe: float | None) -> str:
    if row.info.get("in_cache"):
        return "in cache"
    g = row.gbps()
    return f"{g / probe:.0%}" if g and probe else ""


def other_cell(row: Row, lib: str) -> str:
    t = row.times.get(lib)
    if t is None:
        return ""
    return f"{fmt_time(t)} ({row.times['numpy'] / t:.2f}x)" if "numpy" in row.times else fmt_time(t)


def table(rows: Iterable[Row], probe: float | None) -> list[str]:
    out = [
        "| case | numpy | stridewise | speed-up | GB/s | of probe | bottleneck | numexpr |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        g = r.gbps()
        out.append(
            f"| {r.name} | {fmt_time(r.times.get('numpy'))} | {fmt_time(r.times.get('stridewise'))}"
            f" | {fmt_ratio(r.speedup)} | {'' if g is None else f'{g:.1f}'} | {of_probe(r, probe)}"
            f" | {other_cell(r, 'bottleneck')} | {other_cell(r, 'numexpr')} |"
        )
    return out


def target_table(rows: list[Row], probe: float | None) -> list[str]:
    by_name = {r.name: r for r in rows}
    out = [
        "| case | numpy | stridewise | speed-up | target | of probe | met |",
        "|---|---:|---:|---:|---:|---:|:---:|",
    ]
    for name, want in cases.TARGETS.items():
        r = by_name.get(name)
        if r is None or r.speedup is None:
            out.append(f"| {name} | | | | >= {want}x | | not run |")
            continue
        ok = r.speedup >= want
        probe_cell = of_probe(r, probe)
        if name in cases.PROBE_TARGETS:
            g = r.gbps()
            need = cases.PROBE_TARGETS[name]
            ok = ok and bool(g and probe and g / probe >= need)
            probe_cell += f" (>= {need:.0%})"
        if name.startswith("nanmean") and "bottleneck" in r.times:
            ok = ok and r.times["stridewise"] < r.times["bottleneck"]
            probe_cell += f"; bottleneck {fmt_time(r.times['bottleneck'])}"
        out.append(
            f"| {name} | {fmt_time(r.times.get('numpy'))} | {fmt_time(r.times.get('stridewise'))}"
            f" | {fmt_ratio(r.speedup)} | >= {want}x | {probe_cell} | {'yes' if ok else '**no**'} |"
        )
    return out


def machine_lines(
    machine: dict[str, Any], probes: dict[str, float], when: str, command: str
) -> list[str]:
    sw = machine.get("stridewise", {})
    versions = ", ".join(f"{k} {v}" for k, v in sw.get("versions", {}).items())
    return [
        f"- Run: {when[:19].replace('T', ' ')} UTC, `{command}` ({sw.get('bench_set', '?')} set)",
        (
            f"- CPU: {sw.get('cpu_model', '?')}, {sw.get('logical_cpus', '?')} logical CPUs;"
            f" stridewise SIMD level `{sw.get('simd_level', '?')}`,"
            f" {sw.get('stridewise_threads', '?')} threads; numexpr"
            f" {sw.get('numexpr_threads', '?')} threads; numpy and bottleneck 1"
        ),
        f"- Versions: {versions}; Python {machine.get('python_version', '?')}",
        (
            "- Read-bandwidth probe (`stridewise::read_probe`, same run, 800 MB): "
            + ", ".join(f"{k} {v:.1f} GB/s" for k, v in probes.items())
            + f"; fractions divide by the higher, **{max(probes.values()):.1f} GB/s**"
            if probes
            else "- Read-bandwidth probe: not run"
        ),
    ]


def plot(rows: list[Row], probe: float | None, title: str, path: pathlib.Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    mean = [r for r in rows if r.info["func"] == "mean" and r.info["dtype"] == "f64"]
    mean = [r for r in mean if r.info["axis"] is None and r.speedup is not None]
    lines: dict[str, list[Row]] = {}
    for r in mean:
        label = r.info["layout"] + (" (1-d)" if r.info["ndim"] == 1 else "")
        lines.setdefault(label, []).append(r)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(14, 5.5))
    for label, rs in sorted(lines.items()):
        rs.sort(key=lambda r: r.elements)
        xs = [r.elements for r in rs]
        (ln,) = ax1.plot(xs, [r.speedup for r in rs], marker="o", label=label)
        ax2.plot(xs, [r.gbps() for r in rs], marker="o", color=ln.get_color(), label=label)
    numpy_1d = sorted((r for r in mean if r.info["ndim"] == 1), key=lambda r: r.elements)
    if numpy_1d:
        ax2.plot(
            [r.elements for r in numpy_1d],
            [r.gbps("numpy") for r in numpy_1d],
            "k--",
            marker="x",
            label="numpy.mean (1-d)",
        )
    ax1.axhline(1.0, color="k", lw=1)
    ax1.text(1e3, 1.02, "numpy", va="bottom")
    if probe:
        ax2.axhline(probe, color="r", ls=":", lw=2, label=f"read probe {probe:.1f} GB/s")
    for ax in (ax1, ax2):
        ax.set_xscale("log")
        ax.axvspan(ax.get_xlim()[0], cases.HOT_MAX, color="0.92", zorder=0)
        ax.set_xlabel("elements read (shaded: in cache)")
        ax.grid(True, which="both", alpha=0.3)
    ax1.set_yscale("log")
    ratio = matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}x")
    ax1.yaxis.set_major_formatter(ratio)
    ax1.yaxis.set_minor_formatter(ratio)
    ax1.set_ylabel("speed-up over numpy.mean (median times)")
    ax1.set_title("mean f64, axis=None: stridewise vs numpy")
    ax2.set_ylabel("stridewise GB/s (logical bytes read)")
    ax2.set_title("mean f64 throughput")
    ax2.legend(fontsize=8, loc="upper right")
    ax1.legend(fontsize=8, loc="upper left")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("results", type=pathlib.Path)
    ap.add_argument("out", type=pathlib.Path)
    ap.add_argument("--command", default="make bench")
    ap.add_argument("--print", action="store_true", help="print the targets and losses")
    ap.add_argument("--criterion", type=pathlib.Path, help="criterion's summary table to append")
    args = ap.parse_args()
    rows, probes, machine, when = load(args.results)
    probe = max(probes.values()) if probes else None
    if not rows:
        raise SystemExit(f"no benchmark results in {args.results}")
    args.out.mkdir(parents=True, exist_ok=True)
    when = when or dt.datetime.now(dt.UTC).isoformat()
    head = machine_lines(machine, probes, when, args.command)
    targets = target_table(rows, probe)
    losses = [r for r in rows if r.speedup is not None and r.speedup < 1.0]
    loss_lines = table(losses, probe) if losses else ["None: stridewise was faster in every case."]
    sw = machine.get("stridewise", {})
    title = (
        f"{sw.get('cpu_model', '?')}, {sw.get('logical_cpus', '?')} CPUs, "
        f"SIMD {sw.get('simd_level', '?')}, {when[:10]}"
    )
    plot(rows, probe, title, args.out / "speedup.png")
    doc = [
        "# stridewise against numpy: the benchmark report",
        "",
        f"Written by `python-bench/report.py` from `{args.results.name}` (pytest-benchmark JSON,",
        "rewritten by every run and kept out of git).",
        "Times are medians of each benchmark's rounds; every ratio comes from one run. GB/s is",
        (
            "logical bytes read (elements x item size) per second. Inputs above"
            f" {cases.HOT_MAX:,} elements rotate through copies (at least"
            f" {cases.ROTATE_BYTES >> 20} MiB read between two uses of a buffer), so they are read"
        ),
        "from memory; smaller ones and the broadcast row are in cache, on purpose. Bold: losses.",
        "The criterion benches' HTML report is `target/criterion/report/index.html`.",
        "",
        *head,
        "",
        "![speed-up and throughput](speedup.png)",
        "",
        "## Targets",
        "",
        *targets,
        "",
        "## Losses to numpy",
        "",
        *loss_lines,
        "",
        "## Every case",
        "",
        *table(rows, probe),
        "",
    ]
    if args.criterion and args.criterion.exists():
        doc += [
            "## Criterion, the same scenarios in Rust (`cargo bench -- --quick`)",
            "",
            "HTML report: `target/criterion/report/index.html`.",
            "",
            args.criterion.read_text(),
        ]
    (args.out / "README.md").write_text("\n".join(doc))
    if args.print:
        print("\n".join([*head, "", "## Targets", "", *targets, "", "## Losses to numpy", ""]))
        print("\n".join(loss_lines))
        print(f"\nfull table and plot: {args.out / 'README.md'}, {args.out / 'speedup.png'}")


if __name__ == "__main__":
    main()
