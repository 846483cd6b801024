"""The dbt project as Dagster sees it, and the one translator from dbt nodes to asset keys."""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtProject

PROJECT_DIR = Path(__file__).resolve().parent.parent / "dbt_project"

# Raw tables are the loader's assets: dbt sources map onto them.
SOURCE_ASSET_PREFIX = "raw"
LAYERS = ("staging", "intermediate", "marts")


def dbt_executable() -> str:
    """dbt from this interpreter's environment, so it works without an activated venv."""
    candidate = Path(sys.executable).parent / "dbt"
    if candidate.exists():
        return str(candidate)
    found = shutil.which("dbt")
    if not found:
        raise RuntimeError("dbt is not installed in this environment (run `make setup`)")
    return found


dbt_project = DbtProject(project_dir=PROJECT_DIR, profiles_dir=PROJECT_DIR)


def ensure_manifest() -> Path:
    """Parse the dbt project when its manifest is missing or older than its sources.

    Definitions need the manifest at load time; `dagster dev` and the CLI both come through here.
    """
    manifest = dbt_project.manifest_path
    if _manifest_is_current(manifest):
        return manifest
    # Processes starting together (the CLI beside `dagster dev`, parallel test workers) would
    # each parse into the same target folder and could read one another's half-written
    # manifest: one parses under the lock, the others wait and find it current.
    manifest.parent.mkdir(parents=True, exist_ok=True)
    with open(manifest.parent / ".parse.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not _manifest_is_current(manifest):
            _parse()
    return manifest


def _manifest_is_current(manifest: Path) -> bool:
    newest_source = max(
        (
            p.stat().st_mtime
            for d in ("models", "macros", "seeds", "tests")
            for p in (PROJECT_DIR / d).rglob("*")
            if p.is_file()
        ),
        default=0.0,
    )
    newest_source = max(newest_source, (PROJECT_DIR / "dbt_project.yml").stat().st_mtime)
    return manifest.exists() and manifest.stat().st_mtime >= newest_source


def _parse() -> None:
    env = {**os.environ, "DBT_TARGET_PATH": str(dbt_project.target_path)}
    result = subprocess.run(
        [
            dbt_executable(),
            "parse",
            "--project-dir",
            str(PROJECT_DIR),
            "--profiles-dir",
            str(PROJECT_DIR),
            "--quiet",
        ],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise RuntimeError(f"dbt parse failed:\n{result.stdout}\n{result.stderr}")


class EarshotDbtTranslator(DagsterDbtTranslator):
    """Asset keys by layer (`staging/stg_...`, `marts/fct_...`), sources onto `raw/<table>`."""

    def __init__(self) -> None:
        super().__init__(DagsterDbtTranslatorSettings(enable_asset_checks=True))

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return dg.AssetKey([SOURCE_ASSET_PREFIX, dbt_resource_props["name"]])
        if dbt_resource_props["resource_type"] == "seed":
            return dg.AssetKey(["reference", dbt_resource_props["name"]])
        return dg.AssetKey([_layer(dbt_resource_props), dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "seed":
            return "reference"
        return _layer(dbt_resource_props)


def _layer(props: Mapping[str, Any]) -> str:
    fqn = props.get("fqn") or []
    for part in fqn:
        if part in LAYERS:
            return part
    return "dbt"
