"""Make learner-derived text inert before it leaves the trusted side.

Learner-derived text is anything the learner controls: exception type names and
messages, tracebacks, printed output, file and zip member names, learner ids, and any
string that came from the child. :func:`inert` is the one function that cleans it:

- escape sequences go: ANSI CSI (cursor moves, screen clears, colours), OSC (window
  title, OSC 52 clipboard writes, OSC 8 hyperlinks), DCS/SOS/PM/APC strings, and the
  two-byte ESC forms, in their 7-bit and 8-bit spellings;
- every other C0/C1 control character and DEL goes; ``\\r``, ``\\r\\n`` and the Unicode
  line separators become ``\\n``; newline and tab are kept only where allowed;
- bidirectional overrides and isolates (the "Trojan Source" characters) and invisible
  zero-width characters go; lone surrogates (undecodable file names) become U+FFFD.

Each sink then adds what its format needs, on top of :func:`inert`:

=============  =======================================================================
terminal       :func:`terminal_text`: a ``rich.text.Text``, never parsed as rich markup
Markdown       :func:`markdown_inline` (one line, every construct escaped) and
               :func:`markdown_block` (a fenced code block: no HTML, no links)
HTML           :func:`html_text`
CSV            :func:`csv_cell`: one line, no leading ``= + - @`` (spreadsheet formulas)
JSON           :func:`json_text`, and :func:`inert_json` for a whole document
messages       :func:`shown_name`: a file or zip member name, quoted and shortened
=============  =======================================================================
"""

from __future__ import annotations

import html
import re
from typing import Any

__all__ = [
    "inert",
    "inert_line",
    "shown_name",
    "terminal_text",
    "markdown_inline",
    "markdown_block",
    "html_text",
    "csv_cell",
    "json_text",
    "inert_json",
    "FORMULA_STARTERS",
]

_LINE_BREAKS = re.compile("\r\n|[\r\u0085\u2028\u2029\x0b\x0c]")
# String-type controls: OSC, DCS, SOS, PM, APC, with their payload up to the terminator (BEL or
# ST, 7- or 8-bit). Unterminated ones lose only the introducer: the payload stays visible text.
_STRING_ESCAPES = re.compile(
    r"(?:\x1b[\]PX^_]|[\x9d\x90\x98\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)")
_CSI = re.compile(r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]")
_TWO_BYTE_ESCAPES = re.compile(r"\x1b[ -/]*[0-~]")
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# Bidi embeddings, overrides, isolates and marks; zero-width space, word joiner, BOM.
_INVISIBLE = re.compile("[\u061c\u200b\u200e\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff]")
_SURROGATES = re.compile("[\ud800-\udfff]")

#: A cell starting with one of these is a formula to Excel, LibreOffice and Google Sheets.
FORMULA_STARTERS = ("=", "+", "-", "@", "\t", "\r")


def inert(text: Any, *, newlines: bool = True, limit: int | None = None) -> str:
    """`text` (any object: str() of it) with escape sequences and control characters removed.

    With ``newlines=False`` line breaks and tabs become spaces. With `limit`, at most `limit`
    characters are kept (the input is cut before it is cleaned, so the cost is bounded too).
    """
    text = text if isinstance(text, str) else str(text)
    cut = limit is not None and len(text) > 4 * limit
    if limit is not None and cut:
        text = text[: 4 * limit]  # bound the work; escape sequences may go, so cut again below
    text = _LINE_BREAKS.sub("\n", text)
    text = _STRING_ESCAPES.sub("", text)
    text = _CSI.sub("", text)
    text = _TWO_BYTE_ESCAPES.sub("", text)
    text = _CONTROLS.sub("", text)
    text = _INVISIBLE.sub("", text)
    text = _SURROGATES.sub("\ufffd", text)
    if not newlines:
        text = text.replace("\n", " ").replace("\t", " ")
    if limit is not None and (cut or len(text) > limit):
        text = text[: max(limit - 1, 0)] + "…"
    return text


def inert_line(text: Any, limit: int | None = None) -> str:
    """:func:`inert` on one line: line breaks and tabs become spaces."""
    return inert(text, newlines=False, limit=limit)


def shown_name(name: Any, limit: int = 80) -> str:
    """A learner's file or zip member name for a message: one line, shortened, quoted."""
    return f"“{inert_line(name, limit)}”"


def terminal_text(text: Any, style: str = "") -> Any:
    """A ``rich.text.Text`` of inert `text`: printed literally (``[red]`` stays ``[red]``)."""
    from rich.text import Text

    return Text(inert(text), style=style)


# Characters that open Markdown (CommonMark + GFM) syntax anywhere in a line: emphasis, code,
# links and images ([ and ]), HTML and autolinks (< >), entities (&), table cells (|), strikethrough
# (~), headings' closing #, e-mail autolinks (@), math ($); an underscore unless it sits inside a
# word (make_vector: never emphasis); "://" and "x.y" (URL and www. autolinks); then what only
# matters at the start of a line (lists, setext underlines, "1." or "1)").
_MD_SPECIAL = re.compile(r"([\\`*\[\]<>#|~&@$]|(?<![^\W_])_|_(?![^\W_]))|(:)(?=/)|(\.)(?=\w)|^([-+=])"
                         r"|^(\d+)([.)])")


def _md_escape(match: re.Match[str]) -> str:
    if match.group(5):
        return f"{match.group(5)}\\{match.group(6)}"
    return "\\" + match.group(0)


def markdown_inline(text: Any, limit: int | None = None) -> str:
    """Inert `text` as Markdown inline content: one line, every construct escaped.

    No HTML, entity, link, image, autolink (GFM's ``www.``/``http://``/e-mail included),
    emphasis, code span or table cell boundary can come out of it, and since it has no line
    break it cannot start a heading, a list, a quote or a table.
    """
    return _MD_SPECIAL.sub(_md_escape, inert_line(text, limit).strip())


def markdown_block(text: Any, info: str = "text") -> str:
    """Inert `text` in a fenced code block longer than any backtick run inside it."""
    text = inert(text)
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    ticks = "`" * max(3, longest + 1)
    return f"{ticks}{info}\n{text}\n{ticks}"


def html_text(text: Any) -> str:
    """Inert `text` escaped for HTML element content and quoted attribute values."""
    return html.escape(inert(text), quote=True)


def csv_cell(text: Any) -> str:
    """A cell that a spreadsheet shows as text: one inert line, no leading formula character
    (spaces before it included)."""
    raw = text if isinstance(text, str) else str(text)
    text = inert_line(raw)
    formula = raw.startswith(FORMULA_STARTERS) or text.lstrip().startswith(FORMULA_STARTERS)
    return "'" + text if formula else text


def json_text(text: Any) -> str:
    """Inert `text` for a JSON string (newlines and tabs kept; json escapes them)."""
    return inert(text)


def inert_json(value: Any) -> Any:
    """A copy of a JSON-ready document with every string (keys too) made inert."""
    if isinstance(value, str):
        return inert(value)
    if isinstance(value, dict):
        return {inert(k) if isinstance(k, str) else k: inert_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [inert_json(v) for v in value]
    return value
