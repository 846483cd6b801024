"""Where model artefacts are kept: a local folder by default, S3 in an S3 deployment.

Local: ``$EARSHOT_MODEL_DIR`` (default ``$EARSHOT_HOME/models``). S3 (``EARSHOT_LANDING=s3``, the
production default): ``EARSHOT_MODELS_BUCKET`` (default the landing bucket) under
``EARSHOT_MODELS_PREFIX`` (default ``models``), with the landing zone's credentials chain.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from warehouse.landing import landing_kind
from warehouse.landing_storage import LandingStorage, LocalFolderStorage
from warehouse.settings import paths


def artefact_store(environ: Mapping[str, str] | None = None) -> LandingStorage:
    env = os.environ if environ is None else environ
    if landing_kind() == "s3":
        from warehouse.s3_storage import S3Storage

        bucket = env.get("EARSHOT_MODELS_BUCKET") or env.get("EARSHOT_LANDING_BUCKET", "")
        return S3Storage.from_env(
            {
                **env,
                "EARSHOT_LANDING_BUCKET": bucket,
                "EARSHOT_LANDING_PREFIX": env.get("EARSHOT_MODELS_PREFIX", "models"),
            }
        )
    return LocalFolderStorage(Path(env.get("EARSHOT_MODEL_DIR") or paths().home / "models"))
