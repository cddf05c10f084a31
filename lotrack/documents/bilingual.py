"""The printed documents' own words in each language they print, side by side.

A certificate or a label is read by Chinese- and English-speaking staff alike, so it carries both
languages at once, in the order a site configures (LOTRACK_DOCUMENT_LANGUAGES, e.g. "zh_CN,en").
These captions do not follow the reader's interface language: the document is the same for all.
Data (test names, criteria, signers' meanings) is printed as recorded."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lotrack.documents.tokens import PREVIEW_STAMP

LANGUAGES = ("zh_CN", "en")
DEFAULT_LANGUAGES = ("zh_CN", "en")

# Each caption: one text per language; `{name}` fields are filled from the caller's values.
CAPTIONS: dict[str, dict[str, str]] = {
    # Certificate of analysis
    "coa_title": {"zh_CN": "分析证书", "en": "Certificate of analysis"},
    "verification_qr": {"zh_CN": "验证二维码", "en": "verification QR code"},
    "unit_labels": {"zh_CN": "单元标签", "en": "Unit labels"},
    "version": {"zh_CN": "版本 {version}", "en": "version {version}"},
    "page": {
        "zh_CN": '"第 " counter(page) " 页，共 " counter(pages) " 页"',
        "en": '"page " counter(page) " of " counter(pages)',
    },
    "issued": {"zh_CN": "{by} 签发于 {at}", "en": "Issued {at} by {by}"},
    "lot": {"zh_CN": "批号", "en": "lot"},
    "product_and_lineage": {"zh_CN": "产品与谱系", "en": "Product and lineage"},
    "document": {"zh_CN": "文件", "en": "Document"},
    "document_value": {
        "zh_CN": "{number}，版本 {version}",
        "en": "{number}, version {version}",
    },
    "specification": {"zh_CN": "质量标准", "en": "Specification"},
    "donor": {"zh_CN": "供者", "en": "Donor"},
    "clone": {"zh_CN": "克隆", "en": "Clone"},
    "mcb": {"zh_CN": "主细胞库", "en": "Master cell bank"},
    "wcb": {"zh_CN": "工作细胞库", "en": "Working cell bank"},
    "run": {"zh_CN": "生产批", "en": "Production run"},
    "run_value": {
        "zh_CN": "{run}，第 {passage} 代，累计群体倍增 {pdl}",
        "en": "{run}, passage {passage}, cumulative population doublings {pdl}",
    },
    "manufactured": {"zh_CN": "生产日期", "en": "Manufactured"},
    "expiry": {"zh_CN": "有效期至", "en": "Expiry"},
    "results": {"zh_CN": "检验结果", "en": "Results"},
    "test": {"zh_CN": "检验项目", "en": "Test"},
    "informational": {"zh_CN": "（仅供参考）", "en": "(informational)"},
    "method": {"zh_CN": "方法", "en": "Method"},
    "criterion": {"zh_CN": "可接受标准", "en": "Acceptance criterion"},
    "result": {"zh_CN": "结果", "en": "Result"},
    "conclusion": {"zh_CN": "结论", "en": "Conclusion"},
    "release_decision": {"zh_CN": "放行决定", "en": "Release decision"},
    "signed_by": {"zh_CN": "签名人", "en": "Signed by"},
    "meaning": {"zh_CN": "签名含义", "en": "Meaning"},
    "signed_at": {"zh_CN": "日期和时间", "en": "Date and time"},
    "no_signature": {"zh_CN": "无放行签名。", "en": "No release signature."},
    "void": {
        "zh_CN": "作废：签名后批记录已变更",
        "en": "VOID: the dossier changed after signing",
    },
    "exceptional": {
        "zh_CN": "例外放行 — 本批未满足全部放行标准；依据有记录的医师申请和风险评估放行。",
        "en": "EXCEPTIONAL RELEASE — this lot does not meet every release criterion; released"
        " on a documented physician request and risk assessment.",
    },
    "verify": {"zh_CN": "验证本证书：", "en": "Verify this certificate:"},
    # Unit labels
    "label_lot": {"zh_CN": "批号", "en": "Lot"},
    "cells": {"zh_CN": "{cells} 细胞，{volume}", "en": "{cells} cells in {volume}"},
    "expires": {"zh_CN": "有效期至", "en": "Expires"},
    "not_for_use": {"zh_CN": "{state} — 禁止使用", "en": "{state} — NOT FOR USE"},
    "preview": {"zh_CN": "预览 – 不得用作标签", "en": PREVIEW_STAMP},
}

# What a certificate concludes, and the lot states a label or certificate prints.
VALUES: dict[str, dict[str, str]] = {
    "Conforms": {"zh_CN": "符合"},
    "Conforms (alert)": {"zh_CN": "符合（警戒）"},
    "Does not conform": {"zh_CN": "不符合"},
    "QUARANTINE": {"zh_CN": "待验"},
    "RELEASED": {"zh_CN": "已放行"},
    "REJECTED": {"zh_CN": "不合格"},
    "ON HOLD": {"zh_CN": "冻结"},
    "EXCEPTIONAL RELEASE": {"zh_CN": "例外放行"},
    "RECALLED": {"zh_CN": "已召回"},
    "EXPIRED": {"zh_CN": "已过期"},
}


def parse_languages(text: str) -> tuple[str, ...]:
    """ "zh_CN,en" → ("zh_CN", "en"): the languages a document prints, in order; at least one,
    each known and named once. Raises ValueError naming what is wrong."""
    chosen = tuple(part.strip() for part in (text or "").split(",") if part.strip())
    unknown = [lang for lang in chosen if lang not in LANGUAGES]
    if not chosen or unknown or len(set(chosen)) != len(chosen):
        raise ValueError(
            f"LOTRACK_DOCUMENT_LANGUAGES must name each of {', '.join(LANGUAGES)} at most once,"
            f" at least one, separated by commas (got {text!r})"
        )
    return chosen


@dataclass(frozen=True)
class Word:
    """A stored English value (a state, a conclusion) to print in each language: `t.word(…)`."""

    text: str

    def into(self, lang: str) -> str:
        return self.text if lang == "en" else VALUES.get(self.text, {}).get(lang, self.text)


@dataclass(frozen=True)
class Captions:
    """The templates' `t`: `t("lot")` → "批号 lot"; `t.each("issued", at=…, by=…)` → one text
    per language, in the configured order."""

    languages: tuple[str, ...] = DEFAULT_LANGUAGES

    def each(self, key: str, **values: Any) -> list[str]:
        texts = CAPTIONS[key]
        return [
            texts[lang].format(
                **{k: v.into(lang) if isinstance(v, Word) else v for k, v in values.items()}
            )
            for lang in self.languages
        ]

    def __call__(self, key: str, sep: str = " ", **values: Any) -> str:
        return sep.join(self.each(key, **values))

    def word(self, text: str) -> Word:
        return Word(text)

    def value(self, text: str, sep: str = " ") -> str:
        """A stored English value (a conclusion, a state) with its translations beside it."""
        known = VALUES.get(text, {})
        shown: list[str] = []
        for lang in self.languages:
            word = text if lang == "en" else known.get(lang)
            if word and word not in shown:
                shown.append(word)
        return sep.join(shown or [text])

    @property
    def lang(self) -> str:
        """The document's main language, for `<html lang>`."""
        return self.languages[0].replace("_", "-")
