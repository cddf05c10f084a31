"""lotrack: tracking clonal fetal MSC products from donor to patient."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask

PROJECT_ROOT = Path(__file__).resolve().parent.parent
LABEL, AUDIT = "LOTRACK_LABEL_KEY_FILE", "LOTRACK_AUDIT_KEY_FILE"


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the application: configuration, database, security, blueprints, errors, CLI."""
    from lotrack import api, cli, errors, i18n, security, web
    from lotrack.config import build_config, embedded
    from lotrack.db import make_engine, make_sessionmaker
    from lotrack.domain.mail import parse_smtp_url
    from lotrack.keys import KEY_FILES, load_key
    from lotrack.request_scope import Database, UnitOfWorkFlask, close_session
    from lotrack.services import mail_sender, notify
    from lotrack.services.audit_anchor import Anchor, Schedule
    from lotrack.services.notify import MailSettings

    instance = Path(
        (config or {}).get("INSTANCE_PATH")
        or os.environ.get("LOTRACK_INSTANCE_PATH")
        or PROJECT_ROOT / "instance"
    )
    app = UnitOfWorkFlask(
        __name__,
        instance_path=str(instance),
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    app.config.update(build_config(instance, config))
    if app.config["LOTRACK_TRUSTED_PROXIES"] > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = app.config["LOTRACK_TRUSTED_PROXIES"]
        # Failures are counted per client address (domain/lockout.py): it must be the client's.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    # Made in the instance folder on first run only for the embedded SQLite set-up (keys.py).
    create = embedded(app.config)
    label_key = Path(app.config["LOTRACK_LABEL_KEY_FILE"] or instance / KEY_FILES[LABEL])
    app.extensions["lotrack_signing_key"] = load_key(label_key, LABEL, create=create)
    audit_key = Path(app.config["LOTRACK_AUDIT_KEY_FILE"] or instance / KEY_FILES[AUDIT])
    app.extensions["lotrack_audit_anchor"] = Anchor(
        load_key(audit_key, AUDIT, create=create),
        Path(app.config["LOTRACK_AUDIT_CHECKPOINT_FILE"] or instance / "audit_checkpoints.jsonl"),
        audit_key,
    )
    app.extensions["lotrack_checkpoint_schedule"] = Schedule(
        app.config["LOTRACK_AUDIT_CHECKPOINT_MINUTES"]
    )
    engine = make_engine(app.config["LOTRACK_DATABASE_URL"])
    smtp_url = app.config["LOTRACK_SMTP_URL"]
    mail = MailSettings(
        parse_smtp_url(smtp_url) if smtp_url else None,
        app.config["LOTRACK_PUBLIC_BASE_URL"],
        float(app.config["LOTRACK_SMTP_TIMEOUT"]),
    )
    maker = make_sessionmaker(
        engine, app.config["LOTRACK_SITE_TIME_ZONE"], {notify.SETTINGS_KEY: mail}
    )
    mail_sender.install(maker)  # notices queued by a transaction are sent after it commits
    app.extensions["lotrack_db"] = Database(engine, maker)
    app.teardown_appcontext(close_session)
    security.init_app(app)
    i18n.init_app(app)
    web.init_app(app)
    api.init_app(app)
    errors.register(app)
    cli.init_app(app)
    return app
