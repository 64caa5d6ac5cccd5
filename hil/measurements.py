"""Measurements: a name, a value with its unit, the spec's limits and a verdict, validated when set."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from hil.specs import Spec


class Outcome(enum.Enum):
    PASS = "pass"
    MARGINAL = "marginal"  # inside the limits but within the spec's marginal band of one
    FAIL = "fail"


@dataclass(frozen=True)
class Measurement:
    name: str
    value: float
    spec: Spec
    outcome: Outcome

    @classmethod
    def judge(cls, spec: Spec, value: float) -> Measurement:
        if not spec.low <= value <= spec.high:  # NaN fails too
            outcome = Outcome.FAIL
        elif value - spec.low < spec.marginal or spec.high - value < spec.marginal:
            outcome = Outcome.MARGINAL
        else:
            outcome = Outcome.PASS
        return cls(spec.name, float(value), spec, outcome)

    @property
    def passed(self) -> bool:
        return self.outcome is not Outcome.FAIL

    def record(self) -> dict[str, object]:
        """Plain values for a report, a results file or another process."""
        spec = self.spec
        return {
            "name": self.name,
            "value": self.value,
            "unit": spec.unit,
            "outcome": self.outcome.value,
            "low": spec.low,
            "high": spec.high,
            "marginal": spec.marginal,
            "clause": spec.clause,
            "source": spec.source,
            "line": self.line(),
        }

    def line(self) -> str:
        return (
            f"{self.name} = {self.value:.6g} {self.spec.unit} {self.outcome.value.upper()} "
            f"(limits {self.spec.limits_text()}, {self.spec.clause} [{self.spec.source}])"
        )
