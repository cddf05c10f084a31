"""The languages lotrack speaks, and which one a person reads: their own choice, else what their
browser asks for, else the site's default. Chinese first: the facility and the trial sites are in
Shenzhen and Beijing."""

from __future__ import annotations

from enum import StrEnum


class Language(StrEnum):
    ZH_CN = "zh_CN"
    EN = "en"

    @property
    def html_lang(self) -> str:
        """The BCP 47 tag of <html lang> ("zh-CN", "en")."""
        return self.value.replace("_", "-")

    @property
    def own_name(self) -> str:
        """The language's name in itself, as a switch offers it."""
        return {"zh_CN": "中文", "en": "English"}[self.value]


def choose(chosen: str | None, accepted: str | None, default: str) -> Language:
    """The person's own choice if it is a language we speak, else their browser's best match,
    else the site's default (itself one of ours, or Chinese)."""
    for candidate in (chosen, accepted, default):
        if candidate in Language._value2member_map_:
            return Language(candidate)
    return Language.ZH_CN
