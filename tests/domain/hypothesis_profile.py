"""Hypothesis settings shared by the property tests.

Hypothesis keeps its example database (the failing examples it replays first on the next
run) outside the work tree, which `make test` leaves clean. Examples are kept modest: other
suites run on the same small machine.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis.configuration import set_hypothesis_home_dir
from hypothesis.database import DirectoryBasedExampleDatabase

HYPOTHESIS_HOME = Path(tempfile.gettempdir()) / "checkin-hypothesis"
set_hypothesis_home_dir(HYPOTHESIS_HOME)
EXAMPLES = DirectoryBasedExampleDatabase(HYPOTHESIS_HOME / "examples")


def properties(max_examples: int = 100) -> settings:
    """Settings for one property: no deadline (the machine is shared), the example database
    in /tmp, and none of the health checks that a database fixture or a large generated
    file trips without anything being wrong."""
    return settings(
        max_examples=max_examples,
        deadline=None,
        database=EXAMPLES,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                               HealthCheck.filter_too_much, HealthCheck.data_too_large],
    )
