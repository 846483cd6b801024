"""CSV export folders as slices: listing, digests and plans, header matching, rows and cells."""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

import pytest

from connectors.framework.connector import FULL, INCREMENTAL
from connectors.framework.errors import ApiChangedError, ConnectorError, RecordError
from connectors.framework.exports import (
    Column,
    ExportFolder,
    ExportSettings,
    cell,
    check_row,
    count_cell,
    day_cell,
    export_folder,
    header_key,
    match_header,
)
from connectors.framework.state import RunProgress, StreamState

COLUMNS = [
    Column("date", ("Date", "Day")),
    Column("episode", ("Episode", "Episode title"), required=False),
    Column("episode_id", ("Episode ID",), required=False),
    Column("count", ("Plays", "Streams", "Downloads")),
]


def folder_with(tmp_path: Path, files: dict[str, str]) -> ExportFolder:
    root = tmp_path / "exports"
    root.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        (root / name).write_text(content, encoding="utf-8", newline="")
    return ExportFolder("demo", root)


def state() -> StreamState:
    return StreamState("acme", "demo", "host_downloads_daily")


# -- the folder --------------------------------------------------------------------------------


def test_files_are_the_csv_files_of_the_folder_sorted(tmp_path: Path) -> None:
    exports = folder_with(
        tmp_path,
        {
            "b.csv": "Date,Plays\n",
            "a.CSV": "Date,Plays\n",
            ".partial.csv": "",
            "_old.csv": "",
            "notes.txt": "",
        },
    )
    (exports.folder / "sub").mkdir()
    (exports.folder / "sub" / "c.csv").write_text("Date,Plays\n")
    assert exports.files() == ["a.CSV", "b.csv"]
    assert exports.describe() == f"2 export file(s) in {exports.folder}"


def test_a_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    exports = ExportFolder("demo", tmp_path / "nowhere")
    with pytest.raises(ConnectorError, match="nowhere does not exist"):
        exports.files()


