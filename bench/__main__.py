"""Measure the pipeline on this machine and print a Markdown table.

Speed targets live here, never as timed assertions in tests. Each figure is the median
of a few runs against real components (Tansu broker, Faust worker, chDB), printed next
to yardsticks measured in the same run.

    python -m bench                                    # everything, full scale
    python -m bench --only throughput,sink --runs 5
    python -m bench --only latency --scale small       # a smoke run: well under a minute
    python -m bench --only api --scale small           # the deadline rush through the HTTP API
    python -m bench --only throughput,latency,burst --broker tansu,kafka   # side by side
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from datetime import datetime

from baocao.broker import KIND_VARIABLE, configured_kind
from bench import (
    api,
    brief,
    burst,
    latency,
    memory,
    queries,
    signals,
    sink,
    stages,
    store,
    throughput,
)
from bench.common import Row, Scale, header, progress, side_by_side, table

BENCHMARKS: dict[str, Callable[[Scale, int], list[Row]]] = {
    "throughput": throughput.run,
    "sink": sink.run,
    "latency": latency.run,
    "queries": queries.run,
    "memory": memory.run,
    "burst": burst.run,
    "store": store.run,
    "signals": signals.run,
    "brief": brief.run,
    "api": api.run,
}
ALL = ["stages", *BENCHMARKS]
#: Reports per measurement of the stage benchmarks (`--n` overrides).
STAGE_REPORTS: dict[Scale, int] = {"small": 2_000, "full": 20_000}


def default_runs(name: str, scale: Scale) -> int:
    """3 runs per figure; 1 for smoke runs, and for memory (a full run takes ~25 min)."""
    return 1 if scale == "small" or name == "memory" else 3


def names(text: str) -> list[str]:
    chosen = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in chosen if name not in ALL]
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown benchmark {', '.join(unknown)}; choose from {', '.join(ALL)}"
        )
    return chosen


def brokers(text: str) -> list[str]:
    chosen = [name.strip() for name in text.split(",") if name.strip()]
    if not chosen or any(name not in ("tansu", "kafka") for name in chosen):
        raise argparse.ArgumentTypeError("--broker takes tansu, kafka or tansu,kafka")
    return chosen


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument(
        "--only",
        type=names,
        default=ALL,
        help=f"comma-separated benchmarks to run (default: all): {','.join(ALL)}",
    )
    parser.add_argument(
        "--scale",
        choices=["small", "full"],
        default="full",
        help="full: the figures in docs/benchmarks.md; small: a smoke run of seconds per benchmark",
    )
    parser.add_argument(
        "--runs",
        type=int,
        help="runs per figure, the median counts (default 3; 1 at small scale and for memory)",
    )
    parser.add_argument(
        "--n",
        type=int,
        help="reports per 'stages' measurement (default 20,000; small: 2,000) "
        "or per 'memory' run (default 1,000,000; small: 20,000)",
    )
    parser.add_argument(
        "--store",
        choices=["memory", "rocksdb"],
        default="memory",
        help="where the benchmarks' stream workers keep their tables (BAOCAO_WORKER_STORE)",
    )
    parser.add_argument(
        "--broker",
        type=brokers,
        help="the embedded broker(s) each benchmark runs on, one after the other, the "
        f"results side by side: tansu, kafka or tansu,kafka (default: {KIND_VARIABLE} "
        "or tansu)",
    )
    args = parser.parse_args()
    if args.runs is not None and args.runs < 1:
        parser.error("--runs must be at least 1")
    if args.n is not None and args.n < 100:
        parser.error("--n must be at least 100")
    scale: Scale = args.scale
    os.environ["BAOCAO_WORKER_STORE"] = args.store  # every stack's children inherit it
    progress(f"benchmarks {','.join(args.only)} at {scale} scale")
    kinds = args.broker or [configured_kind()]
    for name in args.only:
        progress(f"== {name}")
        started = datetime.now().astimezone()
        command = f"python -m bench --only {name} --scale {scale}"
        command += f" --runs {args.runs}" if args.runs else ""
        command += f" --store {args.store}" if args.store != "memory" else ""
        command += f" --broker {','.join(kinds)}"
        results: dict[str, list[Row]] = {}
        for kind in kinds:
            os.environ[KIND_VARIABLE] = kind  # every EmbeddedBroker of the run starts this one
            if len(kinds) > 1:
                progress(f"-- {name} on {kind}")
            results[kind] = one(name, scale, args)
        rows = table(results[kinds[0]]) if len(kinds) == 1 else side_by_side(results)
        print(f"\n### {name}\n\n{header(command, started)}\n\n{rows}", flush=True)


def one(name: str, scale: Scale, args: argparse.Namespace) -> list[Row]:
    """One benchmark's rows on the broker ``BAOCAO_EMBEDDED_BROKER`` names."""
    if name == "stages":  # the original stage benchmarks keep their own run counts
        return stages.run(args.n or STAGE_REPORTS[scale])
    if name == "memory" and args.n:  # a shorter stream still shows the slope
        return memory.run(scale, args.runs or default_runs(name, scale), n=args.n)
    return BENCHMARKS[name](scale, args.runs or default_runs(name, scale))


if __name__ == "__main__":
    main()
