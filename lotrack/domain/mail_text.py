"""The words of each notice, in each language, as documents/bilingual.py keeps a document's: an
e-mail is read outside the app, so it carries its own text rather than the interface's catalog.
A reader who chose a language gets that one; anyone else both, Chinese first."""

from __future__ import annotations

from dataclasses import dataclass

from lotrack.domain.mail import MailEvent

LANGUAGES = ("zh_CN", "en")

# (subject, first line of the body); {number} the record's number, {detail} what it concerns.
TEXTS: dict[MailEvent, dict[str, tuple[str, str]]] = {
    MailEvent.HOLD: {
        "zh_CN": ("暂停 {number}", "批已暂停使用（{number}）：{detail}"),
        "en": ("Hold {number}", "Lots were placed on hold ({number}): {detail}"),
    },
    MailEvent.RECALL: {
        "zh_CN": ("召回 {number}", "批已召回（{number}）：{detail}"),
        "en": ("Recall {number}", "Lots were recalled ({number}): {detail}"),
    },
    MailEvent.OOS_OPENED: {
        "zh_CN": ("超标调查 {number} 已开启", "超标（OOS）调查 {number} 已开启：{detail}"),
        "en": ("OOS investigation {number} opened", "OOS investigation {number} opened: {detail}"),
    },
    MailEvent.EXCEPTIONAL_REQUESTED: {
        "zh_CN": (
            "例外放行申请 {number}",
            "例外放行申请 {number} 待质量保证与医学总监签名：{detail}",
        ),
        "en": (
            "Exceptional release {number} requested",
            "Exceptional release {number} awaits the signatures of QA and the medical director:"
            " {detail}",
        ),
    },
    MailEvent.EXCEPTIONAL_SIGNED: {
        "zh_CN": (
            "例外放行 {number} 已签署",
            "例外放行 {number} 已由双方签署，该批已例外放行：{detail}",
        ),
        "en": (
            "Exceptional release {number} signed",
            "Exceptional release {number} carries both signatures; the lot is released"
            " exceptionally: {detail}",
        ),
    },
    MailEvent.AE_REPORT_DUE: {
        "zh_CN": ("不良事件报告即将到期 {number}", "不良事件 {number} 的报告到期：{detail}"),
        "en": (
            "Adverse event report due {number}",
            "A report of adverse event {number} is due: {detail}",
        ),
    },
    MailEvent.AE_REPORT_OVERDUE: {
        "zh_CN": ("不良事件报告已逾期 {number}", "不良事件 {number} 的报告已逾期：{detail}"),
        "en": (
            "Adverse event report overdue {number}",
            "A report of adverse event {number} is overdue: {detail}",
        ),
    },
    MailEvent.CALIBRATION_DUE: {
        "zh_CN": ("仪器校准到期 {number}", "仪器 {number} 的校准到期：{detail}"),
        "en": ("Calibration due {number}", "Instrument {number} is due for calibration: {detail}"),
    },
    MailEvent.COLD_CHAIN_EXCURSION: {
        "zh_CN": (
            "运输温度偏离 {number}",
            "运输单 {number} 的温度记录显示偏离，其单位已暂停使用，待质量保证决定：{detail}",
        ),
        "en": (
            "Temperature excursion {number}",
            "The logger of shipment {number} shows a temperature excursion; its units are on hold"
            " until QA decides: {detail}",
        ),
    },
    MailEvent.EXCURSION_AFTER_INFUSION: {
        "zh_CN": (
            "已输注单位运输温度偏离 {number}",
            "运输单 {number} 的温度记录显示偏离，其中以下单位已输注给患者，请评估患者：{detail}",
        ),
        "en": (
            "Excursion on infused units {number}",
            "The logger of shipment {number} shows a temperature excursion, and these units were"
            " infused already; assess the patients: {detail}",
        ),
    },
}
OPEN = {"zh_CN": "打开记录：{link}", "en": "Open the record: {link}"}
FOOTER = {
    "zh_CN": "此邮件由 lotrack 自动发送，请勿回复。",
    "en": "Sent by lotrack; do not reply to this message.",
}


@dataclass(frozen=True)
class Message:
    subject: str
    body: str


def compose(
    event: MailEvent, language: str | None, *, number: str, detail: str, link: str
) -> Message:
    """The notice in the reader's language, or in both (Chinese first) when none is chosen."""
    languages = (language,) if language in LANGUAGES else LANGUAGES
    values = {"number": number, "detail": detail, "link": link}
    subjects, paragraphs = [], []
    for lang in languages:
        subject, line = TEXTS[event][lang]
        subjects.append(subject.format(**values))
        paragraphs.append(
            "\n".join((line.format(**values), OPEN[lang].format(**values), "", FOOTER[lang]))
        )
    return Message(" / ".join(subjects), "\n\n----\n\n".join(paragraphs) + "\n")