def test_the_folder_is_per_tenant_and_platform_or_the_setting(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("EARSHOT_HOME", str(tmp_path))
    assert export_folder("acme", "spotify", ExportSettings()) == (
        tmp_path / "exports" / "acme" / "spotify"
    )
    relative = ExportSettings(export_dir=Path("drops/acme"))
    assert export_folder("acme", "spotify", relative) == tmp_path / "drops" / "acme"
    absolute = ExportSettings(export_dir=tmp_path / "elsewhere")
    assert export_folder("acme", "spotify", absolute) == tmp_path / "elsewhere"


# -- plans -------------------------------------------------------------------------------------


def test_full_plans_every_file_and_remembers_its_sha256(tmp_path: Path) -> None:
    exports = folder_with(tmp_path, {"2.csv": "Date,Plays\n", "1.csv": "Day,Plays\n"})
    current = state()
    plan = exports.plan(current, FULL)
    assert plan.slices == ["1.csv", "2.csv"]
    assert plan.target_cursor == "2.csv"
    assert current.memo == {
        "1.csv": hashlib.sha256(b"Day,Plays\n").hexdigest(),
        "2.csv": hashlib.sha256(b"Date,Plays\n").hexdigest(),
    }
    # A full sync lands everything again, remembered or not.
    assert exports.plan(current, FULL).slices == ["1.csv", "2.csv"]


def test_incremental_plans_only_new_or_changed_files(tmp_path: Path) -> None:
    exports = folder_with(tmp_path, {"1.csv": "a\n", "2.csv": "b\n", "3.csv": "c\n"})
    current = state()
    exports.plan(current, FULL)
    assert exports.plan(current, INCREMENTAL).slices == []
    (exports.folder / "2.csv").write_text("b changed\n")
    (exports.folder / "4.csv").write_text("d\n")
    (exports.folder / "3.csv").unlink()
    plan = exports.plan(current, INCREMENTAL)
    assert plan.slices == ["2.csv", "4.csv"]
    assert set(current.memo) == {"1.csv", "2.csv", "4.csv"}, "a removed file is forgotten"


def test_a_restarted_run_forgets_the_files_it_had_not_landed(tmp_path: Path) -> None:
    exports = folder_with(tmp_path, {"1.csv": "a\n", "2.csv": "b\n", "3.csv": "c\n"})
    current = state()
    first = exports.plan(current, FULL)
    # Killed after landing 1.csv; the run is then thrown away (--restart).
    current.run = RunProgress("r1", FULL, "now", slices=first.slices, done=["1.csv"])
    assert exports.plan(current, INCREMENTAL).slices == ["2.csv", "3.csv"]


def test_a_single_slice_is_planned_when_any_file_changed_or_went(tmp_path: Path) -> None:
    exports = folder_with(tmp_path, {"1.csv": "a\n", "2.csv": "b\n"})
    current = state()
    assert exports.plan(current, INCREMENTAL, single_slice="all").slices == ["all"]
    assert exports.plan(current, INCREMENTAL, single_slice="all").slices == []
    (exports.folder / "2.csv").unlink()
    assert exports.plan(current, INCREMENTAL, single_slice="all").slices == ["all"]
    assert exports.plan(current, FULL, single_slice="all").slices == ["all"]


# -- reading -----------------------------------------------------------------------------------


def test_rows_are_records_named_by_file_and_row(tmp_path: Path) -> None:
    content = (
        "\ufeff EPISODE  title ,date,plays\r\n"
        '"Ads, ""live"" reads",2026-10-01,12\r\n'
        "\r\n"
        "Second,10/02/2026,3\r\n"
    )
    exports = folder_with(tmp_path, {"spotify.csv": content})
    items = list(exports.read("spotify.csv", COLUMNS))
    assert [i.url for i in items] == ["spotify.csv", "spotify.csv"]
    assert [i.position for i in items] == [0, 1]
    first, second = items
    assert first.record == {
        " EPISODE  title ": 'Ads, "live" reads',
        "date": "2026-10-01",
        "plays": "12",
    }
    assert cell(first, "episode") == 'Ads, "live" reads'
    assert day_cell(first, "date") == date(2026, 10, 1)
    assert day_cell(second, "date") == date(2026, 10, 2)
    assert count_cell(first, "count") == 12
    assert cell(first, "episode_id", required=False) is None


def test_header_matching_ignores_case_blanks_and_underscores_and_prefers_the_first_alias() -> None:
    assert header_key(" Episode_ID ") == header_key("episode id") == "episodeid"
    found = match_header("demo", "f.csv", ["downloads", "DAY", "Streams"], COLUMNS)
    assert found == {"date": "DAY", "count": "Streams"}


def test_a_missing_required_column_names_the_file_and_the_column(tmp_path: Path) -> None:
    exports = folder_with(tmp_path, {"renamed.csv": "Date,Episode,Listens\n2026-10-01,A,3\n"})
    with pytest.raises(ApiChangedError) as failure:
        list(exports.read("renamed.csv", COLUMNS))
    assert "renamed.csv" in str(failure.value) and "'Plays'" in str(failure.value)
    assert "Listens" in str(failure.value), "the header the file has is shown"


def test_one_of_a_group_of_columns_is_required(tmp_path: Path) -> None:
    exports = folder_with(tmp_path, {"f.csv": "Date,Plays\n2026-10-01,3\n"})
    with pytest.raises(ApiChangedError, match="'Episode ID' or 'Episode'"):
        list(exports.read("f.csv", COLUMNS, one_of=[("episode_id", "episode")]))


@pytest.mark.parametrize(
    ("content", "match"),
    [("", "empty: no header"), ("\n\n", "empty: no header")],
)
def test_an_empty_file_is_an_error_naming_it(tmp_path: Path, content: str, match: str) -> None:
    exports = folder_with(tmp_path, {"empty.csv": content})
    with pytest.raises(ApiChangedError, match=f"empty.csv is {match}"):
        list(exports.read("empty.csv", COLUMNS))


def test_a_file_that_is_not_utf8_is_an_error_naming_it(tmp_path: Path) -> None:
    exports = folder_with(tmp_path, {})
    (exports.folder / "latin1.csv").write_bytes(
        "Date,Episode,Plays\n2026-10-01,Café,3\n".encode("latin-1")
    )
    with pytest.raises(ApiChangedError, match="latin1.csv is not UTF-8"):
        list(exports.read("latin1.csv", COLUMNS))


def test_a_file_removed_after_the_plan_yields_nothing(tmp_path: Path) -> None:
    exports = folder_with(tmp_path, {})
    assert list(exports.read("gone.csv", COLUMNS)) == []


# -- cells -------------------------------------------------------------------------------------


def one_row(tmp_path: Path, header: str, row: str):
    exports = folder_with(tmp_path, {"f.csv": f"{header}\n{row}\n"})
    return next(exports.read("f.csv", COLUMNS))


@pytest.mark.parametrize(("raw", "expected"), [("12", 12), ("1,234", 1234), ("7.0", 7), (" 0 ", 0)])
def test_counts(tmp_path: Path, raw: str, expected: int) -> None:
    item = one_row(tmp_path, "Date,Episode,Plays", f'2026-10-01,A,"{raw}"')
    assert count_cell(item, "count") == expected


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("-3", "Plays: a count cannot be negative"),
        ("12a", "Plays: expected a whole number"),
        ("1.5", "Plays: expected a whole number"),
        ("", "Plays: empty"),
    ],
)
def test_bad_counts_are_record_errors_naming_the_header(tmp_path, raw: str, reason: str) -> None:
    item = one_row(tmp_path, "Date,Episode,Plays", f"2026-10-01,A,{raw}")
    with pytest.raises(RecordError, match=reason):
        count_cell(item, "count")


@pytest.mark.parametrize("raw", ["2026-13-01", "01.10.2026", "31/10/2026", "yesterday"])
def test_bad_dates_are_record_errors(tmp_path: Path, raw: str) -> None:
    item = one_row(tmp_path, "Day,Episode,Plays", f"{raw},A,3")
    with pytest.raises(RecordError, match="Day: not a date in %Y-%m-%d or %m/%d/%Y"):
        day_cell(item, "date")


def test_a_row_with_more_cells_than_the_header_is_a_record_error(tmp_path: Path) -> None:
    item = one_row(tmp_path, "Date,Episode,Plays", "2026-10-01,Ads, live,3")
    with pytest.raises(RecordError, match="row: 1 cell"):
        check_row(item)
    fine = one_row(tmp_path, "Date,Episode,Plays", "2026-10-01,A,3,,")
    check_row(fine)
