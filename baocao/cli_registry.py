"""``baocao registry-national``: the whole country's registry, for load tests."""

from __future__ import annotations

from pathlib import Path
from typing import cast

import click

from contract.errors import BaocaoError

NATIONAL_EXAMPLES = """
\b
Examples / Ví dụ:
  baocao registry-national --out var/registry-national.json
  baocao registry-national --hierarchy 2025 --synthetic-checkpoints 2 \\
      --out var/registry-2025.json
  BAOCAO_REGISTRY_PATH=var/registry-national.json baocao simulate --days 1 --dry-run
\b
2021: 63 provinces, 696 districts (they report district-daily), 10,035 communes.
2025: 34 provinces and 3,321 communes (they report district-daily: no districts).
Synthetic checkpoints are named and marked as such (CP-19-S01); the real ones of
contract/data/checkpoints.toml are always included in 2021.
"""


@click.command("registry-national", epilog=NATIONAL_EXAMPLES)
@click.option("--hierarchy", type=click.Choice(["2021", "2025"]), default="2021", show_default=True)
@click.option(
    "--reporting-level",
    type=click.Choice(["district", "commune"]),
    help="who reports district-daily [district in 2021, commune in 2025]",
)
@click.option(
    "--synthetic-checkpoints",
    type=click.IntRange(0, 99),
    default=0,
    show_default=True,
    help="synthetic checkpoints per province",
)
@click.option("--no-communes", is_flag=True, help="provinces and districts only (2021)")
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), required=True)
def registry_national(
    hierarchy: str,
    reporting_level: str | None,
    synthetic_checkpoints: int,
    no_communes: bool,
    out: Path,
) -> None:
    """Write a registry of every province (use it with BAOCAO_REGISTRY_PATH)."""
    from collections import Counter

    from contract.registry_build import Hierarchy
    from contract.registry_national import ReportingLevel, build_national

    try:
        reg = build_national(
            cast(Hierarchy, hierarchy),  # click.Choice allows only these values
            cast(ReportingLevel | None, reporting_level),
            synthetic_checkpoints,
            communes=not no_communes,
        )
        reg.dump(out)
    except BaocaoError as exc:
        raise click.ClickException(str(exc)) from exc
    except OSError as exc:
        msg = f"cannot write {out}: {exc.strerror} / không ghi được tệp"
        raise click.ClickException(msg) from exc
    kinds = Counter(u.kind.value for u in reg)
    detail = ", ".join(f"{n:,} {kind}" for kind, n in kinds.items())
    click.echo(f"wrote {len(reg):,} units to {out} ({detail})")


COMMANDS = [registry_national]
