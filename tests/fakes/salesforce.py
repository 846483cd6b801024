"""A fake Salesforce REST API (``/services/data/vXX.X/...``), serving a :class:`Crm`.

A contact of the CRM is a Lead, a deal an Opportunity (its contact a Contact). Ids are 18
characters, derived from the CRM's ids: a key prefix (``00Q`` Lead, ``006`` Opportunity, ``003``
Contact), a pod and the id in base 62 make the 15-character id, and the three-character suffix
is Salesforce's case-safe checksum of it.

Faithful to:

* ``Authorization: Bearer <access token>``; another token is 401
  ``[{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]``;
  ``expire_sessions`` makes every token issued so far invalid (a session timing out);
* the refresh-token grant at ``POST /services/oauth2/token`` (form ``grant_type=refresh_token``,
  ``client_id``, ``client_secret``, ``refresh_token``) answering ``{"access_token",
  "instance_url", "id", "token_type", "issued_at", "signature"}`` and no ``expires_in``, or 400
  ``{"error": "invalid_grant", "error_description": "expired access/refresh token"}``;
* ``GET .../query?q=SELECT <fields> FROM Lead|Opportunity WHERE SystemModstamp >= <literal> AND
  SystemModstamp < <literal> ORDER BY SystemModstamp`` (``>``/``<=`` too): datetime literals
  unquoted (a quoted one is 400 ``INVALID_FIELD`` as Salesforce answers it), an unknown field 400
  ``INVALID_FIELD`` "No such column"; answers ``{"totalSize", "done", "nextRecordsUrl",
  "records"}``, each record ``{"attributes": {"type", "url"}, <fields as selected>}`` with null
  for empty fields, numbers as JSON numbers and times as ``2013-05-20T20:49:32.000+0000``;
  batches of ``batch_size`` (the ``Sforce-Query-Options: batchSize=`` header asks for one
  between 200 and 2000; Salesforce may answer smaller ones, as this fake does when told) and
  ``nextRecordsUrl`` ``/services/data/vXX.X/query/01g...-<offset>`` until ``done``;
* ``CurrencyIsoCode`` exists only in a multi-currency org (``multi_currency``);
* ``GET .../limits`` -> ``{"DailyApiRequests": {"Max", "Remaining"}, ...}``; every answer
  carries ``Sforce-Limit-Info: api-usage=n/max``; past the daily maximum 403
  ``[{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}]``;
* the concurrent long-request limit (``concurrent_limit_next``): 403 ``REQUEST_LIMIT_EXCEEDED``
  "ConcurrentPerOrgLongTxn Limit exceeded.", which goes away when retried later.

Not confirmed: what Salesforce answers a burst of short requests. The documented limits are the
daily quota and concurrent long requests; under load the edge is reported to answer 503 or 429.
``throttle`` chooses 429 with ``Retry-After`` (1 s) and a Salesforce error list, so the
contract's throttling test sees a 429 (a 503 burst is tested separately).
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.fakes.crm import Crm, CrmContact, CrmDeal
from tests.fakes.server import (
    FakeApi,
    Request,
    Response,
    WindowLimit,
    _Fault,
    bearer_token,
    error,
    json_response,
)

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
SUFFIX = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
STAGES = {"closedwon": "Closed Won", "appointmentscheduled": "Qualification"}
LEAD_STATUS = {"lead": "Open - Not Contacted"}
SURVEY_FIELD = "How_Did_You_Hear__c"
QUERY = re.compile(
    r"SELECT\s+(?P<fields>.+?)\s+FROM\s+(?P<object>\w+)\s+WHERE\s+SystemModstamp\s*(?P<op1>>=|>)\s*"
    r"(?P<start>\S+)\s+AND\s+SystemModstamp\s*(?P<op2><=|<)\s*(?P<end>\S+)\s+"
    r"ORDER\s+BY\s+SystemModstamp(\s+ASC)?",
    re.IGNORECASE | re.DOTALL,
)


def salesforce_id(prefix: str, native: str) -> str:
    """An 18-character id for ``native`` (digits) under a key prefix (``00Q``, ``006``)."""
    number = int(native)
    digits = ""
    while True:
        number, rest = divmod(number, 62)
        digits = BASE62[rest] + digits
        if number == 0:
            break
    short = f"{prefix}5g00000{digits.rjust(5, '0')}"
    assert len(short) == 15, short
    suffix = ""
    for chunk in range(3):
        bits = sum(1 << i for i, ch in enumerate(short[chunk * 5 : chunk * 5 + 5]) if ch.isupper())
        suffix += SUFFIX[bits]
    return short + suffix


def salesforce_time(moment: datetime) -> str:
    """``2013-05-20T20:49:32.000+0000``."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}+0000"


def _errors(status: int, message: str, code: str, **headers: str) -> Response:
    return error(status, [{"message": message, "errorCode": code}], **headers)


