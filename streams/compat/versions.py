"""Which releases of Faust and aiokafka a workaround was written for, checked at install.

A workaround replaces a private method of faust-streaming or aiokafka. Outside the
releases it was written and tested against, the method it replaces may have moved
(the workaround cannot apply: refused) or changed, perhaps fixing the upstream bug
(it still applies, with a warning naming docs/known-issues.md). pyproject.toml caps
both libraries at the same bounds, so the warning means an install that ignored them.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version

from contract.errors import BaocaoError
from contract.logs import said

log = logging.getLogger(__name__)


class CompatError(BaocaoError):
    """A workaround cannot apply to the installed library."""


@dataclass(frozen=True)
class WrittenFor:
    """A distribution's releases from ``lowest`` up to, not including, ``below``."""

    dist: str
    lowest: str
    below: str

    def installed(self) -> str | None:
        try:
            return version(self.dist)
        except PackageNotFoundError:
            return None

    def holds(self, found: str) -> bool:
        return _key(self.lowest) <= _key(found) < _key(self.below)


#: faust-streaming and aiokafka as pinned in pyproject.toml (keep the two in step).
FAUST = WrittenFor("faust-streaming", "0.15.2", "0.16")
AIOKAFKA = WrittenFor("aiokafka", "0.11", "0.15")


def check(name: str, written_for: tuple[WrittenFor, ...], hooks: dict[str, object]) -> None:
    """Refuse ``name`` when a hook it replaces is missing; warn when a version is outside.

    ``hooks``: the library attributes the workaround replaces, by dotted name (None when
    the attribute is gone).
    """
    missing = sorted(where for where, hook in hooks.items() if hook is None)
    if missing:
        raise CompatError(
            f"workaround {name}: {', '.join(missing)} không còn trong thư viện đã cài; "
            f"tắt nó bằng BAOCAO_COMPAT_OFF={name} hoặc cài đúng phiên bản. / "
            f"{', '.join(missing)} no longer exist; turn it off with "
            f"BAOCAO_COMPAT_OFF={name} or install the pinned versions"
        )
    for lib in written_for:
        found = lib.installed()
        if found is not None and not lib.holds(found):
            log.warning(
                said(
                    "workaround {name} was written for {lib} >={low},<{below}, not {found}: "
                    "check docs/known-issues.md whether it is still needed.",
                    "Bản vá {name} viết cho {lib} >={low},<{below}, không phải {found}: xem "
                    "docs/known-issues.md.",
                    name=name,
                    lib=lib.dist,
                    low=lib.lowest,
                    below=lib.below,
                    found=found,
                )
            )


def _key(text: str) -> tuple[int, ...]:
    """The release numbers a version starts with: "0.15.3" -> (0, 15, 3); "1.0rc1" -> (1, 0)."""
    release = re.match(r"\d+(\.\d+)*", text)
    return tuple(int(part) for part in release.group(0).split(".")) if release else ()
