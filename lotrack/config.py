"""Configuration: defaults overridden by LOTRACK_* environment variables."""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path
from typing import Any

from lotrack.domain.cold_chain import settings_of
from lotrack.domain.dose import check_tolerance
from lotrack.domain.errors import ValidationFailed
from lotrack.domain.isbt128_structures import DEFAULT_PRODUCT_PATTERN, encode_003
from lotrack.domain.label_statements import JURISDICTIONS
from lotrack.domain.mail import parse_smtp_url
from lotrack.domain.text import said
from lotrack.keys import KeyFileMissing

DEFAULTS: dict[str, Any] = {
    "DATABASE_URL": None,  # None: SQLite file under the instance folder
    # PostgreSQL: the tables' owner, for `lotrack init` (migrations, grants) and `restore`; the
    # app itself serves as DATABASE_URL's role, which owns nothing (db_roles.py). Empty: the
    # DATABASE_URL role does both (SQLite, where one file has no roles).
    "OWNER_DATABASE_URL": "",
    "FACILITY_ID": "A9999",  # ISBT 128 validation facility id (A9990-A9999 reserved for validation)
    # Wrong passwords from an address the account has logged in from before, then the account
    # is locked for LOCKOUT_MINUTES; wrong passwords at signing lock signing alike.
    "MAX_FAILED_LOGINS": 5,
    "LOCKOUT_MINUTES": 15,
    # Wrong passwords for one username from an address it has never logged in from before that
    # address waits 1, 2, 4 ... minutes (at most LOCKOUT_MINUTES); they never lock the account.
    "NEW_ADDRESS_FREE_FAILURES": 3,
    # Reverse proxies in front of the app whose X-Forwarded-For/-Proto are trusted (ProxyFix);
    # 0: the app is reached directly. Set it behind a proxy, or every login shares its address.
    "TRUSTED_PROXIES": 0,
    # Failed logins from one client address within LOCKOUT_MINUTES before it must wait (password
    # spraying: one guess against many usernames); 0 turns it off. Behind a reverse proxy the app
    # must see the client's address (ProxyFix), or every user shares the proxy's.
    "LOGIN_FAILURES_PER_ADDRESS": 30,
    # "1" where TLS ends at a proxy in front of the app: cookies Secure and HSTS on every response.
    # Without it they follow the request's own scheme (Secure over https, not over plain http).
    "SECURE_COOKIES": False,
    "IDLE_TIMEOUT_MINUTES": 30,
    "ABSOLUTE_TIMEOUT_HOURS": 12,
    "MIN_PASSWORD_LENGTH": 12,
    "PAGE_SIZE": 50,
    # Data rows one instrument CSV may import (each row is judged and audited in one transaction).
    "MAX_IMPORT_ROWS": 2000,
    "SITE_TIME_ZONE": "Asia/Shanghai",
    # The language of a person who has chosen none and whose browser asks for none we speak:
    # "zh_CN" (the facility and the trial sites are in Shenzhen and Beijing) or "en".
    "DEFAULT_LANGUAGE": "zh_CN",
    # Printed into every QR code: where /v/<token> is reachable from a phone at the bedside.
    "PUBLIC_BASE_URL": "http://127.0.0.1:5000",
    "LABEL_STOCK": "4x2in",  # or "100x100mm" (bag label)
    # The TrueType font ZPL labels print their text in (thermal printers, README): it must be
    # installed on every printer that prints them, since the printers' built-in fonts have no
    # Chinese. The default is Zebra's Andale Mono Simplified Chinese (ANMDS.TTF, a Unicode font
    # of about 22 MB, downloaded to the printer's flash, drive E:). The layout assumes a monospaced
    # font of its metrics: Latin glyphs 0.6 of a Chinese one's width (documents/zpl.py).
    "ZPL_FONT": "E:ANMDS.TTF",
    # Which investigational-use statement labels carry ("CN": China's GCP, "US": 21 CFR 312.6),
    # chosen with the lot's facts by domain/label_statements.py: never typed at a print.
    "LABEL_JURISDICTION": "CN",
    # The product's own statements (route, irradiation, donor type), separated by "|".
    "LABEL_STATEMENTS": "Allogeneic third-party donor cells|Do not irradiate|For intravenous use",
    "STORAGE_STATEMENT": "Store at or below -135 °C (vapour-phase liquid nitrogen)",
    # The languages the certificate of analysis and the unit labels print, side by side, in this
    # order ("zh_CN", "en", or both separated by a comma).
    "DOCUMENT_LANGUAGES": "zh_CN,en",
    # The product's statements and storage statement in Chinese, printed with the English ones
    # when "zh_CN" is among DOCUMENT_LANGUAGES: this project's translations of the English ones,
    # not from a public source, which QA confirms before first use (README).
    "LABEL_STATEMENTS_ZH": "同种异体第三方供者细胞|禁止辐照|静脉输注用",
    "STORAGE_STATEMENT_ZH": "于 -135 °C 或以下保存（液氮气相）",
    # Cold chain (domain/cold_chain.py): a shipment's logger trace from dispatch to receipt is
    # judged against this range, in °C, exact (Decimal). The default upper bound is the product's
    # storage statement above (STORAGE_STATEMENT: at or below -135 °C, vapour-phase LN2, as the
    # remestemcel-L US prescribing information states; shared/reference/msc_release_specs.md);
    # QA sets the validated dry shipper's range here. Empty: no bound on that side.
    "COLD_CHAIN_MAX_C": "-135",
    "COLD_CHAIN_MIN_C": "",
    "COLD_CHAIN_RANGE_SOURCE": "STORAGE_STATEMENT: at or below -135 °C (vapour-phase LN2)",
    # Minutes a stretch out of range may last before it is an excursion (0: none may).
    "COLD_CHAIN_ALLOWED_MINUTES": 0,
    # The longest time between two readings (and from dispatch to the first, from the last to
    # the receipt) that still shows the cold chain; a longer gap is judged an excursion.
    "COLD_CHAIN_MAX_GAP_MINUTES": 30,
    # Logger CSV formats beyond the built-in ones (generic, temptale, elpro, logtag), or
    # replacing them: a JSON object, or the path of a JSON file, of
    # {"name": {"time_column": ..., "temperature_column": ..., "time_format": "%d/%m/%Y %H:%M"
    # or "iso", "zone": "Asia/Shanghai", "delimiter": ",", "decimal_comma": false,
    # "date_column": "", "label": ...}}. Checked at start.
    "LOGGER_MAPPINGS": "",
    "PRODUCT_NAME": "cfMSC (clonal fetal mesenchymal stem cells)",
    # The ISBT 128 product code (data structure 003, shared/reference/isbt128.md): 8 characters,
    # the first 5 (the description code) matching PRODUCT_CODE_PATTERN. YA000-YZ999 are set aside
    # for clinical-trial products; a site with ICCBBA-registered codes sets its own pattern. The
    # default is the first clinical-trial description code, YA000, followed by 000.
    "PRODUCT_CODE": "YA000000",
    "PRODUCT_CODE_PATTERN": DEFAULT_PRODUCT_PATTERN,
    # A JSON file of CTCAE display names in another language that names its source
    # (lotrack/domain/ctcae_names.py); none by default: CTCAE terms show in official English.
    "CTCAE_NAMES_FILE": "",
    # The CTCAE v4.03 dictionary NCI publishes, as `lotrack ctcae load` converted it (JSON). Empty:
    # instance/ctcae_v403.json when that file exists, else the built-in subset (domain/ctcae.py).
    "CTCAE_FILE": "",
    # The terms the investigator's brochure lists as expected (its reference safety information),
    # separated by "|", each a term of the dictionary. A serious related event of any other term
    # is a SUSAR with an expedited report due (domain/adverse.py). Empty: every event is
    # unexpected, the safe side (more expedited reports, never fewer) until the sponsor's
    # brochure's terms are entered here. An event keeps the expectedness it was recorded with.
    "IB_EXPECTED_TERMS": "",
    # The audit trail's anchor (services/audit_anchor.py): the Ed25519 key that signs checkpoints
    # of the chain's head, and the file they are appended to. Empty: in the instance folder.
    # Keep the key where the database's owner cannot write it; copy the file off the host.
    "AUDIT_KEY_FILE": "",
    # The Ed25519 key that signs every label's and certificate's QR token. Empty: in the instance
    # folder. With PostgreSQL (several hosts may serve one database) the label key, the audit key
    # and the session secret must be configured files shared by every host (keys.py).
    "LABEL_KEY_FILE": "",
    # The session cookies' signing secret as a file (or LOTRACK_SECRET_KEY in the environment).
    "SECRET_KEY_FILE": "",
    "AUDIT_CHECKPOINT_FILE": "",
    # Minutes between checkpoints the app signs itself (after a request, when the head moved;
    # 0: only `lotrack audit checkpoint` and backups make them).
    "AUDIT_CHECKPOINT_MINUTES": 60,
    # Bounded work per request (a PDF renders at ~15 labels a second on one core): a longer
    # document is asked for in parts (?part=), and the page walks the audit chain in steps; the
    # CLI `lotrack audit verify` still walks it whole.
    "MAX_LABELS_PER_PDF": 100,
    "MAX_TIMELINE_PDF_EVENTS": 1000,
    "AUDIT_VERIFY_EVENTS_PER_REQUEST": 100000,
    # The protocol's dose tolerance, ± (domain/dose.py): the achieved dose stays within the
    # prescribed cells × (1 ± this). Kept on each prescription as it stood when prescribed.
    "DOSE_TOLERANCE": "0.10",
    # Where notices are e-mailed (services/notify.py): smtp://[user:password@]host[:port], with
    # ?starttls to upgrade the connection, or smtps:// for TLS from the start; ?from=ADDRESS sets
    # the sender. Empty: notices are shown in the app only (the Notifications page), none sent.
    "SMTP_URL": "",
    # Seconds one SMTP conversation may take: the sender runs right after a commit, in the
    # request that committed, so a server that hangs must not hold the page for long.
    "SMTP_TIMEOUT": 10,
    # The one-month visit: on day VISIT_DAY after the first infusion, ± VISIT_WINDOW_DAYS.
    "VISIT_DAY": 30,
    "VISIT_WINDOW_DAYS": 7,
    # The trial's target recruitment (NCT03123458: 100), against which enrolment is reported.
    "ENROLMENT_TARGET": 100,
    # How long a lot's retained samples are kept after the lot's expiry date, in months: at least
    # one year (EU GMP Annex 19 §3.1; China GMP (2010) art. 225). Each sample keeps the date it
    # gave when laid down; a cell bank's samples are kept as long as the bank (domain/retained.py).
    "RETENTION_MONTHS_AFTER_EXPIRY": 12,
}

