"""Line and column of a JSON path in the original text.

Computed only for the paths that appear in a report: the config itself is
parsed by the C decoder, and positions are searched afterwards, skipping
sibling values with the same decoder, so a clean 5 MB config costs nothing here.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from json.decoder import scanstring  # type: ignore[attr-defined]

_WS = " \t\n\r"
_decoder = json.JSONDecoder()


def _skip_ws(text: str, i: int) -> int:
    n = len(text)
    while i < n and text[i] in _WS:
        i += 1
    return i


def line_col(text: str, index: int) -> tuple[int, int]:
    line = text.count("\n", 0, index) + 1
    return line, index - (text.rfind("\n", 0, index) + 1) + 1


def locate(text: str, path: Sequence[str | int]) -> tuple[int, int]:
    """(line, col) of the value at `path`; of the deepest existing ancestor
    when the path does not exist (e.g. a missing required field)."""
    i = _skip_ws(text, 0)
    try:
        for elem in path:
            if i >= len(text):
                break
            if text[i] == "{" and isinstance(elem, str):
                found = _find_key(text, i, elem)
            elif text[i] == "[" and isinstance(elem, int):
                found = _find_index(text, i, elem)
            else:
                found = None
            if found is None:
                break
            i = found
    except (ValueError, IndexError):
        pass  # malformed text: report the last good position
    return line_col(text, i)


def _find_key(text: str, i: int, key: str) -> int | None:
    found = None
    i = _skip_ws(text, i + 1)
    while text[i] != "}":
        name, i = scanstring(text, i + 1)
        i = _skip_ws(text, i)
        i = _skip_ws(text, i + 1)  # past ':'
        if name == key:
            found = i  # keep going: with duplicate keys the last one wins
        _, i = _decoder.raw_decode(text, i)
        i = _skip_ws(text, i)
        if text[i] == ",":
            i = _skip_ws(text, i + 1)
    return found


def _find_index(text: str, i: int, index: int) -> int | None:
    i = _skip_ws(text, i + 1)
    n = 0
    while text[i] != "]":
        if n == index:
            return i
        _, i = _decoder.raw_decode(text, i)
        i = _skip_ws(text, i)
        if text[i] == ",":
            i = _skip_ws(text, i + 1)
        n += 1
    return None
