"""Tags every AWS resource carries: project, stack and a name that says what it is."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Tags:
    """Makes the tag map of one resource; `extra` adds keys such as subnet discovery tags."""

    project: str
    stack: str

    def __call__(self, name: str, **extra: str) -> dict[str, str]:
        return {"Project": self.project, "Stack": self.stack, "Name": name, **extra}