INT_KEYS = {
    "MAX_FAILED_LOGINS",
    "LOGIN_FAILURES_PER_ADDRESS",
    "NEW_ADDRESS_FREE_FAILURES",
    "TRUSTED_PROXIES",
    "LOCKOUT_MINUTES",
    "IDLE_TIMEOUT_MINUTES",
    "ABSOLUTE_TIMEOUT_HOURS",
    "MIN_PASSWORD_LENGTH",
    "PAGE_SIZE",
    "MAX_IMPORT_ROWS",
    "AUDIT_CHECKPOINT_MINUTES",
    "MAX_LABELS_PER_PDF",
    "MAX_TIMELINE_PDF_EVENTS",
    "AUDIT_VERIFY_EVENTS_PER_REQUEST",
    "VISIT_DAY",
    "VISIT_WINDOW_DAYS",
    "ENROLMENT_TARGET",
    "RETENTION_MONTHS_AFTER_EXPIRY",
    "COLD_CHAIN_ALLOWED_MINUTES",
    "COLD_CHAIN_MAX_GAP_MINUTES",
    "SMTP_TIMEOUT",
}
BOOL_KEYS = {"SECURE_COOKIES"}


def _parse(key: str, value: str) -> Any:
    if key in INT_KEYS:
        return int(value)
    if key in BOOL_KEYS:
        return value.strip().lower() in {"1", "true", "yes", "on"}
    return value


