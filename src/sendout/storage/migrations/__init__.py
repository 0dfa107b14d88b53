"""Schema migrations, one folder of numbered ``.sql`` files per backend."""

from __future__ import annotations

from importlib import resources

__all__ = ["migration_scripts"]


def migration_scripts(dialect: str) -> list[tuple[str, str]]:
    """``(name, sql)`` for every migration of ``dialect``, in the order they apply."""
    folder = resources.files(__name__).joinpath(dialect)
    scripts = [
        (entry.name.removesuffix(".sql"), entry.read_text(encoding="utf-8"))
        for entry in folder.iterdir()
        if entry.name.endswith(".sql")
    ]
    return sorted(scripts)
