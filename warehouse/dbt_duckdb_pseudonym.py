"""dbt-duckdb plugin: give every DuckDB session of a dbt run the tenant's HMAC pads.

Configured in dbt_project/profiles.yml (``plugins: [{module: warehouse.dbt_duckdb_pseudonym}]``).
The pads come from the environment of the dbt process (set for one tenant's run by the pipeline,
see ``warehouse/pseudonymisation.py``) and are bound as query parameters, so they appear in no SQL
text. DuckDB variables live per connection *and* per cursor, and dbt-duckdb runs models on
cursors, so both hooks set them. Without the variables the ``pseudonymise`` macro fails with a
clear error instead of writing unkeyed values.
"""

from __future__ import annotations

import os
from typing import Any

from dbt.adapters.duckdb.plugins import BasePlugin

from warehouse.pseudonymisation import IPAD_ENV, OPAD_ENV


def _set_pads(conn: Any) -> None:
    ipad, opad = os.environ.get(IPAD_ENV), os.environ.get(OPAD_ENV)
    if not ipad or not opad:
        return
    conn.execute("set variable earshot_hmac_ipad = ?", [bytes.fromhex(ipad)])
    conn.execute("set variable earshot_hmac_opad = ?", [bytes.fromhex(opad)])


class Plugin(BasePlugin):
    def configure_connection(self, conn: Any) -> None:
        _set_pads(conn)

    def configure_cursor(self, cursor: Any) -> None:
        _set_pads(cursor)
