"""Who may call each route: the expected table of tests/test_permission_matrix.py, written out by
hand (not derived from lotrack/domain/permissions.py, so that a change there shows up here).

Identities: anonymous; technician (tech); qa; admin; site_a, a clinical user of SZ-GIMI (nurse);
investigator_a, SZ-GIMI's investigator (doctor); site_b, a clinical user of BJ-CIP created by
the test. URL parameters name site A's records, so a
row that lets site_a in but not site_b says that site B is refused site A's record."""

from __future__ import annotations

IDENTITIES = ("anonymous", "technician", "qa", "admin", "site_a", "investigator_a", "site_b")
SITE_B = "BJ-CIP"  # site A is SZ-GIMI, the demo's site
SITE_B_USER = "nurse-bj"
SITE_B_PATIENT = "BJ-101"

EVERYONE = frozenset(IDENTITIES)
LOGGED_IN = EVERYONE - {"anonymous"}
MANUFACTURING = frozenset({"technician", "qa", "admin"})  # the GMP record, read only
TECHNICIAN = frozenset({"technician"})
QA = frozenset({"qa"})
TECH_QA = frozenset({"technician", "qa"})
ADMIN = frozenset({"admin"})
AUDITORS = frozenset({"qa", "admin"})
TRACE_READERS = frozenset({"qa", "admin"})  # and the medical director: every site's patients
CLINICAL = frozenset({"site_a", "site_b"})  # nurses: at one's own site, no other's record named
SITE_STAFF = CLINICAL | {"investigator_a"}  # nurses and investigators: registering a patient
SITE_A_STAFF = frozenset({"site_a"})  # a nurse's writes on a site-A record
SITE_A_DOCTOR = frozenset({"investigator_a"})  # the investigator's: checklist, dose, events, visit
CLINICAL_READERS = frozenset({"qa", "admin", "site_a", "investigator_a", "site_b"})  # a site: own
SITE_A_READERS = frozenset({"qa", "admin", "site_a", "investigator_a"})  # a site-A record
SDTM_EXPORTERS = frozenset({"qa", "investigator_a"})  # and the medical director
SHIPMENT_READERS = frozenset({"technician", "qa", "admin", "site_a", "investigator_a", "site_b"})
SITE_A_SHIPMENT_READERS = SHIPMENT_READERS - {"site_b"}

# URL parameter values by (the path segment before the parameter, its name); "*" for any.
# Placeholders are filled from the records the test prepares (test_permission_matrix._prepare).
PARAMS: dict[tuple[str, str], str] = {
    ("*", "lot_number"): "{lot}",
    ("*", "din"): "{din}",
    ("banks", "code"): "{bank}",
    ("bank", "code"): "{bank}",
    ("donors", "code"): "{donor}",
    ("clones", "code"): "{clone}",
    ("runs", "code"): "{run}",
    ("trends", "code"): "VIAB",
    ("*", "test_code"): "VIAB",
    ("vials", "number"): "1",
    ("passages", "number"): "6",  # passages count on from the bank's (P5)
    ("investigations", "number"): "{investigation}",
    ("deviations", "number"): "{deviation}",
    ("containments", "number"): "{containment}",
    ("exceptional", "number"): "{exceptional}",
    ("exceptional-releases", "number"): "{exceptional}",
    ("shipments", "number"): "{shipment}",
    ("patients", "wristband"): "{wristband}",
    ("*", "rx_id"): "{rx}",
    ("*", "result_id"): "{result}",
    ("*", "version_id"): "{spec}",
    ("*", "user_id"): "{user}",
    ("*", "kind"): "login",  # a lockout's kind (the containment's is named below)
    ("addresses", "throttle_id"): "1",  # none in force: refused as not found (admin) or denied
    ("contain", "kind"): "hold",
    ("sign", "name"): "review",
    ("record", "entity_type"): "lot",
    ("*", "entity_id"): "{lot_id}",
    ("v", "token"): "{label_token}",
    ("tokens", "token_id"): "1",  # a token of someone else, or none: refused as not one's own
    ("static", "filename"): "css/lotrack.css",
    ("grants", "grant_id"): "{grant}",
    ("enrol", "code"): "{enrol_code}",
    ("adverse-events", "event_id"): "{event}",  # an adverse event of site A's patient
    ("material-lots", "number"): "MAT-2025-001",
    ("instruments", "code"): "FCM-01",
    ("material-uses", "use_id"): "1",
    ("retained-samples", "number"): "{retained}",
}

