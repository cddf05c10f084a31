"""Reading ZPL II back as a printer would, for the tests: the ^XA…^XZ formats, each field's origin,
what it draws and its data with ^FH hex escapes undone, Code 128 invocation codes undone.

Written from the ZPL II Programming Guide, not from lotrack/documents/zpl.py, so that the two can
disagree: a field's data ends at the next `^` (a raw `^` in data would cut it short, and a raw
`~` is refused outright), `_XX` under ^FH is one byte, and in ^BC subset B `><` is `>` and
`>:` is the Start Code B (lotrack prints no other invocation code)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import qrcode
import qrcode.constants
import qrcode.util

# Andale Mono's advance is 0.6 em for Latin and 1 em for CJK: ASCII is read as at most 0.62 em,
# anything else as at most 1 em.
LATIN_ADVANCE = 0.62


class ZplError(AssertionError):
    """The text is not ZPL this reader accepts."""


@dataclass
class Field:
    kind: str  # "text", "code128", "qr" or "box"
    x: int
    y: int
    params: list[str] = field(default_factory=list)
    raw: str = ""  # the ^FD data as sent
    data: str = ""  # what it prints or encodes
    module: int = 0  # ^BY: a Code 128's narrowest bar, in dots
    font: str = ""

    @property
    def size(self) -> tuple[int, int]:
        """Width and height in dots of what the field covers."""
        if self.kind == "box":
            return int(self.params[0]), int(self.params[1])
        if self.kind == "code128":
            return (11 * (len(self.data) + 2) + 13) * self.module, int(self.params[1])
        if self.kind == "qr":
            code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0)
            byte_mode = qrcode.util.QRData(self.data.encode(), mode=qrcode.util.MODE_8BIT_BYTE)
            code.add_data(byte_mode)
            code.make(fit=True)
            side = code.modules_count * int(self.params[2])
            return side, side
        height, width = int(self.params[1]), int(self.params[2])
        advance = sum(width * LATIN_ADVANCE if c.isascii() else width for c in self.data)
        return round(advance + 0.5), height


@dataclass
class Format:
    width: int = 0
    height: int = 0
    utf8: bool = False
    fields: list[Field] = field(default_factory=list)

    def of(self, kind: str) -> list[Field]:
        return [f for f in self.fields if f.kind == kind]

    def texts(self) -> list[str]:
        return [f.data for f in self.of("text")]


def unhex(data: str, indicator: str = "_") -> str:
    """^FH: each indicator and two hex digits is one byte; the bytes are UTF-8 (^CI28)."""
    out = bytearray()
    i = 0
    while i < len(data):
        if data[i] == indicator:
            digits = data[i + 1 : i + 3]
            if not re.fullmatch(r"[0-9A-Fa-f]{2}", digits):
                raise ZplError(f"bad hex escape at {i}: {data!r}")
            out.append(int(digits, 16))
            i += 3
        else:
            out += data[i].encode()
            i += 1
    return out.decode("utf-8")


def code128(data: str) -> str:
    """^BC field data in subset B, invocation codes undone."""
    if not data.startswith(">:"):
        raise ZplError(f"no Start Code B: {data!r}")
    out, i, rest = [], 0, data[2:]
    while i < len(rest):
        if rest[i] == ">":
            pair = rest[i : i + 2]
            if pair != "><":
                raise ZplError(f"an invocation code other than ><: {rest!r}")
            out.append(">")
            i += 2
        else:
            out.append(rest[i])
            i += 1
    return "".join(out)


def commands(text: str) -> list[tuple[str, str]]:
    """(command, what follows it up to the next command) for every ^ command of `text`."""
    if "~" in text:
        raise ZplError("a raw ~ (a control command) in the text")
    return [(part[:2], part[2:].strip("\n")) for part in text.split("^")[1:]]


def read(text: str) -> list[Format]:
    """Every ^XA…^XZ format of `text`, with its fields."""
    formats: list[Format] = []
    current: Format | None = None
    pending: Field | None = None
    hexed = False
    module = 2
    for name, rest in commands(text):
        if name == "XA":
            current, pending, hexed = Format(), None, False
            continue
        if current is None:
            raise ZplError(f"^{name} outside a format")
        if name == "XZ":
            formats.append(current)
            current = None
        elif name == "CI":
            current.utf8 = rest == "28"
        elif name == "PW":
            current.width = int(rest)
        elif name == "LL":
            current.height = int(rest)
        elif name == "FO":
            x, y = (int(v) for v in rest.split(","))
            pending, hexed = Field("", x, y), False
        elif name == "BY":
            module = int(rest.split(",")[0])
        elif name in ("A@", "BC", "BQ", "GB") and pending is not None:
            kind = {"A@": "text", "BC": "code128", "BQ": "qr", "GB": "box"}[name]
            pending.kind, pending.params = kind, rest.split(",")
            pending.module = module
            pending.font = pending.params[3] if kind == "text" else ""
        elif name == "FH":
            hexed = True
            if rest not in ("", "_"):
                raise ZplError(f"this reader knows the _ indicator only: {rest!r}")
        elif name == "FD" and pending is not None:
            pending.raw = rest
            plain = unhex(rest) if hexed else rest
            if pending.kind == "code128":
                plain = code128(plain)
            elif pending.kind == "qr":
                if not plain.startswith("MA,"):
                    raise ZplError(f"a QR code not at level M, automatic input: {plain!r}")
                plain = plain[3:]
            pending.data = plain
        elif name == "FS" and pending is not None:
            current.fields.append(pending)
            pending = None
    if current is not None:
        raise ZplError("a format without ^XZ")
    return formats


def assert_inside(fmt: Format) -> None:
    """Every field, origin and extent, on the label (^PW × ^LL)."""
    for f in fmt.fields:
        width, height = f.size
        assert f.x >= 0 and f.y >= 0, f
        assert f.x + width <= fmt.width and f.y + height <= fmt.height, (f, fmt.width, fmt.height)
