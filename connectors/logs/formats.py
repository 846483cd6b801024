"""The log formats the importer reads, by the name the command line uses."""

from __future__ import annotations

from connectors.logs.cloudfront import CLOUDFRONT
from connectors.logs.combined import COMBINED, COMBINED_RANGE
from connectors.logs.core import LogFormat
from connectors.logs.jsonl import JSONL
from connectors.logs.s3 import S3

FORMATS: dict[str, LogFormat] = {
    f.name: f for f in (COMBINED, COMBINED_RANGE, CLOUDFRONT, S3, JSONL)
}


def get_format(name: str) -> LogFormat:
    """The format called ``name``; ValueError naming the known ones otherwise."""
    try:
        return FORMATS[name]
    except KeyError:
        raise ValueError(f"unknown log format {name!r}; known: {', '.join(FORMATS)}") from None
