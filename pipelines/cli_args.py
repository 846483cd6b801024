"""Argument types the `earshot` subcommands share."""

from __future__ import annotations

import argparse

from warehouse.settings import InvalidTenantId, validate_tenant_id


def tenant_arg(value: str) -> str:
    """A `--tenant` value: a valid tenant id, or argparse's usage error naming the rule."""
    try:
        return validate_tenant_id(value)
    except InvalidTenantId as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc
