"""What user text may hold, and how it is made harmless where it lands in a log line or a mail header.

Control characters (C0, DEL, C1) and the Unicode line and paragraph separators are what let text
end a log line early, start a forged one, or end a mail header. Fields that are one line refuse
all of them; fields that may span lines refuse all but tab, line feed and carriage return. Text
that reaches a log or a header anyway (from a message, or stored before these rules) is escaped.
"""

import re

# A JSON-schema (and pydantic) pattern: so the rule shows in each service's OpenAPI document too.
SINGLE_LINE_PATTERN = r"^[^\x00-\x1f\x7f-\x9f\u2028\u2029]*$"
MULTI_LINE_PATTERN = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029]*$"

_UNSAFE_IN_ONE_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def one_line(text: str) -> str:
    """`text` with every character that could break or forge a line written as an escape (`\\n`, `\\x00`)."""
    return _UNSAFE_IN_ONE_LINE.sub(_escape, text)


def _escape(match: re.Match) -> str:
    character = match.group()
    code = ord(character)
    return _ESCAPES.get(character) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


def header_safe(text: str) -> str:
    """`text` for a mail header: each control or line-breaking character becomes a space."""
    return " ".join(_UNSAFE_IN_ONE_LINE.sub(" ", text).split())
