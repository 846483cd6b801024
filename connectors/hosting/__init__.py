"""Connectors for podcast hosting platforms: shows, episodes and daily downloads."""

from __future__ import annotations

from connectors.framework.connector import Connector
from connectors.hosting.buzzsprout import Buzzsprout
from connectors.hosting.castos import Castos
from connectors.hosting.libsyn import Libsyn
from connectors.hosting.podbean import Podbean
from connectors.hosting.simplecast import Simplecast
from connectors.hosting.spotify import Spotify
from connectors.hosting.transistor import Transistor
from connectors.hosting.youtube import YouTube

HOSTING_CONNECTORS: list[type[Connector]] = [
    Buzzsprout,
    Transistor,
    Podbean,
    Simplecast,
    Libsyn,
    Castos,
    Spotify,
    YouTube,
]
