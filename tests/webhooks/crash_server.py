"""Test-only entry points that die at chosen moments, as a killed process or a power cut would.

``python -m tests.webhooks.crash_server serve``: the receiver, killed right after the first
delivery is durably in the inbox and before its answer is sent.
``python -m tests.webhooks.crash_server drain``: a drain killed right after it has landed a
group and before it moves the group's deliveries to done/.
"""

from __future__ import annotations

import os
import sys

from connectors.webhooks.processor import drain
from connectors.webhooks.receiver import ReceiverConfig, serve
from warehouse.landing import configured_zone

KILLED = 137


def _die(*args: object) -> None:
    os._exit(KILLED)


def main(argv: list[str]) -> int:
    zone = configured_zone()
    if argv[1:] == ["serve"]:
        serve(
            ReceiverConfig(zone=zone, after_store=_die),
            "127.0.0.1",
            0,
            announce=lambda line: print(line, flush=True),
        )
        return 0
    if argv[1:] == ["drain"]:
        drain(zone, after_landing=_die)
        return 0
    print("usage: crash_server serve|drain", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
