"""What a sponsor read says that can be looked up: promo codes, vanity URLs, brands.

Speech-to-text output writes a URL the way it was spoken ("acme dot com slash kitchen") as often
as the way it is typed, so every lookup first rewrites spoken URLs to their typed form
(:func:`canonical_text`). Codes are tokens of capitals followed by digits (``KITCHEN20``,
``FRONTIER20K``), the form the tenant's placements use; a code the tenant knows is also found
when the transcript writes it in lower case.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_TLDS = r"com|net|org|co|fm|io|shop|store|us|uk|ca|de"
_SPOKEN_URL = re.compile(
    rf"\b([a-z0-9][a-z0-9-]*)\s+dot\s+({_TLDS})\b(?:\s+slash\s+([a-z0-9][a-z0-9-]*))?",
    re.IGNORECASE,
)
_URL = re.compile(
    rf"\b(?:https?://)?(?:www\.)?((?:[a-z0-9-]+\.)+(?:{_TLDS}))\b(/[a-z0-9][a-z0-9_-]*)?",
    re.IGNORECASE,
)
_CODE = re.compile(r"\b[A-Z]{2,}[0-9]{1,3}[A-Z]{0,3}\b")
_TOKEN = re.compile(r"[A-Za-z0-9]+")
# Where a read names its sponsor when the brand is not one the tenant's campaigns know.
_SPONSOR_PHRASE = re.compile(
    r"(?:brought to you by|sponsored by|supported by|word from our sponsor,?|tell you about)"
    r"\s+(?:our friends at\s+)?([A-Z][\w&'-]*(?:\s+[A-Z][\w&'-]*){0,2})"
)


def canonical_text(text: str) -> str:
    """``text`` with spoken URLs typed: ``acme dot com slash kitchen`` -> ``acme.com/kitchen``."""

    def typed(match: re.Match[str]) -> str:
        host = f"{match.group(1)}.{match.group(2)}".lower()
        return f"{host}/{match.group(3).lower()}" if match.group(3) else host

    return _SPOKEN_URL.sub(typed, text)


def normalise_url(url: str) -> str:
    """A URL as the lookups compare it: lower case, no scheme, no ``www.``, no trailing slash."""
    url = url.strip().lower()
    url = re.sub(r"^https?://", "", url)
    url = re.sub(r"^www\.", "", url)
    return url.rstrip("/")


def urls_in(text: str) -> list[str]:
    """Every URL the text says (spoken or typed), normalised, in order."""
    return [
        normalise_url(m.group(1) + (m.group(2) or "")) for m in _URL.finditer(canonical_text(text))
    ]


def codes_in(text: str, known: Iterable[str] = ()) -> list[str]:
    """Promo codes the text says, in order: the tenant's known codes in any case, and any other
    token that looks like a code (capitals then digits)."""
    known_upper = {k.upper() for k in known if k}
    found: list[str] = []
    for match in _TOKEN.finditer(text):
        token = match.group()
        if token.upper() in known_upper or _CODE.fullmatch(token):
            code = token.upper()
            if code not in found:
                found.append(code)
    return found


def brands_in(text: str, known: Iterable[str] = ()) -> list[str]:
    """Brands the text names: the tenant's known advertisers (whole words, any case) first,
    then a capitalised name after a sponsor phrase ("brought to you by Acme")."""
    found = []
    lowered = text.lower()
    for brand in known:
        if brand and re.search(rf"\b{re.escape(brand.lower())}\b", lowered):
            found.append(brand)
    if not found:
        found += [m.group(1) for m in _SPONSOR_PHRASE.finditer(text)]
    return found


def classifier_text(text: str) -> str:
    """The text the segment classifier reads: URLs, code-like tokens and numbers become the
    placeholder words ``xxurl``, ``xxcode`` and ``xxnum``, so that it learns that a read names
    a URL and a code, not which ones (next month's code is new to it)."""
    text = _URL.sub(" xxurl ", canonical_text(text))
    text = _CODE.sub(" xxcode ", text)
    text = re.sub(r"\d+", " xxnum ", text)
    return text.lower()