# Query strings of GETs (a trace needs a starting point).
QUERIES: dict[str, dict[str, str]] = {
    "api_lineage.trace_back": {"lot": "{lot}"},
    "api_lineage.trace_forward": {"bank": "{bank}"},
    "api_trace.trace_patient": {"patient": "{wristband}"},
    "api_trace.trace_units": {"lot": "{lot}"},
    "trace.back": {"patient": "{wristband}"},
    "trace.forward": {"lot": "{lot}"},
}

ACCEPT = {
    "username": "{me}",
    "password": "{my_password}",
    "meaning": "exceptional release accepted (treating physician)",
}

# Bodies of API writes that parse the body before looking up the record: with a valid body the
# site check is reached, so site B is refused site A's patient or shipment (not just its input).
BODIES: dict[str, dict[str, object]] = {
    "api_clinical.consent": {"consent_date": "{yesterday}"},
    "api_clinical.prescribe": {"dose_per_kg": 1_000_000, "planned_on": "{today}"},
    "api_clinical.follow_up": {"visit_on": "{today}", "response": "stable"},
    # The treating physician signs as themself ({me}, {my_password}: the caller's own): a
    # clinical user of another site is refused by the patient's site, not by the signature.
    "clinical.accept_exceptional": ACCEPT,
    "auth.set_language": {"language": "en"},
    # A real code with passwords that differ: refused (422) for anyone, the code left unused.
    "auth.enrol": {"code": "{enrol_code}", "new": "first passphrase", "confirm": "second one"},
    "api_release.accept_exceptional": ACCEPT,
    "api_adverse.add_follow_up": {"aware_on": "{today}", "note": "matrix"},
    "api_adverse.record_report": {
        "kind": "sponsor",
        "reported_on": "{today}",
        "reported_by": "Dr. Demo",
        "recipient": "sponsor safety desk",
        "reference": "MATRIX-1",
    },
    "api_clinical.receive": {
        "received": ["{din}"],
        "condition": "intact",
        "temperature_record": "logger: below -150 °C",
    },
}

