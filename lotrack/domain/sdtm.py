"""The sponsor export's datasets, shaped as CDISC SDTM (SDTMIG 3.3): each dataset's variables with
their label (English and Chinese: the metadata file is read by both), type, length, origin,
controlled terms and the lotrack record each value is taken from. domain/sdtm_rows.py fills them.

Export spec version 1. A change of a variable, its meaning or its source is a new version."""

from __future__ import annotations

from dataclasses import dataclass

from lotrack.domain.text import N_

SPEC_VERSION = "1"
STUDYID = "NCT03123458"  # shared/reference/trial.md: the trial's registry id
COUNTRY = "CHN"  # ISO 3166-1 alpha-3: every site is in China (shared/reference/trial.md)
TREATMENT = "cfMSC"  # the product, as specifications and production runs name it
# UTF-8 with a byte-order mark: Excel (the Chinese sites' spreadsheet) then reads Chinese text
# right; Python reads it with encoding="utf-8-sig", SAS and R with their UTF-8 BOM options.
ENCODING = "utf-8-sig"


@dataclass(frozen=True)
class Variable:
    name: str
    label: str
    label_zh: str
    type: str  # "Char" or "Num" (SDTM's two types)
    length: int  # the longest value the variable may hold
    origin: str  # CRF (entered), Derived (computed by lotrack), Assigned (fixed by the export)
    terms: str = ""  # controlled terms, "; "-separated, when the value is one of a list
    source: str = ""  # which lotrack record the value is taken from, and which value of it


@dataclass(frozen=True)
class Dataset:
    name: str
    label: str
    label_zh: str
    structure: str  # one record per ...
    variables: tuple[Variable, ...]

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(v.name for v in self.variables)


def _c(
    name: str, label: str, zh: str, length: int, origin: str, terms: str = "", src: str = ""
) -> Variable:
    return Variable(name, label, zh, "Char", length, origin, terms, src)


def _n(name: str, label: str, zh: str, origin: str, src: str = "") -> Variable:
    return Variable(name, label, zh, "Num", 8, origin, "", src)


YN = "Y; N"
KEYS = (
    _c("STUDYID", "Study Identifier", "研究标识符", 11, "Assigned", STUDYID, "the trial's NCT id"),
    _c("DOMAIN", "Domain Abbreviation", "域缩写", 2, "Assigned"),
    _c(
        "USUBJID",
        "Unique Subject Identifier",
        "唯一受试者标识符",
        60,
        "Derived",
        src="STUDYID-site code-subject code",
    ),
)

DM = Dataset(
    "DM",
    "Demographics",
    "人口统计学",
    N_("one record per consented subject"),
    (
        *KEYS,
        _c(
            "SUBJID",
            "Subject Identifier for the Study",
            "受试者编号",
            32,
            "CRF",
            src="subject code",
        ),
        _c(
            "RFSTDTC",
            "Subject Reference Start Date/Time",
            "受试者参考开始日期时间",
            19,
            "Derived",
            src="first infusion's start, site local time",
        ),
        _c(
            "RFENDTC",
            "Subject Reference End Date/Time",
            "受试者参考结束日期时间",
            19,
            "Derived",
            src="last infusion's end (its start when no end is recorded), site local time",
        ),
        _c(
            "RFXSTDTC",
            "Date/Time of First Study Treatment",
            "首次研究治疗日期时间",
            19,
            "Derived",
            src="first infusion's start, site local time",
        ),
        _c(
            "RFXENDTC",
            "Date/Time of Last Study Treatment",
            "末次研究治疗日期时间",
            19,
            "Derived",
            src="last infusion's end (its start when no end is recorded), site local time",
        ),
        _c(
            "RFICDTC",
            "Date/Time of Informed Consent",
            "知情同意日期",
            10,
            "CRF",
            src="patient's consent date",
        ),
        _c(
            "DTHDTC",
            "Date/Time of Death",
            "死亡日期",
            10,
            "Derived",
            src="no date of death is recorded: blank (the fatal event's resolution date if any)",
        ),
        _c(
            "DTHFL",
            "Subject Death Flag",
            "受试者死亡标志",
            1,
            "Derived",
            "Y",
            src="Y when an adverse event's latest outcome is fatal, else blank",
        ),
        _c("SITEID", "Study Site Identifier", "研究中心标识符", 20, "CRF", src="site code"),
        _n(
            "AGE",
            "Age",
            "年龄",
            "CRF",
            "always blank: lotrack keeps no date of birth; the age band is in SUPPDM (AGEBAND)",
        ),
        _c("AGEU", "Age Units", "年龄单位", 5, "CRF", "YEARS", src="blank, as AGE is"),
        _c("SEX", "Sex", "性别", 1, "CRF", "F; M; U", "patient's sex; U when not recorded"),
        _c(
            "ARMCD", "Planned Arm Code", "计划组别代码", 24, "CRF", src="patient's dose cohort code"
        ),
        _c(
            "ARM",
            "Description of Planned Arm",
            "计划组别描述",
            60,
            "Derived",
            src="patient's dose cohort's dose level",
        ),
        _c(
            "ACTARMCD",
            "Actual Arm Code",
            "实际组别代码",
            24,
            "Derived",
            "NOTTRT",
            src="dose cohort of the first infusion's prescription; NOTTRT when not infused",
        ),
        _c(
            "ACTARM",
            "Description of Actual Arm",
            "实际组别描述",
            60,
            "Derived",
            "Not Treated",
            src="that cohort's dose level; Not Treated when not infused",
        ),
        _c("COUNTRY", "Country", "国家", 3, "Assigned", COUNTRY),
    ),
)

