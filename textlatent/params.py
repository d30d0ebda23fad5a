"""Validation of training and query parameters, all problems reported at once.

Names are gensim's own (``num_topics``, ``passes``, ``vector_size``...), the same in the
library, on the command line and in the JSON API.
"""

import math
from dataclasses import dataclass

from .errors import InvalidInput


@dataclass(frozen=True)
class Param:
    name: str
    kind: str            # "int", "float", "choice", "alpha" (float or one of choices), "bool"
    default: object
    low: float | None = None
    high: float | None = None
    choices: tuple = ()
    help: str = ""

    def describe(self):
        if self.kind == "bool":
            return "true or false"
        if self.kind == "choice":
            return "one of " + ", ".join(map(str, self.choices))
        rng = f"{self.low}..{self.high}" if self.high is not None else f">= {self.low}"
        if self.kind == "alpha":
            return f"a number {rng} or one of " + ", ".join(self.choices)
        return " or ".join([f"{'a whole number' if self.kind == 'int' else 'a number'} {rng}", *self.choices])


def validate(spec, given, extra_checks=None):
    """``given`` (strings or numbers) -> a full, typed parameter dict, or InvalidInput
    listing every problem. Unknown names are problems too."""
    by_name = {p.name: p for p in spec}
    problems, out = [], {}
    for name in given:
        if name not in by_name:
            problems.append(f"unknown parameter {str(name)[:50]!r} (known: {', '.join(by_name)})")
    for p in spec:
        value = given.get(p.name)
        if value is None or value == "":
            out[p.name] = p.default
            continue
        try:
            out[p.name] = _convert(p, value)
        except ValueError:
            problems.append(f"{p.name} must be {p.describe()}, not {str(value)[:50]!r}")
    if not problems and extra_checks:
        problems.extend(extra_checks(out))
    if problems:
        raise InvalidInput("; ".join(problems), problems=problems)
    return out


def _convert(p, value):
    if p.kind == "bool":
        if isinstance(value, bool):
            return value
        s = str(value).strip().lower()
        if s in ("1", "true", "yes", "on"):
            return True
        if s in ("0", "false", "no", "off"):
            return False
        raise ValueError
    if p.kind == "choice":
        if value in p.choices:
            return value
        raise ValueError
    if p.kind in ("alpha", "int", "float") and isinstance(value, str) and value.strip() in p.choices:
        return value.strip()        # a named value such as "auto", resolved where it is used
    if isinstance(value, bool):
        raise ValueError
    if p.kind == "int":
        if isinstance(value, float) and not value.is_integer():
            raise ValueError
        if isinstance(value, str):
            value = value.strip()
            if not value.lstrip("-").isdigit():
                raise ValueError
        number = int(value)
    else:
        number = float(value)
        if not math.isfinite(number):
            raise ValueError
    if p.low is not None and number < p.low:
        raise ValueError
    if p.high is not None and number > p.high:
        raise ValueError
    return number


def spec_help(spec):
    return {p.name: {"default": p.default, "allowed": p.describe(), "help": p.help} for p in spec}
