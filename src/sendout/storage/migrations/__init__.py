"""Schema migrations: per backend, numbered ``.sql`` files plus ``schema.sql``, the current whole.

An empty database gets ``schema.sql`` in one step and every migration recorded as applied; a
database at an earlier migration gets the numbered files it lacks, in order. A test keeps the two
paths equal, so adding a migration means adding ``NNNN_name.sql`` *and* changing ``schema.sql``.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

__all__ = ["MigrationPlan", "current_schema", "migration_scripts", "plan_migrations"]


def migration_scripts(dialect: str) -> list[tuple[str, str]]:
    """``(name, sql)`` for every numbered migration of ``dialect``, in the order they apply."""
    folder = resources.files(__name__).joinpath(dialect)
    scripts = [
        (entry.name.removesuffix(".sql"), entry.read_text(encoding="utf-8"))
        for entry in folder.iterdir()
        if entry.name.endswith(".sql") and entry.name[:1].isdigit()
    ]
    return sorted(scripts)


def current_schema(dialect: str) -> str:
    """The whole current schema of ``dialect``: what an empty database is given."""
    return resources.files(__name__).joinpath(dialect, "schema.sql").read_text(encoding="utf-8")


@dataclass(frozen=True, slots=True)
class MigrationPlan:
    """What ``migrate`` runs: ``schema.sql`` on an empty database, else the missing steps."""

    fresh: bool
    steps: list[tuple[str, str]]

    @property
    def names(self) -> list[str]:
        return [name for name, _ in self.steps]


def plan_migrations(dialect: str, applied: set[str]) -> MigrationPlan:
    """Nothing applied yet means an empty database (each migration commits with its record)."""
    scripts = migration_scripts(dialect)
    if not applied:
        return MigrationPlan(fresh=True, steps=scripts)
    return MigrationPlan(fresh=False, steps=[s for s in scripts if s[0] not in applied])