def _instance_secret(instance_path: Path, name: str, nbytes: int = 32) -> str:
    """Read a secret from the instance folder, generating it on first use (never committed)."""
    path = instance_path / name
    if not path.exists():
        instance_path.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(nbytes))
    return path.read_text().strip()


def embedded(cfg: dict[str, Any]) -> bool:
    """The embedded SQLite set-up: one host, so its keys may be made in its instance folder."""
    return str(cfg["LOTRACK_DATABASE_URL"]).startswith("sqlite")


def _session_secret(cfg: dict[str, Any], instance_path: Path) -> str:
    """LOTRACK_SECRET_KEY, else LOTRACK_SECRET_KEY_FILE's content; generated only for SQLite."""
    if os.environ.get("LOTRACK_SECRET_KEY"):
        return os.environ["LOTRACK_SECRET_KEY"]
    if cfg["LOTRACK_SECRET_KEY_FILE"]:
        path = Path(cfg["LOTRACK_SECRET_KEY_FILE"])
        if not path.is_file() or not path.read_text().strip():
            raise KeyFileMissing(f"LOTRACK_SECRET_KEY_FILE: no secret in {path}.")
        return path.read_text().strip()
    if embedded(cfg):
        return _instance_secret(instance_path, "secret_key")
    raise KeyFileMissing(
        "LOTRACK_SECRET_KEY or LOTRACK_SECRET_KEY_FILE: with PostgreSQL every host must sign"
        " sessions with the same secret: create it once with `python -m lotrack.keys create DIR`"
        " (README: Deploying on several hosts)."
    )


