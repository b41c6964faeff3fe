"""Keeping secrets out of files and messages: one place that decides what is secret.

- URLs: a query string (a SAS token, a signed URL) and user credentials
  (``scheme://user:password@host``) are replaced by ``<redacted>``.
- ``environment_variables``: every value (names are kept).
- ``program_arguments``: the value of an option whose name looks secret (``--account_key X``,
  ``--sas_token=X``, ``--password X``, ...).

Standard library only, importable from every stage.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from typing import Any

REDACTED = "<redacted>"
REDACTED_PREFIX = "<redacted"

# A query string already redacted is matched whole, so that redacting twice changes nothing.
_URL = re.compile(r"\b([A-Za-z][A-Za-z0-9+.\-]*://)([^\s'\"<>]+(?:<redacted>)?)")
# An option is secret when one word of its name (split at "_" and "-") is one of these.
SECRET_WORDS = frozenset(
    {"key", "apikey", "token", "secret", "password", "passwd", "pwd", "sas", "credential",
     "credentials", "signature", "sig", "connectionstring", "conn"}
)  # fmt: skip


def hide(value: str) -> str:
    """A secret value's stand-in: ``<redacted d:xxxxxxxxxxxxxxxx>``, a short keyed digest.

    The digest lets resume notice that a secret changed without storing it; it is short and
    keyed, not a way to recover the value (still, job.json is readable by its owner only).
    """
    tag = hashlib.blake2b(value.encode(), digest_size=8, key=b"dask_parallel.redact").hexdigest()
    return f"{REDACTED_PREFIX} d:{tag}>"


def is_hidden(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(REDACTED_PREFIX)


def _redact_url_match(match: re.Match[str]) -> str:
    scheme, rest = match.group(1), match.group(2)
    authority, slash, path = rest.partition("/")
    if "@" in authority:
        authority = REDACTED + "@" + authority.rsplit("@", 1)[1]
    rest = authority + slash + path
    if "?" in rest:
        rest = rest.split("?", 1)[0] + "?" + REDACTED
    return scheme + rest


def redact_text(text: str) -> str:
    """``text`` with the query strings and credentials of every URL in it replaced."""
    if "://" not in text:
        return text
    return _URL.sub(_redact_url_match, text)


def is_secret_option(argument: str) -> bool:
    """Whether ``argument`` is an option name whose value is a secret (``--account_key``)."""
    name = argument.split("=", 1)[0].lstrip("-").lower()
    words = set(re.split(r"[_\-.]+", name))
    return bool(words & SECRET_WORDS) or "connection_string" in name


def redact_arguments(arguments: Iterable[str]) -> list[str]:
    """``arguments`` with the values of secret-looking options replaced (names kept)."""
    result: list[str] = []
    hide_next = False
    for argument in arguments:
        text = str(argument)
        if hide_next and not text.startswith("--"):
            result.append(hide(text))
            hide_next = False
            continue
        hide_next = False
        if text.startswith("-") and is_secret_option(text):
            if "=" in text:
                name, value = text.split("=", 1)
                text = name + "=" + hide(value)
            else:
                hide_next = True
        result.append(redact_text(text))
    return result


def redact_document(value: Any, key: str | None = None) -> Any:
    """A JSON-able document (job.json) with every secret value replaced; the input is not changed."""
    if key == "environment_variables" and isinstance(value, dict):
        return {name: item if is_hidden(item) else hide(str(item)) for name, item in value.items()}
    if key in ("program_arguments", "argv") and isinstance(value, (list, tuple)):
        redacted = redact_arguments(value)
        return [item if is_hidden(item) else new for item, new in zip(value, redacted, strict=True)]
    if isinstance(value, dict):
        return {name: redact_document(item, str(name)) for name, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact_document(item) for item in value]
    if isinstance(value, str):
        return redact_text(value)
    return value


def holds_redacted(value: Any) -> bool:
    """Whether a (JSON-able) value holds a redacted secret anywhere."""
    if isinstance(value, dict):
        return any(holds_redacted(item) for item in value.values())
    if isinstance(value, (list, tuple)):
        return any(holds_redacted(item) for item in value)
    return isinstance(value, str) and REDACTED_PREFIX in value
