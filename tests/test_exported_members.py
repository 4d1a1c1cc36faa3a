"""The public API: every module lists what it exports, and each name exists."""

from __future__ import annotations

import importlib
import pkgutil

import grader


def test_every_module_declares_and_defines_its_public_names():
    checked = 0
    for info in pkgutil.walk_packages(grader.__path__, "grader."):
        if info.name.startswith("grader.checks") or info.ispkg:  # checks are pytest modules, not API
            continue
        module = importlib.import_module(info.name)
        exported = getattr(module, "__all__", None)
        assert exported is not None, f"{info.name} has no __all__"
        for name in exported:
            assert hasattr(module, name), f"{info.name}.__all__ lists {name}, which is missing"
        checked += 1
    assert checked >= 25
