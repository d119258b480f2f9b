"""Watch a Chromium page for Content-Security-Policy violations and script errors."""

from __future__ import annotations

from typing import Any

WATCH = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.cspViolations.push(`${e.violatedDirective} ${e.blockedURI} ${e.sample}`);
});
"""


class CspWatch:
    """A page's CSP violations: its ``securitypolicyviolation`` events and console lines."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.console: list[str] = []
        page.add_init_script(WATCH)
        page.on("console", lambda msg: self.console.append(f"{msg.type}: {msg.text}"))
        page.on("pageerror", lambda exc: self.console.append(f"pageerror: {exc}"))

    def violations(self) -> list[str]:
        events: list[str] = self.page.evaluate("window.cspViolations || []")
        said = [m for m in self.console if "Content Security Policy" in m]
        return events + said

    def assert_clean(self) -> None:
        """No violation, and no script error (a refused script shows up as one)."""
        assert self.page.evaluate("window.cspViolations !== undefined"), "the watch never ran"
        assert self.violations() == [], self.violations()
        errors = [m for m in self.console if m.startswith("pageerror")]
        assert errors == [], errors
