"""The two flows where a misread word matters most, in Chinese, in Chromium, on a phone-sized and a
tablet-sized tab: QA signs a lot's release, and a nurse is stopped at the bedside by a recall.

One reader's browser asks for Chinese (Accept-Language); the other switches with the header's
button. Every page they pass through speaks Chinese: `<html lang="zh-CN">`, the answer in Chinese,
and no English phrase of the catalog left anywhere on the page."""

from __future__ import annotations

import pytest
from flask import Flask

from tests import clinical_setup as cs
from tests.browser.conftest import PHONE, TABLET, check_at_bedside, log_in
from tests.conftest import PASSWORDS
from tests.i18n_check import english_left
from tests.release_setup import make_lot

pytestmark = pytest.mark.browser

SIZES = {"phone": PHONE, "tablet": TABLET}


def _tab(browser, size: str, asks_chinese: bool):
    """A tab of the size; its browser asks for Chinese, or for English (the reader switches)."""
    context = browser.new_context(
        viewport=SIZES[size],
        locale="zh-CN" if asks_chinese else "en-GB",
        has_touch=size == "phone",
        is_mobile=size == "phone",
    )
    return context, context.new_page()


def _chooses_chinese(page) -> None:
    """The header's language switch, as a reader whose browser speaks English uses it."""
    page.click(".language-switch button[value=zh_CN]")
    page.wait_for_load_state()


def _speaks_chinese(page) -> None:
    assert page.get_attribute("html", "lang") == "zh-CN", page.url
    assert english_left(page.content()) == [], page.url


def _no_wider_than_the_screen(page) -> None:
    """Nothing the reader must see is pushed off the side: the page does not scroll sideways."""
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), page.url


@pytest.mark.parametrize(("size", "asks_chinese"), [("tablet", True), ("phone", False)])
def test_qa_signs_a_release_in_chinese(
    demo_app: Flask, live: str, browser, size: str, asks_chinese: bool
) -> None:
    lot = make_lot(demo_app)
    context, page = _tab(browser, size, asks_chinese)
    try:
        page.goto(f"{live}/login")
        if not asks_chinese:
            _chooses_chinese(page)
        _speaks_chinese(page)
        log_in(page, live, "qa")
        page.goto(f"{live}/lots/{lot}/release")
        _speaks_chinese(page)
        _no_wider_than_the_screen(page)
        form = "#sign-release"
        page.click(f"{form} summary")
        page.fill(f"{form} [name=username]", "qa")
        page.fill(f"{form} [name=password]", PASSWORDS["qa"])
        page.select_option(f"{form} [name=meaning]", "approved for release")
        page.fill(f"{form} [name=reason]", "各项标准均符合")  # a reason typed in Chinese
        page.click(f"{form} button[type=submit]")
        page.wait_for_load_state()
        _speaks_chinese(page)
        assert "已放行" in page.inner_text(".flash")
        assert "各项标准均符合" in page.content()  # the signature shows the reason as typed
    finally:
        context.close()


@pytest.mark.parametrize(("size", "asks_chinese"), [("phone", True), ("tablet", False)])
def test_a_nurse_is_stopped_by_a_recall_in_chinese(
    demo_app: Flask, live: str, browser, size: str, asks_chinese: bool
) -> None:
    din, _check = cs.ready_din(demo_app)
    cs.thaw(demo_app, din)
    cs.recall(demo_app)
    context, page = _tab(browser, size, asks_chinese)
    try:
        log_in(page, live, "nurse")
        page.goto(f"{live}/bedside")
        if not asks_chinese:
            _chooses_chinese(page)
        _speaks_chinese(page)
        assert "no-go" in check_at_bedside(page, cs.READY, cs.label(demo_app, din))
        assert "禁止输注" in page.inner_text(".bedside-banner")
        assert "召回" in page.locator(".bedside-reasons li").first.inner_text()
        _speaks_chinese(page)
        _no_wider_than_the_screen(page)
    finally:
        context.close()
