"""Text no store can hold: unpaired UTF-16 surrogates in JSON request bodies.

JSON may spell any UTF-16 code unit as an escape, so ``"\\ud800"`` parses, in Python, to a string
holding a lone surrogate; and ``json.loads`` decodes bytes with ``surrogatepass``, so a surrogate
encoded as if it were a character (``ED A0 80``, which is not UTF-8) gets through as well. No
UTF-8 encoder accepts one: SQLite, PostgreSQL and every other store fail deep in a write (a 500),
and so does serialising the string back out. An escaped pair, such as ``"\\ud83c\\udfac"`` (an
emoji), is one character and fine.

The request middleware asks :func:`unstorable_fields` about every JSON body before a service sees
it. A body without a surrogate escape or encoded surrogate costs one byte search; only one with
such a hint is parsed, to name the fields. Query strings, paths, headers and cookies cannot carry
a surrogate: Starlette and the ASGI servers decode them as Latin-1, or as UTF-8 with replacement
characters.
"""

from __future__ import annotations

import json
import re
from typing import Any

from movieverse.platform.errors import FieldError

UNSTORABLE_CODE = "string_unstorable"
UNSTORABLE_MESSAGE = (
    "The text contains an unpaired UTF-16 surrogate (U+D800 to U+DFFF, other than as half of an "
    "escaped pair), which cannot be stored; send valid Unicode."
)
# Enough to show a client every bad field of any body of ours; a hostile body is not echoed whole.
MAX_REPORTED_FIELDS = 20

# Hints: a surrogate escape, paired or not, and a surrogate's three-byte encoding (in UTF-8
# proper, ED is followed by 80-9F only). A match is only a hint (the backslash may itself be
# escaped, and an escaped pair is fine): the parse decides. Each pattern runs only where its
# first byte occurs (a memchr); one alternation of the two was tried at every byte instead, and
# cost a 1 KB body about as much as parsing it.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
_ENCODED_SURROGATE = re.compile(rb"\xed[\xa0-\xbf]")


def is_json_media_type(content_type: bytes) -> bool:
    """The media types FastAPI parses as JSON: ``application/json`` and ``application/*+json``."""
    media_type = content_type.split(b";", 1)[0].strip().lower()
    return media_type == b"application/json" or (
        media_type.startswith(b"application/") and media_type.endswith(b"+json")
    )


def unstorable_fields(body: bytes) -> list[FieldError]:
    """Where a JSON body holds unpaired surrogates (``body.title``, ``body.items.0``), in document
    order; empty when there are none or the body is not JSON (the service answers that)."""
    if _utf8(body) and not _hinted(body):
        return []
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        return []
    if _encodable(document):
        return []
    return _walk(document)


def _encodable(document: Any) -> bool:
    """Whether every string and key of ``document`` encodes as UTF-8, in one pass through
    json's C encoder (a body of escaped emoji is fine, and common from clients that escape
    everything non-ASCII); only a body that fails is walked in Python, to name the fields."""
    try:
        json.dumps(document, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return False
    except RecursionError:
        return False  # the walk keeps its own stack
    return True


def _hinted(body: bytes) -> bool:
    if b"\\" in body and _SURROGATE_ESCAPE.search(body) is not None:
        return True
    return b"\xed" in body and _ENCODED_SURROGATE.search(body) is not None


def _utf8(body: bytes) -> bool:
    """Whether ``json.loads`` reads ``body`` as UTF-8 (its detect_encoding, cheaper). UTF-16
    and UTF-32 bodies spell an escape with NUL bytes in between, so the hints miss there; they
    are rare enough to be parsed without one."""
    head = body[:4]
    return b"\x00" not in head and not head.startswith((b"\xff\xfe", b"\xfe\xff"))


def _walk(document: Any) -> list[FieldError]:
    found: list[FieldError] = []
    # Depth-first with an explicit stack: a deeply nested body must not exhaust recursion.
    stack: list[tuple[str, Any]] = [("body", document)]
    while stack and len(found) < MAX_REPORTED_FIELDS:
        path, value = stack.pop()
        if isinstance(value, str):
            if _unencodable(value):
                found.append(_error(path))
        elif isinstance(value, dict):
            children: list[tuple[str, Any]] = []
            for key, child in value.items():
                child_path = f"{path}.{_printable(key)}"
                if _unencodable(key):
                    found.append(_error(child_path))
                children.append((child_path, child))
            stack.extend(reversed(children))
        elif isinstance(value, list):
            stack.extend(reversed([(f"{path}.{i}", item) for i, item in enumerate(value)]))
    return found[:MAX_REPORTED_FIELDS]


def _unencodable(text: str) -> bool:
    """Whether ``text`` holds a surrogate (as a lone one, or as halves a pair would have made,
    the same to an encoder). Encoding is cheaper than searching for one, and ASCII is cheaper
    still."""
    if text.isascii():
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _printable(key: str) -> str:
    # A field name with a surrogate in it is named by its escapes: the answer must be encodable.
    return key.encode("utf-8", "backslashreplace").decode("utf-8")


def _error(path: str) -> FieldError:
    return FieldError(field=path, message=UNSTORABLE_MESSAGE, code=UNSTORABLE_CODE)
