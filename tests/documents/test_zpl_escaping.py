"""ZPL escaping: whatever a label's data or text, no raw `^` or `~` (ZPL's command prefixes)
reaches a printer, and the reader gets back exactly what was meant; a preview is never ZPL."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lotrack.config import build_config
from lotrack.documents import zpl
from lotrack.documents.bilingual import Captions
from lotrack.domain.errors import ValidationFailed
from lotrack.domain.label_output import ZPL_DPIS
from tests.documents.zpl_reader import assert_inside, read

ANY_TEXT = st.text(
    st.characters(exclude_categories=("Cs",)) | st.sampled_from(">^~_\\"), min_size=1
)
# Printable ASCII but ^ and ~ (refused below), with > and _ often: what ISBT 128 data may hold.
ASCII = st.text(
    st.characters(min_codepoint=32, max_codepoint=126).filter(lambda c: c not in "^~")
    | st.sampled_from(">_")
)


def one_field(command: str, data: str) -> str:
    return f"^XA^CI28^PW800^LL400^FO0,0{command}^FH_^FD{data}^FS^XZ"


@settings(max_examples=300, deadline=None)
@given(ANY_TEXT)
def test_text_round_trips_through_fh_escaping(text: str) -> None:
    escaped = zpl.hex_escaped(text)
    assert "^" not in escaped and "~" not in escaped
    (fmt,) = read(one_field("^A@N,20,20,E:ANMDS.TTF", escaped))
    assert fmt.texts() == [text]


@settings(max_examples=300, deadline=None)
@given(ASCII)
def test_code_128_data_round_trips_through_invocation_codes(data: str) -> None:
    field = zpl.code128_data(data)
    assert field.startswith(">:") and "^" not in field and "~" not in field
    (fmt,) = read(one_field("^BY2^BCN,40,N,N,N", field))
    assert [f.data for f in fmt.of("code128")] == [data]


@pytest.mark.parametrize("data", ["é", "=A9999\n", "中"])
def test_code_128_refuses_what_subset_b_cannot_hold(data: str) -> None:
    with pytest.raises(ValueError, match="subset B"):
        zpl.code128_data(data)


@pytest.mark.parametrize("data", ["=A9999^", "&>~0"])
def test_code_128_refuses_the_characters_zpl_would_need_a_guess_for(data: str) -> None:
    with pytest.raises(ValueError, match="not printed in ZPL"):
        zpl.code128_data(data)


def label_of(text: str) -> dict[str, object]:
    """A label dict as unit_labels._label makes it, with `text` wherever text goes."""
    symbols = [
        {"structure": "001", "data": "=A99992600000560", "eye": "A9999 26 000005", "check": "0"},
        {"structure": "003", "data": "=<" + text[:8].ljust(8, "0"), "eye": text, "check": ""},
        {"structure": "005", "data": "&>0282292359", "eye": text, "check": ""},
    ]
    return {
        "symbols": symbols,
        "url": f"https://lotrack.example/v/{text}",
        "product": text,
        "lot": text,
        "cells": text,
        "volume": text,
        "container": text,
        "expiry": text,
        "warnings": [[text]],
        "statements": [[text], [text]],
        "state": text,
        "usable": False,
        "preview": False,
    }


@settings(max_examples=100, deadline=None)
@given(
    st.text(
        st.characters(exclude_categories=("Cs", "Zs", "Zl", "Zp", "Cc")), min_size=1, max_size=12
    )
)
def test_a_whole_label_with_hostile_text_reads_back(text: str) -> None:
    """Every field of a label whose every text is `text`: nothing raw, and `text` printed."""
    for dpi in ZPL_DPIS:
        try:
            out = zpl.label_zpl(label_of(text), Captions(), (101.6, 50.8), dpi, "E:ANMDS.TTF")
        except ValueError:
            # 003's data holds printable ASCII only, and neither ^ nor ~ (code128_data).
            head = text[:8]
            assert not all(32 <= ord(c) <= 126 for c in head) or "^" in head or "~" in head
            return
        (fmt,) = read(out)
        assert_inside(fmt)
        assert fmt.of("qr")[0].data.endswith(text)
        assert fmt.texts().count(text) >= 3  # 003's eye, the product, the statements


def test_a_preview_is_never_zpl() -> None:
    label = label_of("A") | {"preview": True}
    with pytest.raises(ValueError, match="preview"):
        zpl.label_zpl(label, Captions(), (101.6, 50.8), 203, "E:ANMDS.TTF")


@pytest.mark.parametrize("font", ["E:ANMDS.TTF^FDX", "E:A,B.TTF", "ANMDS.TTF", "E:~JA.TTF", ""])
def test_a_font_setting_that_could_break_a_command_stops_the_app(tmp_path, font: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        build_config(tmp_path, {"LOTRACK_ZPL_FONT": font})
    assert "LOTRACK_ZPL_FONT" in refused.value.fields