EX = Dataset(
    "EX",
    "Exposure",
    "暴露",
    N_("one record per infusion (one container)"),
    (
        *KEYS,
        _n("EXSEQ", "Sequence Number", "序号", "Derived", "the subject's infusions in time order"),
        _c(
            "EXREFID",
            "Reference ID",
            "参考编号",
            13,
            "CRF",
            src="the unit's ISBT 128 donation identification number (DIN)",
        ),
        _c("EXTRT", "Name of Treatment", "治疗名称", 10, "Assigned", TREATMENT),
        _n(
            "EXDOSE",
            "Dose",
            "剂量",
            "Derived",
            "achieved cells per kg (cells in the volume given / weight at prescribing); blank on"
            " infusions recorded before the achieved dose was kept",
        ),
        _c("EXDOSU", "Dose Units", "剂量单位", 8, "Assigned", "cells/kg"),
        _c("EXDOSFRM", "Dose Form", "剂型", 20, "Assigned", "SUSPENSION"),
        _c("EXROUTE", "Route of Administration", "给药途径", 20, "Assigned", "INTRAVENOUS"),
        _c("EXLOT", "Lot Number", "批号", 32, "CRF", src="the unit's drug-product lot number"),
        _c("EPOCH", "Epoch", "试验阶段", 10, "Assigned", "TREATMENT"),
        _c(
            "EXSTDTC",
            "Start Date/Time of Treatment",
            "治疗开始日期时间",
            19,
            "CRF",
            src="infusion start, site local time",
        ),
        _c(
            "EXENDTC",
            "End Date/Time of Treatment",
            "治疗结束日期时间",
            19,
            "CRF",
            src="infusion end, site local time; blank when not recorded",
        ),
        _n(
            "EXSTDY",
            "Study Day of Start of Treatment",
            "治疗开始研究日",
            "Derived",
            "days from RFSTDTC (day 1), by the site's calendar",
        ),
    ),
)

