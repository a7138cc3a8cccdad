"""The feature builders of the panel, one module per factor family, in the order they run.

Adding a feature: a ``catalogue.yaml`` entry and a builder function listed in its family
module's ``BUILDERS``. :func:`registered_builders` checks that the catalogue and the builders
agree (every catalogue feature is produced by exactly one builder, every produced feature is in
the catalogue, every used feature comes from an earlier builder).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from functools import lru_cache

from sprintlab.features import bounce_back, control, history, load, strength, timing, wellness
from sprintlab.features.builder import Builder
from sprintlab.features.catalogue import load_catalogue

# control combines strength and timing features, so it runs after them
BUILDERS: tuple[Builder, ...] = (
    *history.BUILDERS,
    *strength.BUILDERS,
    *timing.BUILDERS,
    *bounce_back.BUILDERS,
    *control.BUILDERS,
    *load.BUILDERS,
    *wellness.BUILDERS,
)


def registry_problems(builders: Sequence[Builder], catalogue_names: Sequence[str]) -> list[str]:
    """Disagreements between builders and catalogue (empty when they agree)."""
    produced = Counter(f for b in builders for f in b.produces)
    problems = [f"{f} is produced by {n} builders" for f, n in produced.items() if n > 1]
    problems += [f"{f} is produced but not in the catalogue" for f in produced if f not in catalogue_names]
    problems += [
        f"{f} is in the catalogue but no builder produces it" for f in catalogue_names if f not in produced
    ]
    earlier: set[str] = set()
    for b in builders:
        problems += [
            f"{b.name} uses {f}, which no earlier builder produces" for f in b.uses if f not in earlier
        ]
        earlier.update(b.produces)
    return problems


@lru_cache(maxsize=1)
def registered_builders() -> tuple[Builder, ...]:
    """:data:`BUILDERS`, once checked against the catalogue (raises ``ValueError`` on a mismatch)."""
    problems = registry_problems(BUILDERS, load_catalogue().names)
    if problems:
        raise ValueError("feature builders and catalogue.yaml disagree: " + "; ".join(problems))
    return BUILDERS
