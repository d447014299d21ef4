"""Turn the harness's pytest-benchmark JSON into ``python-bench/report/``.

- ``README.md``: the machine, the read-bandwidth probe, the target cases (met or missed), every
  loss to numpy (at the default thread count or on one thread, with the spread of the ratio),
  the thread-scaling table, and the whole table: case, numpy time, stridewise time and speed-up
  at the default thread count and on one thread, GB/s and the fraction of the probe, with
  bottleneck's and numexpr's times where they ran.
- ``speedup.png``: speed-up over numpy against array size, one line per layout; and GB/s
  against size with the probe as the ceiling line.

Times are the median of each benchmark's rounds; a loop case's (many small arrays, one call
each) are divided by its calls, so they are per call. The spread of a ratio numpy/stridewise is
its IQR range: numpy's first quartile over stridewise's third, to numpy's third over
stridewise's first; a range that contains 1x means the case can flip with noise. GB/s counts
the logical bytes a call reads (elements x item size; a broadcast row counts once per time it is
read). A fraction of the probe is given only for data that is not in cache. Usage:

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
ONE_THREAD = "stridewise-1t"
# What a loss is judged on: stridewise at the default thread count, and on one thread.
JUDGED = ("stridewise", ONE_THREAD)


@dataclass
class Row:
    name: str
    info: dict[str, Any]
    times: dict[str, float] = field(default_factory=dict)  # lib -> median seconds per call
    quartiles: dict[str, tuple[float, float]] = field(default_factory=dict)  # lib -> (q1, q3)

    def ratio(self, lib: str = "stridewise") -> float | None:
        """numpy's median over ``lib``'s: above 1, ``lib`` is faster."""
        if "numpy" in self.times and lib in self.times:
            return self.times["numpy"] / self.times[lib]
        return None

    @property
    def speedup(self) -> float | None:
        return self.ratio("stridewise")

    def ratio_range(self, lib: str = "stridewise") -> tuple[float, float] | None:
        """The IQR range of ``ratio(lib)``: numpy's q1 / lib's q3 .. numpy's q3 / lib's q1.
        Half of each side's rounds lie inside its quartiles, so a range that contains 1 says the
        two overlap and the case can flip from one run to the next."""
        np_q, lib_q = self.quartiles.get("numpy"), self.quartiles.get(lib)
        if np_q is None or lib_q is None or min(lib_q) <= 0:
            return None
        return np_q[0] / lib_q[1], np_q[1] / lib_q[0]

    def lost(self, lib: str) -> bool:
        r = self.ratio(lib)
        return r is not None and r < 1.0

    def within_noise(self) -> bool:
        """Every loss of the row has an IQR range that reaches 1x (a flip, not a clear loss)."""
        ranges = [self.ratio_range(lib) for lib in JUDGED if self.lost(lib)]
        return bool(ranges) and all(rg is not None and rg[1] >= 1.0 for rg in ranges)

    def gbps(self, lib: str = "stridewise") -> float | None:
        t = self.times.get(lib)
        return self.info["bytes"] / t / 1e9 if t else None

    @property
    def elements(self) -> int:
        return int(self.info["elements"])


def load(path: pathlib.Path) -> tuple[list[Row], dict[str, float], dict[str, Any], str]:
    """Rows by case, and the probes' GB/s by name (``start, streams``, ``end, in order, 1t``:
    when, read loop, and ``1t`` for one thread). Times are per call: a loop case's are
    divided by its ``calls``."""
    data = json.loads(path.read_text())
    rows: dict[str, Row] = {}
    probes: dict[str, float] = {}
    for b in data["benchmarks"]:
        info = b["extra_info"]
        stats = b["stats"]
        median = stats["median"]
        if info.get("lib") == "probe":
            name = b["group"].partition("(")[2].rstrip(")") or "start"
            probes[name] = info["bytes"] / median / 1e9
            continue
        calls = int(info.get("calls") or 1)
        row = rows.setdefault(b["group"], Row(b["group"], info))
        row.times[info["lib"]] = median / calls
        if "q1" in stats and "q3" in stats:
            row.quartiles[info["lib"]] = (stats["q1"] / calls, stats["q3"] / calls)
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


def fmt_range(rg: tuple[float, float] | None) -> str:
    if rg is None:
        return ""
    lo, hi = rg
    return f"{lo:.2f}-{hi:.2f}x" + (" (flips)" if lo < 1.0 <= hi else "")


def best_probes(probes: dict[str, float]) -> tuple[float | None, float | None]:
    """The machine's read bandwidth on all threads and on one: the best of the probes' read
    loops at each count (names ending in ``1t`` are one-thread)."""
    every = [v for k, v in probes.items() if not k.endswith("1t")]
    one = [v for k, v in probes.items() if k.endswith("1t")]
    return (max(every) if every else None, max(one) if one else None)


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
        "| case | numpy | stridewise | speed-up | 1 thread | speed-up (1t) | GB/s | of probe"
        " | bottleneck | numexpr |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        g = r.gbps()
        out.append(
            f"| {r.name} | {fmt_time(r.times.get('numpy'))} | {fmt_time(r.times.get('stridewise'))}"
            f" | {fmt_ratio(r.speedup)} | {fmt_time(r.times.get(ONE_THREAD))}"
            f" | {fmt_ratio(r.ratio(ONE_THREAD))}"
            f" | {'' if g is None else f'{g:.1f}'} | {of_probe(r, probe)}"
            f" | {other_cell(r, 'bottleneck')} | {other_cell(r, 'numexpr')} |"
        )
    return out


def loss_table(rows: list[Row], threads: object) -> list[str]:
    """Every case stridewise loses to numpy at the default thread count or on one thread, with
    both ratios and their IQR ranges. Always present: ``none`` when there is no loss."""
    losses = [r for r in rows if any(r.lost(lib) for lib in JUDGED)]
    if not losses:
        return [
            "none: stridewise was at least as fast as numpy in every case, at the default"
            " thread count and on one thread."
        ]
    at_default = sum(r.lost("stridewise") for r in losses)
    on_one = sum(r.lost(ONE_THREAD) for r in losses)
    noise = sum(r.within_noise() for r in losses)
    out = [
        f"{len(losses)} cases: {at_default} slower than numpy at the default {threads} threads,"
        f" {on_one} on one thread; {noise} of them within noise (every losing ratio's IQR range"
        " reaches 1x: they flip from run to run).",
        "",
        "| case | numpy | stridewise | speed-up | IQR range | 1 thread | speed-up (1t)"
        " | IQR range (1t) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in losses:
        out.append(
            f"| {r.name} | {fmt_time(r.times.get('numpy'))} | {fmt_time(r.times.get('stridewise'))}"
            f" | {fmt_ratio(r.speedup)} | {fmt_range(r.ratio_range())}"
            f" | {fmt_time(r.times.get(ONE_THREAD))} | {fmt_ratio(r.ratio(ONE_THREAD))}"
            f" | {fmt_range(r.ratio_range(ONE_THREAD))} |"
        )
    return out


def scaling_table(rows: list[Row], threads: object) -> list[str]:
    """The scaling cases on 1, 2, 4, ... threads (``stridewise-Nt``) and at the default count:
    time, speed-up over stridewise on one thread, and over numpy."""
    order = {name: i for i, name in enumerate(cases.SCALING_CASES)}
    scaled = [r for r in rows if any((cases.lib_threads(lib) or 1) > 1 for lib in r.times)]
    if not scaled:
        return ["not run: no case ran on more than one pinned thread count."]
    scaled.sort(key=lambda r: order.get(r.name, len(order)))
    out = [
        "| case | threads | stridewise | vs 1 thread | vs numpy |",
        "|---|---:|---:|---:|---:|",
    ]
    for r in scaled:
        one = r.times.get(ONE_THREAD)
        pinned = sorted((n, lib) for lib in r.times if (n := cases.lib_threads(lib)) is not None)
        entries = [(str(n), lib) for n, lib in pinned]
        entries.append((f"default ({threads})", "stridewise"))
        for label, lib in entries:
            t = r.times.get(lib)
            if t is None:
                continue
            out.append(
                f"| {r.name} | {label} | {fmt_time(t)}"
                f" | {'' if one is None else f'{one / t:.2f}x'} | {fmt_ratio(r.ratio(lib))} |"
            )
    return out


def target_table(rows: list[Row], probe: float | None, probe_1t: float | None = None) -> list[str]:
    by_name = {r.name: r for r in rows}
    out = [
        "| case | numpy | stridewise | speed-up | target | of probe"
        " | 1 thread, of 1t probe | met |",
        "|---|---:|---:|---:|---:|---:|---:|:---:|",
    ]
    for name, want in cases.TARGETS.items():
        r = by_name.get(name)
        if r is None or r.speedup is None:
            out.append(f"| {name} | | | | >= {want}x | | | not run |")
            continue
        g1 = r.gbps(ONE_THREAD)
        one_cell = (
            f"{g1 / probe_1t:.0%}"
            if g1 and probe_1t and not r.info.get("in_cache")
            else ("in cache" if r.info.get("in_cache") else "")
        )
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
            f" | {fmt_ratio(r.speedup)} | >= {want}x | {probe_cell} | {one_cell}"
            f" | {'yes' if ok else '**no**'} |"
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
            f" {sw.get('stridewise_threads', '?')} threads (and one: `stridewise-1t`); numexpr"
            f" {sw.get('numexpr_threads', '?')} threads; numpy and bottleneck 1"
        ),
        (
            "- Thread scaling: stridewise pinned to "
            + ", ".join(str(n) for n in sw.get("scaling_threads", []))
            + " threads"
            if sw.get("scaling_threads")
            else "- Thread scaling: counts not recorded"
        ),
        f"- Versions: {versions}; Python {machine.get('python_version', '?')}",
        *probe_lines(probes),
    ]


def probe_lines(probes: dict[str, float]) -> list[str]:
    """The probes' figures and the best at each thread count, which the fractions divide by."""
    if not probes:
        return ["- Read-bandwidth probe: not run"]
    every, one = best_probes(probes)
    best = [
        f"{label} **{v:.1f} GB/s**"
        for label, v in (("all threads", every), ("one thread", one))
        if v
    ]
    return [
        "- Read-bandwidth probes (same run, 800 MB; `stridewise::read_probe` in order,"
        " `read_probe_streams` as 4 streams side by side, numpy's `min`), in the table below",
        "- Fractions of the probe divide by the best read loop: "
        + "; ".join(best)
        + " (*of probe*: the default thread count; *of 1t probe*: one thread)",
        "",
        *probe_table(probes),
    ]