def build_config(instance_path: Path, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Defaults, then LOTRACK_* environment variables, then explicit overrides (tests)."""
    cfg: dict[str, Any] = {"LOTRACK_" + k: v for k, v in DEFAULTS.items()}
    for key in DEFAULTS:
        env = os.environ.get("LOTRACK_" + key)
        if env is not None and env != "":
            cfg["LOTRACK_" + key] = _parse(key, env)
    if overrides:
        cfg.update(overrides)
    # Refused at start, not on the first label printed.
    encode_003(cfg["LOTRACK_PRODUCT_CODE"], cfg["LOTRACK_PRODUCT_CODE_PATTERN"])
    check_tolerance(str(cfg["LOTRACK_DOSE_TOLERANCE"]))
    if cfg["LOTRACK_LABEL_JURISDICTION"] not in JURISDICTIONS:
        raise ValidationFailed(
            said(
                "LOTRACK_LABEL_JURISDICTION %(value)s: one of %(choices)s is expected.",
                value=cfg["LOTRACK_LABEL_JURISDICTION"],
                choices=", ".join(JURISDICTIONS),
            ),
            {"LOTRACK_LABEL_JURISDICTION": ", ".join(JURISDICTIONS)},
        )
    # Written into every ZPL text field's ^A@ command: a drive, a name and an extension, nothing
    # that could end the command (a comma) or start another (^, ~).
    if not re.fullmatch(r"[A-Z]:[A-Za-z0-9_-]{1,16}\.[A-Za-z]{3}", cfg["LOTRACK_ZPL_FONT"]):
        raise ValidationFailed(
            said(
                "LOTRACK_ZPL_FONT %(value)s: a printer font file such as E:ANMDS.TTF is expected.",
                value=cfg["LOTRACK_ZPL_FONT"],
            ),
            {"LOTRACK_ZPL_FONT": "E:ANMDS.TTF"},
        )
    # The cold chain's range and logger formats, read once: refused at start if unreadable.
    mappings = str(cfg["LOTRACK_LOGGER_MAPPINGS"] or "").strip()
    if mappings and not mappings.startswith("{"):
        mappings = Path(mappings).read_text(encoding="utf-8")  # the path of a JSON file
    cfg["LOTRACK_COLD_CHAIN"] = settings_of(cfg, mappings)
    if cfg["LOTRACK_SMTP_URL"]:
        parse_smtp_url(cfg["LOTRACK_SMTP_URL"])  # refused at start, not at the first recall
    if not cfg.get("LOTRACK_DATABASE_URL"):
        cfg["LOTRACK_DATABASE_URL"] = f"sqlite:///{instance_path / 'lotrack.sqlite3'}"
    if "SECRET_KEY" not in cfg:
        cfg["SECRET_KEY"] = _session_secret(cfg, instance_path)
    cfg.setdefault("MAX_CONTENT_LENGTH", 2 * 1024 * 1024)  # 413 beyond; instrument CSVs fit
    # ASVS 3.4: HttpOnly, SameSite; Secure follows the request's scheme (security.py) unless
    # LOTRACK_SECURE_COOKIES makes it unconditional. Lax, not Strict: a link to a lot page in a
    # notification e-mail still opens logged in, while a cross-site POST (every state change is
    # one, with a CSRF token besides) never carries the cookie.
    cfg.setdefault("SESSION_COOKIE_HTTPONLY", True)
    cfg.setdefault("SESSION_COOKIE_SAMESITE", "Lax")
    cfg.setdefault("SESSION_COOKIE_SECURE", bool(cfg["LOTRACK_SECURE_COOKIES"]))
    cfg.setdefault("REMEMBER_COOKIE_HTTPONLY", True)
    cfg.setdefault("REMEMBER_COOKIE_SAMESITE", "Lax")
    cfg.setdefault("REMEMBER_COOKIE_SECURE", bool(cfg["LOTRACK_SECURE_COOKIES"]))
    cfg.setdefault("WTF_CSRF_TIME_LIMIT", None)  # bound to the session, which has its own limits
    # flask-smorest / OpenAPI
    cfg.setdefault("API_TITLE", "lotrack")
    cfg.setdefault("API_VERSION", "v1")
    cfg.setdefault("OPENAPI_VERSION", "3.0.3")
    cfg.setdefault("OPENAPI_URL_PREFIX", "/api/v1")
    cfg.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    return cfg
