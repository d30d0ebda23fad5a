"""The ``textlatent`` command: one short function per command over the library.

Each command reads its options, calls one library function, and turns the library's
errors into a one-line message and exit status 1 (never a traceback). The commands
live by area in :mod:`.corpora`, :mod:`.training`, :mod:`.maps`, :mod:`.analysis` and
:mod:`.service`.
"""

from . import analysis, corpora, maps, service, training  # noqa: F401  (each registers its commands on the group)
from .base import cli


def main():
    cli(prog_name="textlatent")