AE = Dataset(
    "AE",
    "Adverse Events",
    "不良事件",
    N_("one record per adverse event, as its follow-ups leave it"),
    (
        *KEYS,
        _n("AESEQ", "Sequence Number", "序号", "Derived", "the subject's events by onset"),
        _c(
            "AESPID",
            "Sponsor-Defined Identifier",
            "申办者定义标识符",
            12,
            "Assigned",
            src="lotrack's adverse event number",
        ),
        _c(
            "AETERM",
            "Reported Term for the Adverse Event",
            "报告的不良事件术语",
            200,
            "CRF",
            src="the CTCAE term; for an 'Other, specify' term, the text specified",
        ),
        _c(
            "AELLTCD",
            "Lowest Level Term Code",
            "低位语代码",
            12,
            "CRF",
            src="the CTCAE v4.03 term's MedDRA code",
        ),
        _c(
            "AEDECOD",
            "Dictionary-Derived Term",
            "词典衍生术语",
            120,
            "CRF",
            src="the CTCAE v4.03 term",
        ),
        _c(
            "AEBODSYS",
            "Body System or Organ Class",
            "系统器官分类",
            120,
            "CRF",
            src="the CTCAE v4.03 term's system organ class",
        ),
        _c(
            "AESER",
            "Serious Event",
            "严重事件",
            1,
            "Derived",
            YN,
            "Y when the latest follow-up leaves any seriousness criterion met",
        ),
        _c(
            "AEREL",
            "Causality",
            "因果关系",
            10,
            "CRF",
            "UNRELATED; UNLIKELY; POSSIBLE; PROBABLE; DEFINITE",
            "the latest attribution; POSSIBLE, PROBABLE and DEFINITE count as treatment-related",
        ),
        _c(
            "AEOUT",
            "Outcome of Adverse Event",
            "不良事件结局",
            40,
            "CRF",
            "RECOVERED/RESOLVED; RECOVERING/RESOLVING; NOT RECOVERED/NOT RESOLVED;"
            " RECOVERED/RESOLVED WITH SEQUELAE; FATAL; UNKNOWN",
            "the latest outcome",
        ),
        _c(
            "AESCONG",
            "Congenital Anomaly or Birth Defect",
            "先天异常或出生缺陷",
            1,
            "CRF",
            YN,
            "latest seriousness criteria",
        ),
        _c(
            "AESDISAB",
            "Persist or Signif Disability/Incapacity",
            "持续或显著残疾/丧失能力",
            1,
            "CRF",
            YN,
            "latest seriousness criteria",
        ),
        _c("AESDTH", "Results in Death", "导致死亡", 1, "CRF", YN, "latest seriousness criteria"),
        _c(
            "AESHOSP",
            "Requires or Prolongs Hospitalization",
            "需要或延长住院",
            1,
            "CRF",
            YN,
            "latest seriousness criteria",
        ),
        _c(
            "AESLIFE",
            "Is Life Threatening",
            "危及生命",
            1,
            "CRF",
            YN,
            "latest seriousness criteria",
        ),
        _c(
            "AESMIE",
            "Other Medically Important Serious Event",
            "其他重要医学事件",
            1,
            "CRF",
            YN,
            "latest seriousness criteria",
        ),
        _n(
            "AETOXGR",
            "Standard Toxicity Grade",
            "标准毒性分级",
            "CRF",
            "the worst CTCAE grade the event reached over its follow-ups (the latest grade is"
            " SUPPAE AETOXGRL)",
        ),
        _c(
            "AESTDTC",
            "Start Date/Time of Adverse Event",
            "不良事件开始日期",
            10,
            "CRF",
            src="onset date (site's date)",
        ),
        _c(
            "AEENDTC",
            "End Date/Time of Adverse Event",
            "不良事件结束日期",
            10,
            "CRF",
            src="the latest resolution date; blank while not resolved",
        ),
        _n(
            "AESTDY",
            "Study Day of Start of Adverse Event",
            "不良事件开始研究日",
            "Derived",
            "days from RFSTDTC (day 1; the day before is -1); blank when not infused",
        ),
    ),
)

DS = Dataset(
    "DS",
    "Disposition",
    "受试者分布",
    N_("one record per disposition event or protocol milestone"),
    (
        *KEYS,
        _n("DSSEQ", "Sequence Number", "序号", "Derived", "the subject's events in time order"),
        _c(
            "DSTERM", "Reported Term for the Disposition Event", "报告的分布事件术语", 60, "Derived"
        ),
        _c(
            "DSDECOD",
            "Standardized Disposition Term",
            "标准化分布术语",
            40,
            "Derived",
            "INFORMED CONSENT OBTAINED; FIRST INFUSION; COMPLETED; DEATH",
            "consent date; first infusion; one-month visit recorded; an adverse event's latest"
            " outcome fatal. lotrack records no withdrawal",
        ),
        _c(
            "DSCAT",
            "Category for Disposition Event",
            "分布事件类别",
            20,
            "Assigned",
            "PROTOCOL MILESTONE; DISPOSITION EVENT",
        ),
        _c("EPOCH", "Epoch", "试验阶段", 10, "Assigned", "SCREENING; TREATMENT; FOLLOW-UP"),
        _c(
            "DSSTDTC",
            "Start Date/Time of Disposition Event",
            "分布事件开始日期时间",
            19,
            "CRF",
            src="the event's date (an infusion's start in site local time)",
        ),
        _n(
            "DSSTDY",
            "Study Day of Start of Disposition Event",
            "分布事件开始研究日",
            "Derived",
            "days from RFSTDTC (day 1); blank when not infused",
        ),
    ),
)


