"""Named crash points, so tests can kill a process between any two steps of a workflow.

`checkpoint("request-created")` does nothing unless CERTAINLY_CRASH_AT names that point,
in which case the process dies on the spot (no cleanup, no finally blocks), as a
power cut or an OOM kill would. Tests re-deliver the event afterwards and check that
the next invocation finishes the job.
"""

from __future__ import annotations

import os
from typing import Final

CRASH_ENV: Final = "CERTAINLY_CRASH_AT"
CRASH_EXIT_CODE: Final = 137


def checkpoint(name: str) -> None:
    if os.environ.get(CRASH_ENV) == name:
        os._exit(CRASH_EXIT_CODE)