# (endpoint, method) -> the identities that are let in. Every rule of the URL map has a row.
EXPECTED: dict[tuple[str, str], frozenset[str]] = {
    # ---- public, accounts, administration -----------------------------------------------------
    ("home.healthz", "GET"): EVERYONE,
    ("home.favicon", "GET"): EVERYONE,
    ("static", "GET"): EVERYONE,
    ("auth.login", "GET"): EVERYONE,
    ("auth.login", "POST"): EVERYONE,
    ("auth.set_language", "POST"): EVERYONE,  # the header's switch, before and after login
    ("documents.verify", "GET"): EVERYONE,  # a label or certificate checked by anyone
    ("documents.public_key", "GET"): EVERYONE,
    ("api-docs.openapi_json", "GET"): EVERYONE,  # the API's description, no data
    ("home.index", "GET"): LOGGED_IN,
    ("auth.logout", "POST"): LOGGED_IN,
    ("auth.change_password", "GET"): LOGGED_IN,
    ("auth.change_password", "POST"): LOGGED_IN,
    ("auth.revoke_token", "POST"): LOGGED_IN,
    ("admin.users", "GET"): ADMIN,
    ("admin.new_user", "GET"): ADMIN,
    ("admin.new_user", "POST"): ADMIN,
    ("admin.unlock", "GET"): ADMIN,
    ("admin.unlock", "POST"): ADMIN,
    ("lockout.list_lockouts", "GET"): ADMIN,
    ("lockout.lift_account", "POST"): ADMIN,
    ("lockout.lift_address", "POST"): ADMIN,
    ("admin.reset", "GET"): ADMIN,
    ("admin.reset", "POST"): ADMIN,
    ("admin.change_role", "GET"): ADMIN,
    ("admin.change_role", "POST"): ADMIN,
    ("admin.change_email", "GET"): ADMIN,
    ("admin.change_email", "POST"): ADMIN,
    # Every notice to QA, the medical director and admins; anyone else sees their own.
    ("notify.list_notices", "GET"): LOGGED_IN,
    ("admin.grant", "GET"): ADMIN,
    ("admin.grant", "POST"): ADMIN,
    # Enrolment is before any login: the code is the credential.
    ("auth.enrol", "GET"): EVERYONE,
    ("auth.enrol", "POST"): EVERYONE,
    ("auth.enrol_link", "GET"): EVERYONE,
    ("audit.audit_log", "GET"): AUDITORS,
    ("audit.record", "GET"): AUDITORS,
    ("audit.verify_chain", "GET"): AUDITORS,
    # ---- donors, clones, banks, runs (pages) ----------------------------------------------------
    ("donor.list_donors", "GET"): MANUFACTURING,
    ("donor.show_donor", "GET"): MANUFACTURING,
    ("donor.new_donor", "GET"): TECHNICIAN,
    ("donor.new_donor", "POST"): TECHNICIAN,
    ("donor.add_screening", "GET"): TECHNICIAN,
    ("donor.add_screening", "POST"): TECHNICIAN,
    ("donor.determine", "GET"): QA,
    ("donor.determine", "POST"): QA,
    ("donor.show_clone", "GET"): MANUFACTURING,
    ("donor.new_clone", "GET"): TECHNICIAN,
    ("donor.new_clone", "POST"): TECHNICIAN,
    ("cellbank.list_banks", "GET"): MANUFACTURING,
    ("cellbank.show_bank", "GET"): MANUFACTURING,
    ("cellbank.new_bank", "GET"): TECHNICIAN,
    ("cellbank.new_bank", "POST"): TECHNICIAN,
    ("cellbank.add_vials", "GET"): TECHNICIAN,
    ("cellbank.add_vials", "POST"): TECHNICIAN,
    ("cellbank.show_vial", "GET"): MANUFACTURING,
    ("cellbank.withdraw_vial", "GET"): TECHNICIAN,
    ("cellbank.withdraw_vial", "POST"): TECHNICIAN,
    ("cellbank.record_result", "POST"): TECHNICIAN,
    ("cellbank.qualify", "POST"): QA,
    ("production.list_runs", "GET"): MANUFACTURING,
    ("production.show_run", "GET"): MANUFACTURING,
    ("production.new_run", "GET"): TECHNICIAN,
    ("production.new_run", "POST"): TECHNICIAN,
    ("production.new_passage", "GET"): TECHNICIAN,
    ("production.new_passage", "POST"): TECHNICIAN,
    ("production.record_result", "POST"): TECHNICIAN,
    ("lineage.lot_back", "GET"): MANUFACTURING,
    ("lineage.bank_forward", "GET"): MANUFACTURING,
    # ---- lots, results, specifications, trends (pages) ----------------------------------------
    ("lot.list_lots", "GET"): MANUFACTURING,
    ("lot.show_lot", "GET"): MANUFACTURING,
    ("lot.show_unit", "GET"): MANUFACTURING,
    ("lot.new_lot", "GET"): TECHNICIAN,
    ("lot.new_lot", "POST"): TECHNICIAN,
    ("lot.fill_units", "GET"): TECHNICIAN,
    ("lot.fill_units", "POST"): TECHNICIAN,
    ("lot.record_result", "POST"): TECHNICIAN,
    ("lot.import_results", "POST"): TECHNICIAN,
    ("lot.verify_results", "POST"): TECH_QA,
    ("result_bulk.grid", "GET"): TECHNICIAN,
    ("result_bulk.grid", "POST"): TECHNICIAN,
    ("result_bulk.import_template", "GET"): MANUFACTURING,
    ("result.complete", "POST"): TECHNICIAN,
    ("result.show_result", "GET"): MANUFACTURING,
    ("result.raw_data", "GET"): MANUFACTURING,
    ("result.verify", "POST"): TECH_QA,
    ("result.invalidate", "POST"): TECH_QA,
    ("result.correct", "POST"): TECHNICIAN,
    ("specs.list_specs", "GET"): MANUFACTURING,
    ("specs.show_spec", "GET"): MANUFACTURING,
    ("specs.approve_spec", "POST"): QA,
    ("trend.show_trends", "GET"): MANUFACTURING,
    ("trend.show_trend", "GET"): MANUFACTURING,
    ("trend.trend_image", "GET"): MANUFACTURING,
    # ---- quality decisions and documents (pages) ----------------------------------------------
    ("investigation.list_investigations", "GET"): MANUFACTURING,
    ("investigation.show_investigation", "GET"): MANUFACTURING,
    ("investigation.escalate", "POST"): QA,
    ("investigation.conclude", "POST"): QA,
    ("deviation.list_deviations", "GET"): MANUFACTURING,
    ("deviation.show_deviation", "GET"): MANUFACTURING,
    ("deviation.new_deviation", "GET"): TECH_QA,
    ("deviation.new_deviation", "POST"): TECH_QA,
    ("deviation.assess", "POST"): TECH_QA,
    ("deviation.close", "POST"): QA,
    ("release.review", "GET"): MANUFACTURING,
    ("release.sign", "POST"): QA,
    ("release.request_exceptional", "POST"): QA,
    ("release.show_exceptional", "GET"): MANUFACTURING,
    ("release.sign_exceptional", "POST"): QA,  # and the medical director
    ("release.notify_exceptional", "POST"): QA,
    ("release.withdraw_exceptional", "POST"): QA,
    ("release.timeline", "GET"): MANUFACTURING,
    ("release.timeline_csv", "GET"): MANUFACTURING,
    ("release.timeline_pdf", "GET"): MANUFACTURING,
    ("containment.list_containments", "GET"): MANUFACTURING,
    ("containment.show_containment", "GET"): MANUFACTURING,
    ("containment.notify", "POST"): QA,
    ("containment.contain_lot", "POST"): QA,
    ("containment.bank", "GET"): MANUFACTURING,
    ("containment.contain_bank", "POST"): QA,
    # ---- materials and instruments ------------------------------------------------------------
    ("materials.list_materials", "GET"): MANUFACTURING,
    ("materials.new_material", "GET"): TECHNICIAN,
    ("materials.new_material", "POST"): TECHNICIAN,
    ("materials.receive_lot", "GET"): TECHNICIAN,
    ("materials.receive_lot", "POST"): TECHNICIAN,
    ("materials.show_lot", "GET"): MANUFACTURING,
    ("materials.certificate", "GET"): MANUFACTURING,
    ("materials.inspect", "POST"): QA,
    ("materials.contain", "POST"): QA,
    ("materials.lift_hold", "POST"): QA,
    ("materials.strike", "POST"): TECHNICIAN,
    ("equipment.list_instruments", "GET"): MANUFACTURING,
    ("equipment.new_instrument", "GET"): TECHNICIAN,
    ("equipment.new_instrument", "POST"): TECHNICIAN,
    ("equipment.show_instrument", "GET"): MANUFACTURING,
    ("equipment.record_event", "POST"): TECHNICIAN,
    ("api_materials.Materials", "GET"): MANUFACTURING,
    ("api_materials.Materials", "POST"): TECHNICIAN,
    ("api_materials.MaterialLots", "GET"): MANUFACTURING,
    ("api_materials.MaterialLots", "POST"): TECHNICIAN,
    ("api_materials.get_material_lot", "GET"): MANUFACTURING,
    ("api_materials.inspect", "POST"): QA,
    ("api_materials.hold", "POST"): QA,
    ("api_materials.recall", "POST"): QA,
    ("api_materials.lift_hold", "POST"): QA,
    ("api_materials.run_uses", "GET"): MANUFACTURING,
    ("api_materials.strike", "POST"): TECHNICIAN,
    ("api_equipment.Instruments", "GET"): MANUFACTURING,
    ("api_equipment.Instruments", "POST"): TECHNICIAN,
    ("api_equipment.get_instrument", "GET"): MANUFACTURING,
    ("api_equipment.record_event", "POST"): TECHNICIAN,
    # ---- retained samples: laid down at the bench, withdrawn by the technician or QA ----------
    ("retained.list_samples", "GET"): MANUFACTURING,
    ("retained.lay_down", "GET"): TECHNICIAN,
    ("retained.lay_down", "POST"): TECHNICIAN,
    ("retained.show_sample", "GET"): MANUFACTURING,
    ("retained.withdraw", "POST"): TECH_QA,
    ("api_retained.RetainedSamples", "GET"): MANUFACTURING,
    ("api_retained.RetainedSamples", "POST"): TECHNICIAN,
    ("api_retained.get_sample", "GET"): MANUFACTURING,
    ("api_retained.withdraw", "POST"): TECH_QA,
    ("documents.lot_documents", "GET"): MANUFACTURING,
    ("documents.coa_pdf", "GET"): MANUFACTURING,
    ("documents.issue_coa", "POST"): QA,
    ("documents.lot_labels", "POST"): TECH_QA,
    ("documents.unit_label", "POST"): TECH_QA,
    ("documents.preview_lot_labels", "GET"): TECH_QA,  # stamped PREVIEW, nothing logged
    ("documents.preview_unit_label", "GET"): TECH_QA,
    ("documents.lot_labels_zpl", "POST"): TECH_QA,  # ZPL: print-only, logged, no preview
    ("documents.unit_label_zpl", "POST"): TECH_QA,
    # ---- clinical (pages) -----------------------------------------------------------------------
    ("clinical.list_patients", "GET"): CLINICAL_READERS,
    ("clinical.new_patient", "GET"): SITE_STAFF,
    ("clinical.new_patient", "POST"): SITE_STAFF,
    ("clinical.show_patient", "GET"): SITE_A_READERS,
    ("clinical.consent", "POST"): SITE_A_STAFF | SITE_A_DOCTOR,
    ("clinical.eligibility", "POST"): SITE_A_DOCTOR,
    ("clinical.prescribe", "POST"): SITE_A_DOCTOR,
    ("clinical.adverse_event", "POST"): SITE_A_DOCTOR,  # and the medical director
    ("clinical.follow_up", "POST"): SITE_A_DOCTOR,
    ("clinical.accept_exceptional", "POST"): SITE_A_STAFF,  # the treating physician's site
    ("clinical.allocations", "GET"): TECH_QA,
    ("clinical.allocate", "POST"): TECH_QA,
    ("shipment.list_shipments", "GET"): SHIPMENT_READERS,
    ("shipment.new_shipment", "GET"): TECH_QA,
    ("shipment.new_shipment", "POST"): TECH_QA,
    ("shipment.show_shipment", "GET"): SITE_A_SHIPMENT_READERS,
    ("shipment.receive", "POST"): SITE_A_STAFF,
    # The cold chain (the matrix's shipment has its logger file: a second attach is a 409).
    ("cold_chain.attach", "POST"): SITE_A_STAFF,
    ("cold_chain.trace_image", "GET"): SITE_A_SHIPMENT_READERS,
    ("cold_chain.logger_original", "GET"): SITE_A_SHIPMENT_READERS,
    ("cold_chain.decide", "POST"): QA,
    ("adverse.show_event", "GET"): SITE_A_READERS,
    ("adverse.follow_up", "POST"): SITE_A_DOCTOR,  # and the medical director
    # The site notifies the sponsor; QA (the sponsor's side) files the regulatory report.
    ("adverse.record_report", "POST"): SITE_A_STAFF | SITE_A_DOCTOR | QA,
    ("adverse.list_events", "GET"): CLINICAL_READERS,
    ("adverse.overdue", "GET"): CLINICAL_READERS,
    ("adverse.terms", "GET"): CLINICAL_READERS,
    ("report.reports", "GET"): CLINICAL_READERS,
    ("report.primary_csv", "GET"): CLINICAL_READERS,
    # The sponsor export: the sponsor's side (QA; and the medical director) and a site's
    # investigator (their site's subjects); not nurses, technicians or admins.
    ("sdtm.export_page", "GET"): SDTM_EXPORTERS,
    ("sdtm.download", "GET"): SDTM_EXPORTERS,
    ("bedside.scan_page", "GET"): CLINICAL,
    ("bedside.check", "POST"): CLINICAL,
    ("bedside.record_thaw", "POST"): CLINICAL,
    ("bedside.record_infusion", "POST"): CLINICAL,
    # ---- trace and recall impact (pages) ---------------------------------------------------------
    # A patient back to the donor: the patient's own site, QA, the medical director and admins.
    # Forward and the impact of a hold or recall name patients of every site: not site staff,
    # nor technicians (who do not read clinical records either).
    ("trace.back", "GET"): SITE_A_READERS,
    ("trace.forward", "GET"): TRACE_READERS,
    ("trace.impact", "GET"): TRACE_READERS,
    ("trace.notify", "POST"): QA,
    # ---- API: donors, clones, banks, runs -------------------------------------------------------
    ("api_donor.Donors", "GET"): MANUFACTURING,
    ("api_donor.Donors", "POST"): TECHNICIAN,
    ("api_donor.get_donor", "GET"): MANUFACTURING,
    ("api_donor.record_screening", "POST"): TECHNICIAN,
    ("api_donor.determine_eligibility", "POST"): QA,
    ("api_donor.Clones", "GET"): MANUFACTURING,
    ("api_donor.Clones", "POST"): TECHNICIAN,
    ("api_donor.get_clone", "GET"): MANUFACTURING,
    ("api_cellbank.Banks", "GET"): MANUFACTURING,
    ("api_cellbank.Banks", "POST"): TECHNICIAN,
    ("api_cellbank.get_bank", "GET"): MANUFACTURING,
    ("api_cellbank.add_vials", "POST"): TECHNICIAN,
    ("api_cellbank.withdraw_vial", "POST"): TECHNICIAN,
    ("api_evaluation.bank_evaluation", "GET"): MANUFACTURING,
    ("api_specs.qualify", "POST"): QA,
    ("api_containment.hold_bank", "POST"): QA,
    ("api_containment.recall_bank", "POST"): QA,
    ("api_result.BankResults", "GET"): MANUFACTURING,
    ("api_result.BankResults", "POST"): TECHNICIAN,
    ("api_production.Runs", "GET"): MANUFACTURING,
    ("api_production.Runs", "POST"): TECHNICIAN,
    ("api_production.get_run", "GET"): MANUFACTURING,
    ("api_production.record_passage", "POST"): TECHNICIAN,
    ("api_result.PassageResults", "GET"): MANUFACTURING,
    ("api_result.PassageResults", "POST"): TECHNICIAN,
    ("api_lineage.trace_back", "GET"): MANUFACTURING,  # a lot back to its donor (lineage)
    ("api_lineage.trace_forward", "GET"): MANUFACTURING,  # a bank forward to its units
    ("api_trace.trace_patient", "GET"): SITE_A_READERS,
    ("api_trace.trace_units", "GET"): TRACE_READERS,
    ("api_trace.containment_impact", "GET"): TRACE_READERS,
    # ---- API: lots, results, specifications, trends --------------------------------------------
    ("api_lot.Lots", "GET"): MANUFACTURING,
    ("api_lot.Lots", "POST"): TECHNICIAN,
    ("api_lot.get_lot", "GET"): MANUFACTURING,
    ("api_lot.needs_decision", "GET"): MANUFACTURING,
    ("api_lot.fill_units", "POST"): TECHNICIAN,
    ("api_lot.get_unit", "GET"): MANUFACTURING,
    ("api_result.LotResults", "GET"): MANUFACTURING,
    ("api_result.LotResults", "POST"): TECHNICIAN,
    ("api_result.import_lot_results", "POST"): TECHNICIAN,
    ("api_result.import_results", "POST"): TECHNICIAN,
    ("api_result.get_result", "GET"): MANUFACTURING,
    ("api_result.verify", "POST"): TECH_QA,
    ("api_result.invalidate", "POST"): TECH_QA,
    ("api_result.correct", "POST"): TECHNICIAN,
    ("api_result_bulk.verify_results", "POST"): TECH_QA,
    ("api_result_bulk.record_batch", "POST"): TECHNICIAN,
    ("api_result_bulk.complete", "POST"): TECHNICIAN,
    ("api_result_bulk.template", "GET"): MANUFACTURING,
    ("api_specs.list_versions", "GET"): MANUFACTURING,
    ("api_specs.get_version", "GET"): MANUFACTURING,
    ("api_specs.approve", "POST"): QA,
    ("api_evaluation.lot_evaluation", "GET"): MANUFACTURING,
    ("api_trend.get_trend", "GET"): MANUFACTURING,
    # ---- API: quality decisions and documents --------------------------------------------------
    ("api_investigation.list_investigations", "GET"): MANUFACTURING,
    ("api_investigation.get_investigation", "GET"): MANUFACTURING,
    ("api_investigation.escalate", "POST"): QA,
    ("api_investigation.conclude", "POST"): QA,
    ("api_deviation.Deviations", "GET"): MANUFACTURING,
    ("api_deviation.Deviations", "POST"): TECH_QA,
    ("api_deviation.get_deviation", "GET"): MANUFACTURING,
    ("api_deviation.assess", "POST"): TECH_QA,
    ("api_deviation.close", "POST"): QA,
    ("api_release.Release", "GET"): MANUFACTURING,
    ("api_release.Release", "POST"): QA,
    ("api_release.reject", "POST"): QA,
    ("api_release.unhold", "POST"): QA,
    ("api_release.sign_review", "POST"): QA,
    ("api_release.signatures", "GET"): MANUFACTURING,
    ("api_release.timeline", "GET"): MANUFACTURING,
    ("api_release.timeline_csv", "GET"): MANUFACTURING,
    ("api_release.request_exceptional", "POST"): QA,
    ("api_release.get_exceptional", "GET"): MANUFACTURING,
    ("api_release.sign_exceptional", "POST"): QA,  # and the medical director
    ("api_release.notify_exceptional", "POST"): QA,
    ("api_release.withdraw_exceptional", "POST"): QA,
    ("api_release.accept_exceptional", "POST"): SITE_A_STAFF,  # the treating physician's site
    ("api_release.patient_releases", "GET"): SITE_A_READERS,
    ("api_containment.hold_lot", "POST"): QA,
    ("api_containment.recall_lot", "POST"): QA,
    ("api_containment.list_containments", "GET"): MANUFACTURING,
    ("api_containment.get_containment", "GET"): MANUFACTURING,
    ("api_containment.notify", "POST"): QA,
    ("api_documents.list_certificates", "GET"): MANUFACTURING,
    ("api_documents.coa_pdf", "GET"): MANUFACTURING,
    ("api_documents.issue_coa", "POST"): QA,
    ("api_documents.lot_labels", "GET"): TECH_QA,
    ("api_documents.lot_labels", "POST"): TECH_QA,
    ("api_documents.unit_label", "GET"): TECH_QA,
    ("api_documents.unit_label", "POST"): TECH_QA,
    ("api_documents.lot_labels_zpl", "POST"): TECH_QA,
    ("api_documents.unit_label_zpl", "POST"): TECH_QA,
    # ---- API: clinical --------------------------------------------------------------------------
    ("api_clinical.Patients", "GET"): CLINICAL_READERS,
    ("api_clinical.Patients", "POST"): SITE_STAFF,
    ("api_clinical.get_patient", "GET"): SITE_A_READERS,
    ("api_clinical.consent", "POST"): SITE_A_STAFF | SITE_A_DOCTOR,
    ("api_clinical.eligibility", "POST"): SITE_A_DOCTOR,
    ("api_clinical.prescribe", "POST"): SITE_A_DOCTOR,
    ("api_clinical.follow_up", "POST"): SITE_A_DOCTOR,
    ("api_clinical.open_prescriptions", "GET"): TECH_QA,
    ("api_clinical.allocate", "POST"): TECH_QA,
    ("api_clinical.AdverseEvents", "GET"): CLINICAL_READERS,
    ("api_clinical.AdverseEvents", "POST"): SITE_A_DOCTOR,  # and the medical director
    ("api_clinical.Shipments", "GET"): SHIPMENT_READERS,
    ("api_clinical.Shipments", "POST"): TECH_QA,
    ("api_clinical.get_shipment", "GET"): SITE_A_SHIPMENT_READERS,
    ("api_clinical.receive", "POST"): SITE_A_STAFF,
    ("api_cold_chain.get_logger", "GET"): SITE_A_SHIPMENT_READERS,
    ("api_cold_chain.attach", "POST"): SITE_A_STAFF,
    ("api_cold_chain.decide", "POST"): QA,
    ("api_clinical.primary_outcome", "GET"): CLINICAL_READERS,
    ("api_sdtm.sdtm_zip", "GET"): SDTM_EXPORTERS,
    ("api_adverse.get_event", "GET"): SITE_A_READERS,
    ("api_adverse.add_follow_up", "POST"): SITE_A_DOCTOR,
    ("api_adverse.record_report", "POST"): SITE_A_STAFF | SITE_A_DOCTOR | QA,
    ("api_adverse.overdue", "GET"): CLINICAL_READERS,
    ("api_worklist.get_worklist", "GET"): LOGGED_IN,
    ("api_adverse.terms", "GET"): CLINICAL_READERS,
    ("api_adverse.propose", "POST"): CLINICAL_READERS,
    ("api_clinical.enrolment", "GET"): CLINICAL_READERS,
    ("api_clinical.Cohorts", "GET"): CLINICAL_READERS,
    ("api_clinical.Cohorts", "POST"): frozenset(),  # the medical director only
    ("api_bedside.check", "POST"): CLINICAL,
    ("api_bedside.check_photo", "POST"): CLINICAL,
    ("api_bedside.thaw", "POST"): CLINICAL,
    ("api_bedside.Infusions", "GET"): CLINICAL_READERS,
    ("api_bedside.Infusions", "POST"): CLINICAL,
    ("api_notify.list_notices", "GET"): LOGGED_IN,
}