def _supp(parent: Dataset, evaluator: str, structure: str) -> Dataset:
    """A supplemental qualifiers dataset: values with no standard variable in `parent`."""
    return Dataset(
        f"SUPP{parent.name}",
        f"Supplemental Qualifiers for {parent.name}",
        f"{parent.name} 补充限定词",
        structure,
        (
            KEYS[0],
            _c("RDOMAIN", "Related Domain Abbreviation", "相关域缩写", 2, "Assigned", parent.name),
            KEYS[2],
            _c("IDVAR", "Identifying Variable", "标识变量", 8, "Assigned"),
            _c("IDVARVAL", "Identifying Variable Value", "标识变量值", 20, "Derived"),
            _c("QNAM", "Qualifier Variable Name", "限定变量名", 8, "Assigned"),
            _c("QLABEL", "Qualifier Variable Label", "限定变量标签", 40, "Assigned"),
            _c("QVAL", "Data Value", "数据值", 200, "CRF"),
            _c("QORIG", "Origin", "来源", 20, "Assigned", "CRF; Derived"),
            _c("QEVAL", "Evaluator", "评估者", 20, "Assigned", evaluator),
        ),
    )


SUPPDM = _supp(DM, "", N_("one record per subject and qualifier (AGEBAND, INDIC)"))
SUPPEX = _supp(EX, "", N_("one record per infusion and qualifier (EXVOL, EXCELLS, EXDISCRD)"))
SUPPAE = _supp(AE, "INVESTIGATOR", N_("one record per event and qualifier (AETOXGRL, AEEXPECT)"))
SUPPDS = _supp(DS, "INVESTIGATOR", N_("one record per one-month visit (RESPONSE)"))

DATASETS: tuple[Dataset, ...] = (DM, SUPPDM, EX, SUPPEX, AE, SUPPAE, DS, SUPPDS)

# The supplemental qualifiers: QNAM -> (dataset, QLABEL, its Chinese, QORIG, what it holds).
QUALIFIERS: dict[str, tuple[str, str, str, str, str]] = {
    "AGEBAND": (
        "SUPPDM",
        "Age Band at Enrolment",
        "入组时年龄段",
        "CRF",
        "ICH E11 band: 0-27d; 28d-23m; 2-11y; 12-17y; 18-64y; 65+y (no date of birth is kept)",
    ),
    "INDIC": ("SUPPDM", "Indication", "适应症", "CRF", "acute_gvhd; chronic_gvhd; other_immune"),
    "EXVOL": ("SUPPEX", "Volume Given (mL)", "输注体积（mL）", "CRF", "volume infused"),
    "EXCELLS": (
        "SUPPEX",
        "Achieved Cells",
        "实际输注细胞数",
        "Derived",
        "cells in the volume given",
    ),
    "EXDISCRD": ("SUPPEX", "Volume Discarded (mL)", "弃去体积（mL）", "CRF", "remainder discarded"),
    "AETOXGRL": (
        "SUPPAE",
        "Latest CTCAE Grade",
        "最新 CTCAE 分级",
        "CRF",
        "the grade after the latest follow-up",
    ),
    "AEEXPECT": (
        "SUPPAE",
        "Expected per Investigator's Brochure",
        "研究者手册预期",
        "CRF",
        "Y; N; no record when not assessed",
    ),
    "RESPONSE": (
        "SUPPDS",
        "One-Month Response",
        "一个月疗效",
        "CRF",
        "IMPROVED; STABLE; WORSE (the secondary outcome)",
    ),
}
