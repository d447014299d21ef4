"""pytest wiring for the harness: which cases run (``--bench-set``), the session's inputs, and
the machine description that goes into pytest-benchmark's JSON."""

from __future__ import annotations

import os
import platform
from typing import Any

import numpy as np
import pytest

import cases
import stridewise as sw


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--bench-set",
        choices=("full", "quick"),
        default="full",
        help="full: the whole matrix (make bench); quick: the target cases (make bench-quick)",
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "case" in metafunc.fixturenames and "lib" in metafunc.fixturenames:
        quick = metafunc.config.getoption("--bench-set") == "quick"
        chosen = cases.target_cases() if quick else cases.full_cases()
        pairs = [(c, lib) for c in chosen for lib in cases.libs_for(c)]
        metafunc.parametrize(("case", "lib"), pairs, ids=[f"{c.name}|{lib}" for c, lib in pairs])


@pytest.fixture(scope="session")
def inputs() -> cases.Inputs:
    return cases.Inputs()


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _versions() -> dict[str, str]:
    out = {"numpy": np.__version__, "stridewise": sw.__version__}
    for name in ("bottleneck", "numexpr"):
        try:
            out[name] = __import__(name).__version__
        except ImportError:
            out[name] = "not installed"
    return out


def pytest_benchmark_update_machine_info(
    config: pytest.Config, machine_info: dict[str, Any]
) -> None:
    import numexpr

    machine_info["stridewise"] = {
        "cpu_model": _cpu_model(),
        "logical_cpus": os.cpu_count(),
        "simd_level": sw.simd_level(),
        "stridewise_threads": sw.get_num_threads(),  # the default count: column "stridewise"
        "scaling_threads": list(cases.thread_counts()),  # stridewise-Nt of the scaling table
        "numexpr_threads": numexpr.get_num_threads(),
        "parallel_threshold": sw.parallel_threshold(),
        "versions": _versions(),
        "bench_set": config.getoption("--bench-set"),
    }
