"""How the plan and the summary speak: a finding with its examples, counts and values."""

from __future__ import annotations

from dataclasses import dataclass, field

EXAMPLES = 5  # examples shown under a finding


@dataclass
class Finding:
    text: str
    examples: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [self.text]
        if self.examples:
            out.append("    e.g. " + "; ".join(self.examples))
        return out


def show(value) -> str:
    if value is None:
        return "NULL"
    return repr(value if isinstance(value, str) else str(value))


def plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"