def probe_table(probes: dict[str, float]) -> list[str]:
    """The probes as a table: a row per read loop, a column for the start and the end of the
    run (names are ``"<when>, <loop>"``; any other name is a row of its own)."""
    whens = ("start", "end")
    cells: dict[str, dict[str, float]] = {}
    for name, v in probes.items():
        when, _, loop = name.partition(", ")
        if when not in whens or not loop:
            when, loop = "start", name
        cells.setdefault(loop, {})[when] = v
    lines = ["| read loop | start | end |", "|---|---:|---:|"]
    for loop, at in cells.items():
        row = [f"{at[w]:.1f} GB/s" if w in at else "" for w in whens]
        lines.append(f"| {loop} | " + " | ".join(row) + " |")
    return lines


def plot(rows: list[Row], probe: float | None, title: str, path: pathlib.Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    mean = [r for r in rows if r.info["func"] == "mean" and r.info["dtype"] == "f64"]
    mean = [r for r in mean if r.info["axis"] is None and r.speedup is not None]
    mean = [r for r in mean if r.info["layout"] != "loop"]  # per-call times of small arrays
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
    if lines:  # a partial run (-k) may have no mean f64 axis=None case to draw
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
    probe, probe_1t = best_probes(probes)
    if not rows:
        raise SystemExit(f"no benchmark results in {args.results}")
    args.out.mkdir(parents=True, exist_ok=True)
    when = when or dt.datetime.now(dt.UTC).isoformat()
    head = machine_lines(machine, probes, when, args.command)
    targets = target_table(rows, probe, probe_1t)
    sw = machine.get("stridewise", {})
    threads = sw.get("stridewise_threads", "?")
    loss_lines = loss_table(rows, threads)
    scaling = scaling_table(rows, threads)
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
        "",
        (
            f"stridewise runs every case twice: at the default thread count ({threads}, columns"
            " *stridewise* and *speed-up*) and on one thread (`stridewise-1t`, columns *1 thread*"
            " and *speed-up (1t)*), the count set once around each benchmark with `sw.threads`."
        ),
        (
            "A loss is a case slower than numpy at either count. Its *IQR range* is the spread of"
            " the ratio: numpy's first quartile over stridewise's third, to numpy's third over"
            " stridewise's first (each median sits in its own quartiles); a range that contains"
            " 1x is marked *(flips)*: the two overlap and the case can flip with noise."
        ),
        (
            "The thread-scaling table runs the main cases on 1, 2, 4, ... threads up to the CPU"
            " count (`stridewise-Nt`): time, speed-up over stridewise on one thread and over"
            " numpy. Loop cases (`... loop x1000`: separate small arrays, one call each, in a"
            " Python loop) show the time per call."
        ),
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
        "## Thread scaling",
        "",
        *scaling,
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
        print("\n".join([*loss_lines, "", "## Thread scaling", "", *scaling]))
        print(f"\nfull table and plot: {args.out / 'README.md'}, {args.out / 'speedup.png'}")


if __name__ == "__main__":
    main()
