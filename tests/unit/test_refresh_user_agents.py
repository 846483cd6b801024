"""scripts/refresh_user_agents.py: OPAWG JSON -> the user_agents seed, offline."""

from __future__ import annotations

import csv
import importlib.util
import json
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location(
    "refresh_user_agents", ROOT / "scripts" / "refresh_user_agents.py"
)
assert _spec and _spec.loader
refresh = importlib.util.module_from_spec(_spec)
sys.modules["refresh_user_agents"] = refresh
_spec.loader.exec_module(refresh)

# The combined OPAWG list: entries with a user_agents regex list and bot/app/device/os fields.
V1_SAMPLE = [
    {
        "user_agents": ["^atc/", "\\(null\\) watchOS/"],
        "bot": True,
        "description": "Apple Podcasts (Watch)",
    },
    {"user_agents": ["Googlebot/\\d"], "bot": True, "description": "Googlebot"},
    {
        "user_agents": ["^Overcast/"],
        "app": "Overcast",
        "device": "phone",
        "os": "ios",
        "examples": ["Overcast/3.0 (+http://overcast.fm/; iOS podcast app)"],
    },
    {"user_agents": ["^(?!Mozilla)Foo"], "app": "Look-ahead app"},
    {"user_agents": ["Firefox/"], "browser": "Firefox", "os": "windows"},
]
V2_LIBRARIES = {
    "entries": [
        {"name": "AppleCoreMedia", "pattern": "^AppleCoreMedia/1"},
        {"name": "okhttp", "pattern": "okhttp", "category": "bot"},
        {"name": "AlexaMediaPlayer", "pattern": "^AlexaMediaPlayer/[\\dv]", "category": "bot"},
    ]
}
PROJECT_SEED = (
    "position,kind,name,pattern,source\n"
    "1,watch,Apple Watch (atc),^atc/.*watchOS,project\n"
    "201,app,Spotify,^Spotify/,project\n"
    "250,app,Stale import,^Stale/,opawg\n"
)


@pytest.fixture
def seed(tmp_path: Path) -> Path:
    path = tmp_path / "user_agents.csv"
    path.write_text(PROJECT_SEED, encoding="utf-8")
    return path


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_combined_list_keeps_project_rows_and_replaces_imports(tmp_path: Path, seed: Path) -> None:
    source = tmp_path / "user-agents.json"
    source.write_text(json.dumps(V1_SAMPLE), encoding="utf-8")
    assert refresh.main([str(source), "--seed", str(seed)]) == 0
    rows = _rows(seed)
    by_pattern = {r["pattern"]: r for r in rows}
    # the project's rows stay, first in their kind; the stale import is gone
    assert by_pattern["^atc/.*watchOS"]["source"] == "project"
    assert by_pattern["^Spotify/"]["source"] == "project"
    assert "^Stale/" not in by_pattern
    # bot: true -> bot; app -> app; browser -> browser; \d made portable
    assert by_pattern["Googlebot/[0-9]"]["kind"] == "bot"
    assert by_pattern["^atc/"]["kind"] == "bot"
    assert by_pattern["^Overcast/"]["kind"] == "app"
    assert by_pattern["Firefox/"]["kind"] == "browser"
    # look-ahead is not portable: skipped, not written
    assert not any("?!" in p for p in by_pattern)
    positions = [int(r["position"]) for r in rows]
    assert len(set(positions)) == len(positions)
    apps = sorted((r for r in rows if r["kind"] == "app"), key=lambda r: int(r["position"]))
    assert [r["pattern"] for r in apps] == ["^Spotify/", "^Overcast/"]


def test_v2_libraries_split_player_libraries_from_bot_libraries(tmp_path: Path, seed: Path) -> None:
    source = tmp_path / "libraries.json"
    source.write_text(json.dumps(V2_LIBRARIES), encoding="utf-8")
    refresh.main([str(source), "--seed", str(seed)])
    kinds = {r["name"]: (r["kind"], r["pattern"]) for r in _rows(seed)}
    assert kinds["AppleCoreMedia"] == ("app", "^AppleCoreMedia/1")
    assert kinds["okhttp"] == ("library", "okhttp")
    # \d inside a class becomes a range inside the same class
    assert kinds["AlexaMediaPlayer"] == ("library", "^AlexaMediaPlayer/[0-9v]")


def test_unknown_kind_needs_the_option(tmp_path: Path, seed: Path) -> None:
    source = tmp_path / "misc.json"
    source.write_text(json.dumps({"entries": [{"name": "x", "pattern": "^x/"}]}), "utf-8")
    with pytest.raises(ValueError, match="--kind"):
        refresh.main([str(source), "--seed", str(seed)])
    refresh.main([str(source), "--kind", "bot", "--seed", str(seed)])
    assert any(r["pattern"] == "^x/" and r["kind"] == "bot" for r in _rows(seed))


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("^Foo/\\d+\\.\\d", "^Foo/[0-9]+\\.[0-9]"),
        ("Bar\\s\\w", "Bar[[:space:]][[:alnum:]_]"),
        ("[\\d.]+", "[0-9.]+"),
        ("(?i)foo", None),
        ("a(?=b)", None),
        ("(a)\\1", None),
        ("\\bword", None),
    ],
)
def test_portable_pattern(pattern: str, expected: str | None) -> None:
    assert refresh.portable_pattern(pattern) == expected


def test_project_seed_classifies_every_simulated_user_agent() -> None:
    """The shipped seed (OPAWG order) catches the simulator's bots, libraries and watches and
    none of its apps or browsers."""
    from connectors.simulator.user_agents import _catalogue

    rank = {"watch": 0, "bot": 1, "app": 2, "library": 3, "browser": 4}
    seed_rows = sorted(_rows(refresh.SEED), key=lambda r: (rank[r["kind"]], int(r["position"])))
    for ua in _catalogue():
        match = next((r for r in seed_rows if re.search(r["pattern"], ua.text)), None)
        assert match is not None, ua.text
        excluded = match["kind"] in ("watch", "bot", "library")
        assert excluded == (ua.role in ("bot", "watch")), (ua.text, match["name"])
