"""User agents seen in podcast hosting logs and on shop websites, and how each one fetches.

Strings follow the forms the apps really send (OPAWG user-agents list, IAB guidelines): Apple
Podcasts through AppleCoreMedia or the Podcasts app, Spotify, Overcast, Pocket Casts, Castbox,
Podcast Addict, AntennaPod, browsers; Apple Watch re-downloads (``atc/`` ... ``watchOS``, or
``(null)/(null) watchOS``); bots and HTTP libraries. Versions vary so that an IP+UA pair
identifies a device the way it does in real logs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

PLATFORMS = ("ios", "android", "desktop", "watch", "bot")
PLATFORM_CODE = {name: code for code, name in enumerate(PLATFORMS)}
ROLES = ("app", "browser", "watch", "bot")
ROLE_CODE = {name: code for code, name in enumerate(ROLES)}

MIB = 1024 * 1024


@dataclass(frozen=True)
class FetchStyle:
    """How a client fetches an episode file."""

    p_head: float  # sends a HEAD first
    p_probe: float  # sends a 2-byte range probe (bytes=0-1) first
    p_ranged: float  # fetches in 206 ranges (else one 200 GET)
    chunk_bytes: int  # size of each range
    p_open_ended: float  # writes the last range as bytes=N- when it runs to the end
    p_revalidate: float  # later sends a conditional GET answered 304
    streams: bool  # ranges follow playback (spread over the listen) rather than a burst


STYLES: dict[str, FetchStyle] = {
    "coremedia": FetchStyle(0.0, 0.7, 0.85, 8 * MIB, 0.3, 0.05, True),
    "podcasts_app": FetchStyle(0.1, 0.0, 0.0, 0, 0.0, 0.08, False),
    "download": FetchStyle(0.0, 0.0, 0.0, 0, 0.0, 0.02, False),
    "overcast": FetchStyle(0.3, 0.0, 0.0, 0, 0.0, 0.05, False),
    "exoplayer": FetchStyle(0.0, 0.1, 0.6, MIB, 0.2, 0.0, True),
    "browser": FetchStyle(0.0, 0.0, 0.9, 4 * MIB, 0.6, 0.03, True),
    "watch": FetchStyle(0.0, 0.0, 0.0, 0, 0.0, 0.0, False),
    "crawler": FetchStyle(0.5, 0.0, 0.0, 0, 0.0, 0.0, False),
    "script": FetchStyle(0.2, 0.0, 0.0, 0, 0.0, 0.0, False),
}
STYLE_NAMES = tuple(STYLES)

# (version in the CPU OS token, version, build, Darwin version)
_IOS = [
    ("17_4", "17.4", "21E236", "23.4.0"),
    ("17_4_1", "17.4.1", "21E236", "23.4.0"),
    ("17_5_1", "17.5.1", "21F90", "23.5.0"),
    ("16_7_8", "16.7.8", "20H343", "22.6.0"),
    ("17_6_1", "17.6.1", "21G93", "23.6.0"),
]
_IPHONES = ["iPhone15,2", "iPhone14,5", "iPhone16,1", "iPhone13,2", "iPhone15,4"]
_ANDROID = [
    ("14", "34", "Pixel 8"),
    ("14", "34", "SM-S918B"),
    ("13", "33", "SM-A536B"),
    ("13", "33", "Pixel 6a"),
    ("12", "31", "moto g power (2022)"),
]
_MACOS = [("14.4.1", "23E224", "10_15_7"), ("13.6.6", "22G630", "10_15_7")]
_WATCH = [
    ("10.4", "Watch6,1", "21T216", "279"),
    ("10.4.1", "Watch6,14", "21T230", "280"),
    ("10.5", "Watch7,3", "21T576", "281"),
]


@dataclass(frozen=True)
class UserAgent:
    text: str
    platform: str
    role: str
    weight: float  # share within its platform and role
    style: str


def _catalogue() -> list[UserAgent]:
    out: list[UserAgent] = []
    add = out.append
    # iPhone podcast apps (iOS shares roughly as reported by hosts: Apple Podcasts dominant).
    for ios_u, ios_v, build, darwin in _IOS:
        add(
            UserAgent(
                f"AppleCoreMedia/1.0.0.{build} (iPhone; U; CPU OS {ios_u} like Mac OS X; en_us)",
                "ios",
                "app",
                0.30 / len(_IOS),
                "coremedia",
            )
        )
        add(
            UserAgent(
                f"Podcasts/1650.20 CFNetwork/1494.0.7 Darwin/{darwin}",
                "ios",
                "app",
                0.14 / len(_IOS),
                "podcasts_app",
            )
        )
        for k, model in enumerate(_IPHONES):
            add(
                UserAgent(
                    f"Spotify/8.9.{28 + k} iOS/{ios_v} ({model})",
                    "ios",
                    "app",
                    0.26 / (len(_IOS) * len(_IPHONES)),
                    "download",
                )
            )
        add(
            UserAgent(
                f"Overcast/3.0 (+http://overcast.fm/; iOS podcast app) iOS/{ios_v}",
                "ios",
                "app",
                0.08 / len(_IOS),
                "overcast",
            )
        )
        add(
            UserAgent(
                f"PocketCasts/1.0 (Pocket Casts iOS 7.61; iOS {ios_v})",
                "ios",
                "app",
                0.08 / len(_IOS),
                "download",
            )
        )
        add(
            UserAgent(
                f"CastBox/8.77.0 (fm.castbox.audio.radio.podcast; build:240; iOS {ios_v}) "
                "Alamofire/5.6.4",
                "ios",
                "app",
                0.06 / len(_IOS),
                "download",
            )
        )
        add(
            UserAgent(
                f"Mozilla/5.0 (iPhone; CPU iPhone OS {ios_u} like Mac OS X) AppleWebKit/605.1.15 "
                f"(KHTML, like Gecko) Version/{ios_v[:4]} Mobile/15E148 Safari/604.1",
                "ios",
                "app",
                0.08 / len(_IOS),
                "browser",
            )
        )
    # Android podcast apps.
    for version, sdk, model in _ANDROID:
        add(
            UserAgent(
                f"Spotify/8.9.32.624 Android/{sdk} ({model})",
                "android",
                "app",
                0.40 / len(_ANDROID),
                "download",
            )
        )
        add(
            UserAgent(
                f"Pocket Casts/7.62 (Android {version}; {model})",
                "android",
                "app",
                0.12 / len(_ANDROID),
                "download",
            )
        )
        add(
            UserAgent(
                f"CastBox/8.77.1-240418143 (Linux;Android {version}) ExoPlayerLib/2.10.4",
                "android",
                "app",
                0.12 / len(_ANDROID),
                "exoplayer",
            )
        )
        add(
            UserAgent(
                f"PodcastAddict/v5 (Linux; U; Android {version}) ExoPlayerLib/2.19.1",
                "android",
                "app",
                0.14 / len(_ANDROID),
                "exoplayer",
            )
        )
        add(
            UserAgent(
                f"AntennaPod/3.4.0 (Android {version}; {model})",
                "android",
                "app",
                0.06 / len(_ANDROID),
                "download",
            )
        )
        add(
            UserAgent(
                f"Mozilla/5.0 (Linux; Android {version}; {model}) AppleWebKit/537.36 (KHTML, like "
                "Gecko) Chrome/124.0.6367.82 Mobile Safari/537.36",
                "android",
                "app",
                0.16 / len(_ANDROID),
                "browser",
            )
        )
    # Desktop listening: Apple Podcasts on the Mac, Spotify desktop, browsers.
    for macos, build, _ in _MACOS:
        add(
            UserAgent(
                f"Podcasts/1.1.0 (Macintosh; OS X {macos}; {build})",
                "desktop",
                "app",
                0.10,
                "podcasts_app",
            )
        )
        add(
            UserAgent(
                f"AppleCoreMedia/1.0.0.{build} (Macintosh; U; Intel Mac OS X "
                f"{macos.replace('.', '_')}; en_us)",
                "desktop",
                "app",
                0.08,
                "coremedia",
            )
        )
    add(UserAgent("Podcasts/1.1.0", "desktop", "app", 0.04, "podcasts_app"))
    add(
        UserAgent(
            "Spotify/1.2.37.701 Win32_x86_64/0 (PC desktop)", "desktop", "app", 0.12, "download"
        )
    )
    # Browsers (listening on a show's web player, and shopping).
    desktop_browsers = [
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/124.0.0.0 Safari/537.36",
            0.40,
        ),
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 "
            "(KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
            0.20,
        ),
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like "
            "Gecko) Version/17.4.1 Safari/605.1.15",
            0.18,
        ),
        ("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0", 0.08),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.67",
            0.14,
        ),
    ]
    for text, weight in desktop_browsers:
        add(UserAgent(text, "desktop", "app", 0.66 * weight, "browser"))
        add(UserAgent(text, "desktop", "browser", weight, "browser"))
    for ios_u, ios_v, _, _ in _IOS:
        add(
            UserAgent(
                f"Mozilla/5.0 (iPhone; CPU iPhone OS {ios_u} like Mac OS X) AppleWebKit/605.1.15 "
                f"(KHTML, like Gecko) Version/{ios_v[:4]} Mobile/15E148 Safari/604.1",
                "ios",
                "browser",
                0.8 / len(_IOS),
                "browser",
            )
        )
        add(
            UserAgent(
                f"Mozilla/5.0 (iPhone; CPU iPhone OS {ios_u} like Mac OS X) AppleWebKit/605.1.15 "
                "(KHTML, like Gecko) CriOS/124.0.6367.88 Mobile/15E148 Safari/604.1",
                "ios",
                "browser",
                0.2 / len(_IOS),
                "browser",
            )
        )
    for version, _, model in _ANDROID:
        add(
            UserAgent(
                f"Mozilla/5.0 (Linux; Android {version}; {model}) AppleWebKit/537.36 (KHTML, like "
                "Gecko) Chrome/124.0.6367.82 Mobile Safari/537.36",
                "android",
                "browser",
                1.0 / len(_ANDROID),
                "browser",
            )
        )
    # Apple Watch re-downloads of what the paired iPhone fetched.
    for watchos, model, build, dt in _WATCH:
        add(
            UserAgent(
                f"atc/1.0 watchOS/{watchos} model/{model} hwp/t8301 build/{build} (6; dt:{dt})",
                "watch",
                "watch",
                0.7 / len(_WATCH),
                "watch",
            )
        )
        add(
            UserAgent(
                f"(null)/(null) watchOS/{watchos} model/{model} hwp/t8301 build/{build} "
                f"(6; dt:{dt})",
                "watch",
                "watch",
                0.3 / len(_WATCH),
                "watch",
            )
        )
    # Bots and scripts (these come from data-centre addresses).
    bots = [
        (
            "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
            0.25,
            "crawler",
        ),
        ("Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)", 0.15, "crawler"),
        (
            "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
            0.10,
            "crawler",
        ),
        ("python-requests/2.31.0", 0.15, "script"),
        ("curl/8.4.0", 0.10, "script"),
        ("Wget/1.21.4", 0.05, "script"),
        ("Go-http-client/1.1", 0.08, "script"),
        (
            "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
            0.07,
            "crawler",
        ),
        ("okhttp/4.12.0", 0.05, "script"),
    ]
    for text, weight, style in bots:
        add(UserAgent(text, "bot", "bot", weight, style))
    return out


@dataclass(frozen=True)
class UserAgentTable:
    """All user agents, as columns indexed by a small integer."""

    text: pa.Array
    platform: np.ndarray  # int8 PLATFORM_CODE
    role: np.ndarray  # int8 ROLE_CODE
    weight: np.ndarray  # float64
    p_head: np.ndarray
    p_probe: np.ndarray
    p_ranged: np.ndarray
    chunk_bytes: np.ndarray  # int64
    p_open_ended: np.ndarray
    p_revalidate: np.ndarray
    streams: np.ndarray  # bool

    def __len__(self) -> int:
        return len(self.text)

    def pick(self, rng: np.random.Generator, platform: np.ndarray, role: str) -> np.ndarray:
        """One user agent of ``role`` for each platform code, by weight."""
        out = np.full(len(platform), -1, dtype=np.int16)
        for code in np.unique(platform):
            candidates = np.flatnonzero((self.platform == code) & (self.role == ROLE_CODE[role]))
            sel = np.flatnonzero(platform == code)
            if not candidates.size:
                raise ValueError(f"no {role} user agent for platform {PLATFORMS[code]}")
            w = self.weight[candidates]
            out[sel] = candidates[rng.choice(candidates.size, size=sel.size, p=w / w.sum())]
        return out


def build_user_agents() -> UserAgentTable:
    uas = _catalogue()
    styles = [STYLES[u.style] for u in uas]
    return UserAgentTable(
        text=pa.array([u.text for u in uas], type=pa.string()),
        platform=np.array([PLATFORM_CODE[u.platform] for u in uas], dtype=np.int8),
        role=np.array([ROLE_CODE[u.role] for u in uas], dtype=np.int8),
        weight=np.array([u.weight for u in uas], dtype=np.float64),
        p_head=np.array([s.p_head for s in styles]),
        p_probe=np.array([s.p_probe for s in styles]),
        p_ranged=np.array([s.p_ranged for s in styles]),
        chunk_bytes=np.array([s.chunk_bytes for s in styles], dtype=np.int64),
        p_open_ended=np.array([s.p_open_ended for s in styles]),
        p_revalidate=np.array([s.p_revalidate for s in styles]),
        streams=np.array([s.streams for s in styles], dtype=bool),
    )