class FakeSalesforce(FakeApi):
    name = "salesforce"

    def __init__(
        self,
        crm: Crm,
        token: str = "00Dsf!token-1",
        *,
        client_id: str = "3MVG9sf-client",
        client_secret: str = "sf-secret-1",
        refresh_token: str = "5Aep861sf-refresh",
        api_version: str = "62.0",
        multi_currency: bool = False,
        daily_limit: int = 100_000,
        batch_size: int = 2000,
    ) -> None:
        super().__init__()
        self.crm = crm
        self.tokens = {token}
        self.client_id = client_id
        self.client_secret = client_secret
        self.refresh_token = refresh_token
        self.api_version = api_version
        self.multi_currency = multi_currency
        self.daily_limit = daily_limit
        self.used = 0
        self.batch_size = batch_size
        self.issued = 0
        # Field renames a test applies to the records of an answer ({"CreatedDate": ...}).
        self.renames: dict[str, str] = {}
        self.queries: list[str] = []
        self._cursors: dict[str, tuple[list[dict[str, Any]], int]] = {}

    # -- switches a test uses ------------------------------------------------------------------

    def expire_sessions(self) -> None:
        self.tokens.clear()

    def throttle(self, requests: int = 4, per_seconds: float = 1.0) -> None:
        self.limit = WindowLimit(
            requests,
            per_seconds,
            response=lambda _wait: _errors(
                429,
                "Too many requests; retry later.",
                "REQUEST_LIMIT_EXCEEDED",
                **{"Retry-After": "1"},
            ),
        )

    def concurrent_limit_next(self, n: int) -> None:
        self._faults.append(
            _Fault(
                "/query",
                n,
                lambda: _errors(
                    403, "ConcurrentPerOrgLongTxn Limit exceeded.", "REQUEST_LIMIT_EXCEEDED"
                ),
            )
        )

    # -- routing -------------------------------------------------------------------------------

    def route(self, request: Request) -> Response:
        if request.path == "/services/oauth2/token" and request.method == "POST":
            return self._token(request.form())
        if bearer_token(request) not in self.tokens:
            return _errors(401, "Session expired or invalid", "INVALID_SESSION_ID")
        self.used += 1
        usage = {"Sforce-Limit-Info": f"api-usage={self.used}/{self.daily_limit}"}
        if self.used > self.daily_limit:
            return _errors(403, "TotalRequests Limit exceeded.", "REQUEST_LIMIT_EXCEEDED", **usage)
        response = self._api(request)
        response.headers.update(usage)
        return response

    def _api(self, request: Request) -> Response:
        prefix = f"/services/data/v{self.api_version}"
        path = request.path
        if not path.startswith(prefix + "/"):
            return _errors(404, "The requested resource does not exist", "NOT_FOUND")
        rest = path[len(prefix) :]
        if rest == "/limits":
            return json_response(
                {
                    "DailyApiRequests": {
                        "Max": self.daily_limit,
                        "Remaining": max(0, self.daily_limit - self.used),
                    }
                }
            )
        if rest == "/query":
            return self._query(request)
        match = re.fullmatch(r"/query/(01g[0-9A-Za-z]+)-(\d+)", rest)
        if match and match[1] in self._cursors:
            return self._batch(match[1], int(match[2]))
        return _errors(404, "The requested resource does not exist", "NOT_FOUND")

    def _token(self, form: dict[str, str]) -> Response:
        if (
            form.get("grant_type") != "refresh_token"
            or form.get("client_id") != self.client_id
            or form.get("client_secret") != self.client_secret
            or form.get("refresh_token") != self.refresh_token
        ):
            return error(
                400, {"error": "invalid_grant", "error_description": "expired access/refresh token"}
            )
        self.issued += 1
        token = f"00Dsf!refreshed-{self.issued}"
        self.tokens.add(token)
        return json_response(
            {
                "access_token": token,
                "signature": "c2lnbmF0dXJl",
                "scope": "api refresh_token",
                "instance_url": self.base_url,
                "id": f"{self.base_url}/id/00D5g000000000AEAQ/0055g000000000AAAA",
                "token_type": "Bearer",
                "issued_at": "1790812800000",
            }
        )

    # -- records -------------------------------------------------------------------------------

    def lead(self, contact: CrmContact) -> dict[str, Any]:
        return {
            "Id": salesforce_id("00Q", contact.contact_id),
            "Email": contact.email,
            "FirstName": contact.email.split("@")[0].title(),
            "LastName": "Example",
            "Company": "Example Co",
            "CreatedDate": salesforce_time(contact.created_at),
            "SystemModstamp": salesforce_time(contact.updated_at),
            "LastModifiedDate": salesforce_time(contact.updated_at),
            "Status": LEAD_STATUS.get(contact.status, contact.status),
            "LeadSource": "Podcast" if contact.utm_source == "podcast" else "Web",
            SURVEY_FIELD: contact.survey_answer,
            "UTM_Source__c": contact.utm_source,
            "UTM_Medium__c": contact.utm_medium,
            "UTM_Campaign__c": contact.utm_campaign,
        }

    def opportunity(self, deal: CrmDeal) -> dict[str, Any]:
        record = {
            "Id": salesforce_id("006", deal.deal_id),
            "Name": f"Deal {deal.deal_id}",
            "Amount": deal.amount,
            "StageName": STAGES.get(deal.stage, deal.stage),
            "IsWon": deal.is_won,
            "IsClosed": deal.is_won,
            # The close date: when won, the day it was won; otherwise the forecast.
            "CloseDate": (deal.updated_at if deal.is_won else deal.created_at + timedelta(days=30))
            .date()
            .isoformat(),
            "CreatedDate": salesforce_time(deal.created_at),
            "SystemModstamp": salesforce_time(deal.updated_at),
            "LastModifiedDate": salesforce_time(deal.updated_at),
            "ContactId": salesforce_id("003", deal.contact_id) if deal.contact_id else None,
        }
        if self.multi_currency:
            record["CurrencyIsoCode"] = deal.currency
        return record

    def _table(self, name: str) -> tuple[list[tuple[datetime, dict[str, Any]]], set[str]] | None:
        """The object's rows (change time, record) and the fields it has."""
        epoch = datetime(2020, 1, 1, tzinfo=UTC)
        if name.lower() == "lead":
            fields = set(self.lead(CrmContact("1", epoch, epoch, "a@example.com")))
            return [(c.updated_at, self.lead(c)) for c in self.crm.contacts], fields
        if name.lower() == "opportunity":
            fields = set(self.opportunity(CrmDeal("1", epoch, epoch, 1.0, "x", False, None)))
            return [(d.updated_at, self.opportunity(d)) for d in self.crm.deals], fields
        return None

    # -- queries -------------------------------------------------------------------------------

    def _query(self, request: Request) -> Response:
        soql = request.query.get("q", "").strip()
        self.queries.append(soql)
        match = QUERY.fullmatch(soql)
        if match is None:
            return _errors(400, f"unexpected token in query: {soql[:80]}", "MALFORMED_QUERY")
        found = self._table(match["object"])
        if found is None:
            return _errors(
                400,
                f"sObject type '{match['object']}' is not supported.",
                "INVALID_TYPE",
            )
        bounds = []
        for literal in (match["start"], match["end"]):
            if literal.startswith(("'", '"')):
                return _errors(
                    400,
                    "value of filter criterion for field 'SystemModstamp' must be of type dateTime "
                    "and should not be enclosed in quotes",
                    "INVALID_FIELD",
                )
            try:
                bounds.append(datetime.fromisoformat(literal.replace("Z", "+00:00")))
            except ValueError:
                return _errors(400, f"invalid dateTime literal {literal}", "MALFORMED_QUERY")
        table, known = found
        fields = [f.strip() for f in match["fields"].split(",")]
        for name in fields:
            if name not in known:
                return _errors(
                    400,
                    f"\n{soql[:60]}\n^\nERROR at Row:1:Column:8\nNo such column '{name}' on "
                    f"entity '{match['object']}'. If you are attempting to use a custom field, be "
                    "sure to append the '__c' after the custom field name.",
                    "INVALID_FIELD",
                )
        after = (lambda t: t >= bounds[0]) if match["op1"] == ">=" else (lambda t: t > bounds[0])
        before = (lambda t: t < bounds[1]) if match["op2"] == "<" else (lambda t: t <= bounds[1])
        rows = sorted(
            (r for r in table if after(r[0]) and before(r[0])), key=lambda r: (r[0], r[1]["Id"])
        )
        sobject = "Lead" if match["object"].lower() == "lead" else "Opportunity"
        records = [self._select(sobject, r[1], fields) for r in rows]
        asked = _batch_option(request.header("Sforce-Query-Options"))
        size = min(self.batch_size, asked or 2000)
        locator = "01g" + uuid.uuid4().hex[:12]
        self._cursors[locator] = (records, size)
        return self._batch(locator, 0)

    def _select(self, sobject: str, record: dict[str, Any], fields: list[str]) -> dict[str, Any]:
        selected: dict[str, Any] = {
            "attributes": {
                "type": sobject,
                "url": f"/services/data/v{self.api_version}/sobjects/{sobject}/{record['Id']}",
            }
        }
        for name in fields:
            selected[self.renames.get(name, name)] = record[name]
        return selected

    def _batch(self, locator: str, offset: int) -> Response:
        records, size = self._cursors[locator]
        chunk = records[offset : offset + size]
        done = offset + size >= len(records)
        body: dict[str, Any] = {"totalSize": len(records), "done": done, "records": chunk}
        if not done:
            body["nextRecordsUrl"] = (
                f"/services/data/v{self.api_version}/query/{locator}-{offset + size}"
            )
        return json_response(body)


def _batch_option(header: str | None) -> int | None:
    match = re.search(r"batchSize=(\d+)", header or "")
    if match is None:
        return None
    return max(200, min(2000, int(match[1])))
