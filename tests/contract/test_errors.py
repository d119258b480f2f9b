"""Every exception baocao defines is under BaocaoError, as contract/errors.py draws it."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re

from contract import errors
from contract.errors import BaocaoError

PACKAGES = ("contract", "producers", "streams", "sinks", "warehouse", "dashboards", "baocao")


def defined() -> dict[str, type[BaseException]]:
    """Every exception class defined in our packages, by name."""
    found: dict[str, type[BaseException]] = {}
    for package in PACKAGES:
        path = importlib.import_module(package).__path__
        for info in pkgutil.walk_packages(path, f"{package}."):
            if info.name.endswith("__main__"):
                continue
            module = importlib.import_module(info.name)
            for name, obj in vars(module).items():
                if (
                    inspect.isclass(obj)
                    and issubclass(obj, BaseException)
                    and obj.__module__ == module.__name__
                ):
                    found[name] = obj
    return found


def drawn() -> dict[str, tuple[str, str]]:
    """The docstring's tree: each class with its parent and its module."""
    tree: dict[str, tuple[str, str]] = {}
    parents: list[str] = []
    for line in (errors.__doc__ or "").splitlines():
        match = re.match(r"^    ((?:[│ ]   )*)(?:[├└]── )?(\w+)(?:\s+([\w.]+))?", line)
        if match is None or not match.group(2)[0].isupper():
            continue
        depth = len(match.group(1)) // 4 + (1 if "──" in line else 0)
        name = match.group(2)
        del parents[depth:]
        tree[name] = (parents[-1] if parents else "", (match.group(3) or "").rstrip(":"))
        parents.append(name)
    return tree


def test_every_exception_is_a_baocao_error() -> None:
    outside = [name for name, cls in defined().items() if not issubclass(cls, BaocaoError)]
    assert outside == []


def test_the_drawn_tree_is_the_code() -> None:
    classes = defined()
    tree = drawn()
    assert set(tree) == set(classes), "draw new exceptions in contract/errors.py"
    for name, (parent, module) in tree.items():
        cls = classes[name]
        if parent:
            assert parent in [base.__name__ for base in cls.__bases__], name
            assert cls.__module__ == module, name
