"""Run the fault tests again and again with workarounds on and off; keep every outcome.

Each case is ``test:broker:off`` (``off`` a comma list of ``streams.compat`` names, or
``-`` for none). Rounds run every case once, in turn, so on and off share the machine's
load alike; one pytest at a time. Every run is appended to
bench/results/workaround-loops.json as it ends, with the signs each workaround left
in the processes' logs (docs/known-issues.md reads them):

    python -m bench.workaround_loops --minutes 60 \\
        --case scale_out:kafka:- --case scale_out:kafka:producer_topics,recovery_offsets
    python -m bench.workaround_loops --summary     # the table docs/known-issues.md shows
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.record import RESULTS

ROOT = Path(__file__).resolve().parent.parent
OUT = RESULTS / "workaround-loops.json"
#: A failed run's whole pytest output (not kept in git: var/ is ignored).
FAILURES = ROOT / "var" / "loop-failures"

#: The tests the verdicts rest on: pytest file and -k expression per broker.
TESTS = {
    "pipeline": ("tests/integration/test_pipeline.py", "memory and {broker}"),
    "deadline": ("tests/integration/test_deadline_watch.py", "simulated_day and {broker}"),
    "scale_out": ("tests/integration/test_scale_out.py", "{broker}"),
    # the direct test of recovery_offsets: a changelog written in one batch, then recovered
    "recovery": ("tests/integration/test_recovery.py", "continues_every_ledger and {broker}"),
}

#: What each broker writes to its log as it starts: which one a run really used.
RAN_ON = {
    "kafka": re.compile(r"KafkaRaftServer nodeId=\d+\] Kafka Server started"),
    "tansu": re.compile(r"tansu broker \d"),
}

#: What each workaround writes when it acts, or what its absence lets happen.
SIGNS = {
    "stall_restart": re.compile(r"worker stalled"),
    "seek_rewind": re.compile(r"again from the start: records were fetched"),
    "offset_gap": re.compile(r"never reached the stream"),
    "stop_cut_short": re.compile(r"worker stop did not finish"),
    "recovery_again": re.compile(r"a rebalance came during table recovery"),
}


def run_once(test: str, broker: str, off: list[str]) -> dict[str, Any]:
    """One pytest run of ``test`` on ``broker`` with ``off`` switched off."""
    path, select = TESTS[test]
    temp = Path(tempfile.mkdtemp(prefix="loops-"))
    env = {**os.environ, "BAOCAO_COMPAT_OFF": ",".join(off)}
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", path]
    command += ["-k", select.format(broker=broker), "--basetemp", str(temp / "t")]
    started, load = time.monotonic(), os.getloadavg()[0]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    seconds = time.monotonic() - started
    logs = "".join(p.read_text(errors="replace") for p in temp.rglob("*.log"))
    summary = (done.stdout.strip().splitlines() or [""])[-1]
    failure = next((line[2:] for line in done.stdout.splitlines() if line.startswith("E ")), "")
    if done.returncode:  # the output and the processes' logs, for reading
        kept = FAILURES / f"{test}-{broker}-{datetime.now(UTC):%Y%m%d-%H%M%S}"
        kept.mkdir(parents=True)
        (kept / "pytest.txt").write_text(done.stdout)
        for log in temp.rglob("*.log"):
            shutil.copy(log, kept / f"{log.parent.name}-{log.name}")
    shutil.rmtree(temp, ignore_errors=True)
    return {
        "test": test,
        "broker": broker,
        "workaround": ",".join(off) or "none",
        "state": "off" if off else "on",
        "passed": done.returncode == 0 and " passed" in summary,
        "seconds": round(seconds, 1),
        "summary": summary,
        "failure": failure.strip()[:300],
        "signs": {name: len(sign.findall(logs)) for name, sign in SIGNS.items()},
        "ran_on": ran_on(logs),
        "load_1min": round(load, 2),
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": commit(),
    }


def commit() -> str:
    """The commit the runs' code is at (rows before this field existed have none)."""
    done = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    )
    return done.stdout.strip() if done.returncode == 0 else "?"


def ran_on(logs: str) -> str:
    """The broker the run's processes talked to, by its start line ("?" if none found)."""
    found = [kind for kind, line in RAN_ON.items() if line.search(logs)]
    return ",".join(found) or "?"


def broker_of(row: dict[str, Any]) -> str:
    """The broker a run used: ``ran_on`` where it was recorded, else the one asked for.

    Rows recorded before ``ran_on`` existed and marked ``"ran_on": "tansu"`` asked for
    Kafka but ran on Tansu: the test id named the broker without its fixture
    (tests/integration/test_broker_kind.py).
    """
    return str(row.get("ran_on") or row["broker"])


def append(row: dict[str, Any], out: Path = OUT) -> None:
    rows = json.loads(out.read_text()) if out.exists() else []
    out.write_text(json.dumps([*rows, row], indent=1) + "\n")


def summary(rows: list[dict[str, Any]]) -> str:
    """A Markdown table: runs, failures and watchdog restarts per test, broker and switch."""
    groups: dict[tuple[str, str, str, str], list[dict[str, Any]]] = {}
    for row in rows:
        key = (row["test"], broker_of(row), row["workaround"], row["state"])
        groups.setdefault(key, []).append(row)
    lines = [
        "| test | broker | workarounds | runs | failed | runs with a watchdog restart | median s |",
        "|---|---|---|---|---|---|---|",
    ]
    for (test, broker, names, state), runs in sorted(groups.items()):
        failed = sum(not r["passed"] for r in runs)
        restarted = sum(r["signs"]["stall_restart"] > 0 for r in runs)
        label = "all on" if state == "on" else f"off: {names}"
        lines.append(
            f"| {test} | {broker} | {label} | {len(runs)} | {failed}/{len(runs)} | "
            f"{restarted}/{len(runs)} | {statistics.median(r['seconds'] for r in runs):.0f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", action="append", default=[], help="test:broker:off")
    parser.add_argument("--rounds", type=int, default=100)
    parser.add_argument("--minutes", type=float, default=60.0, help="start no run after this")
    parser.add_argument("--summary", action="store_true", help="print the table of all runs")
    args = parser.parse_args()
    if args.summary:
        print(summary(json.loads(OUT.read_text())))
        return
    cases = []
    for case in args.case:
        test, broker, off = case.split(":")
        cases.append((test, broker, [] if off == "-" else off.split(",")))
    deadline = time.monotonic() + 60 * args.minutes
    for _ in range(args.rounds):
        for test, broker, off in cases:
            if time.monotonic() > deadline:
                return
            row = run_once(test, broker, off)
            append(row)
            print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
