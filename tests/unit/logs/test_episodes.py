"""From URL paths to episodes: the default rule, a pattern, a map, and both."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.logs import EpisodeRuleError, import_logs
from tests.unit.logs.logs import TENANT, landed, quarantined, write_log
from warehouse.landing import LandingZone


def line(path: str, second: int = 0) -> str:
    return (
        f'192.0.2.1 - - [10/Oct/2026:13:55:{second:02d} +0000] "GET {path} HTTP/1.1" 200 5 "-" '
        '"Overcast/3.0"'
    )


PATHS = [
    "/show-a/ep-123.mp3?x=1",
    "/e/dts.podtrac.com/redirect.mp3/traffic.example.com/show-a/ep.1.m4a",
    "/favicon.ico",
    "/show-a/ep%C3%A9.mp3",
    "/show-a/noextension",
    "/feed.xml",
]


@pytest.fixture
def log(tmp_path: Path) -> Path:
    return write_log(tmp_path / "access.log", [line(p, i) for i, p in enumerate(PATHS)])


def episodes(zone: LandingZone) -> dict[int, str]:
    return {r["_source_row"]: r["episode_id"] for r in landed(zone, "logs_combined")}


def test_default_is_the_last_segment_without_extension(log: Path, zone: LandingZone) -> None:
    import_logs(TENANT, [log], zone, "combined")
    assert episodes(zone) == {
        1: "ep-123",
        2: "ep.1",
        3: "favicon",
        4: "epé",
        5: "noextension",
        6: "feed",
    }


def test_a_pattern_picks_episode_paths_and_skips_the_rest(log: Path, zone: LandingZone) -> None:
    report = import_logs(
        TENANT, [log], zone, "combined", episode_pattern=r"/show-a/([^/]+)\.(?:mp3|m4a)$"
    )
    assert episodes(zone) == {1: "ep-123", 2: "ep.1", 4: "epé"}
    assert report.files[0].skipped == {"path does not match the episode pattern": 3}
    assert quarantined(zone) == {}


def test_a_pattern_with_an_empty_group_quarantines(tmp_path: Path, zone: LandingZone) -> None:
    log = write_log(tmp_path / "a.log", [line("/show-a/.mp3")])
    import_logs(TENANT, [log], zone, "combined", episode_pattern=r"/show-a/([^/]*)\.mp3$")
    assert quarantined(zone) == {
        1: "the episode pattern matched path '/show-a/.mp3' but its group is empty"
    }


def test_a_map_names_episodes_and_quarantines_unknown_paths(
    tmp_path: Path, log: Path, zone: LandingZone
) -> None:
    mapping = tmp_path / "map.csv"
    mapping.write_text(
        "URL_Path,episode_id\n"
        "https://cdn.example/show-a/ep-123.mp3?utm=feed,E-123\n"
        "/show-a/ep%C3%A9.mp3,E-200\n"
        "show-a/noextension,E-300\n"
        "/show-a/ep-123.mp3,E-123\n"
    )
    import_logs(TENANT, [log], zone, "combined", episode_map=mapping)
    assert episodes(zone) == {1: "E-123", 4: "E-200", 5: "E-300"}
    assert quarantined(zone) == {
        2: "path '/e/dts.podtrac.com/redirect.mp3/traffic.example.com/show-a/ep.1.m4a' is not "
        "in the episode map",
        3: "path '/favicon.ico' is not in the episode map",
        6: "path '/feed.xml' is not in the episode map",
    }


def test_pattern_and_map_together(tmp_path: Path, log: Path, zone: LandingZone) -> None:
    mapping = tmp_path / "map.csv"
    mapping.write_text("url_path,episode_id\n/show-a/ep-123.mp3,E-123\n")
    report = import_logs(
        TENANT, [log], zone, "combined", episode_pattern=r"(\.mp3)$", episode_map=mapping
    )
    assert episodes(zone) == {1: "E-123"}
    assert set(quarantined(zone)) == {4}
    assert report.files[0].lines_skipped == 4


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        (r"/(a)/(b)", "has 2 groups; it needs exactly one"),
        (r"/show/.*", "has 0 groups"),
        (r"/(a", "is not a regular expression"),
        (r"/(?=x)(a)", "RE2 syntax"),
    ],
)
def test_unusable_patterns_are_refused_before_anything_lands(
    pattern: str, message: str, log: Path, zone: LandingZone
) -> None:
    with pytest.raises(EpisodeRuleError, match=message.replace("(", r"\(")):
        import_logs(TENANT, [log], zone, "combined", episode_pattern=pattern)
    assert zone.entities(TENANT) == []


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("path,episode\n/a.mp3,a\n", "has no column url_path, episode_id"),
        ("url_path,episode_id\n/a.mp3,a\n/b.mp3,\n", "line 3: url_path and episode_id"),
        (
            "url_path,episode_id\n/a.mp3,a\n/b.mp3,b\n/a.mp3?x=1,c\n",
            "path '/a.mp3' is mapped to different episodes \\(lines 2 and 4\\)",
        ),
    ],
)
def test_unusable_maps_are_refused(
    content: str, message: str, tmp_path: Path, log: Path, zone: LandingZone
) -> None:
    mapping = tmp_path / "map.csv"
    mapping.write_text(content)
    with pytest.raises(EpisodeRuleError, match=message):
        import_logs(TENANT, [log], zone, "combined", episode_map=mapping)
