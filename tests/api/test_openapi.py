"""The OpenAPI document integrators generate clients from: valid JSON, every path, the bearer
scheme, and the error body."""

from __future__ import annotations

import json

EXPECTED = {
    "/api/v1/donors": {"get", "post"},
    "/api/v1/donors/{code}": {"get"},
    "/api/v1/donors/{code}/screening": {"post"},
    "/api/v1/donors/{code}/determination": {"post"},
    "/api/v1/clones": {"get", "post"},
    "/api/v1/clones/{code}": {"get"},
    "/api/v1/banks": {"get", "post"},
    "/api/v1/banks/{code}": {"get"},
    "/api/v1/banks/{code}/vials": {"post"},
    "/api/v1/banks/{code}/vials/{number}/withdraw": {"post"},
    "/api/v1/runs": {"get", "post"},
    "/api/v1/runs/{code}": {"get"},
    "/api/v1/runs/{code}/passages": {"post"},
    "/api/v1/lots": {"get", "post"},
    "/api/v1/lots/{lot_number}": {"get"},
    "/api/v1/lots/{lot_number}/units": {"post"},
    "/api/v1/lots/needs-decision": {"get"},
    "/api/v1/units/{din}": {"get"},
    "/api/v1/lots/{lot_number}/labels.pdf": {"get", "post"},
    "/api/v1/units/{din}/label.pdf": {"get", "post"},
    "/api/v1/lots/{lot_number}/labels.zpl": {"post"},
    "/api/v1/units/{din}/label.zpl": {"post"},
    "/api/v1/trace/back": {"get"},
    "/api/v1/trace/forward": {"get"},
    "/api/v1/trace/patient": {"get"},
    "/api/v1/trace/units": {"get"},
    "/api/v1/containments/{number}/impact": {"get"},
}
METHODS = {"get", "post", "put", "patch", "delete"}


def refs(node: object) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [r for v in node.values() for r in refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in refs(v)]
    return []


def test_the_openapi_document_lists_every_path_and_the_bearer_scheme(client) -> None:
    resp = client.get("/api/v1/openapi.json")  # public: no token needed to read the contract
    assert resp.status_code == 200
    doc = json.loads(resp.get_data(as_text=True))
    assert doc["openapi"].startswith("3.") and doc["info"]["title"] == "lotrack"
    for path, methods in EXPECTED.items():
        assert path in doc["paths"], path
        assert {m for m in doc["paths"][path] if m in METHODS} >= methods, path
    assert doc["components"]["securitySchemes"]["bearer"] == {"type": "http", "scheme": "bearer"}
    assert doc["security"] == [{"bearer": []}]
    # Every reference resolves inside the document.
    for ref in refs(doc):
        node = doc
        for part in ref.removeprefix("#/").split("/"):
            node = node[part]
    # Creations answer 201; errors are documented with the {"error","message","fields"} body.
    assert "201" in doc["paths"]["/api/v1/lots"]["post"]["responses"]
    problem = doc["components"]["schemas"]["Problem"]["properties"]
    assert set(problem) == {"error", "message", "fields"}
    unit = doc["components"]["schemas"]["UnitOut"]["properties"]
    assert {"din", "check_character", "lot", "state"} <= set(unit)
    lot = doc["components"]["schemas"]["LotDetail"]["properties"]
    assert {"lot_number", "state", "units"} <= set(lot)
    assert doc["components"]["schemas"]["PassageOut"]["properties"]["doublings"]["type"] == "string"
    # ZPL is print-only (no GET, so no preview) and says what it answers and what it takes.
    for path in ("/api/v1/lots/{lot_number}/labels.zpl", "/api/v1/units/{din}/label.zpl"):
        assert set(doc["paths"][path]) & METHODS == {"post"}, path
        answer = doc["paths"][path]["post"]["responses"]["200"]["content"]
        assert set(answer) == {"application/zpl"}, path
    dpi = doc["components"]["schemas"]["ZplPrint"]["properties"]["dpi"]
    assert (dpi["type"], dpi["enum"]) == ("integer", [203, 300])
    assert "dpi" in doc["components"]["schemas"]["ZplPrint"]["required"]


def test_an_application_built_again_serves_the_document_a_first_build_describes(
    app, tmp_path, monkeypatch
) -> None:
    """Later applications in a process restore the document (lotrack/api/__init__.py): the same
    as describing every route afresh, and not shared, so one cannot change another's."""
    from lotrack import api, create_app

    def document(flask_app) -> bytes:
        return flask_app.test_client().get("/api/v1/openapi.json").get_data()

    settings = {**app.config, "INSTANCE_PATH": str(tmp_path / "again")}
    monkeypatch.setattr(api, "_documents", {})
    first = create_app(settings)
    assert len(api._documents) == 1
    again = create_app(settings)
    assert document(again) == document(first) == document(app)
    again.extensions["flask-smorest"]["apis"][""]["ext_obj"].spec._paths.clear()
    assert document(first) == document(app)
    other = create_app({**settings, "API_TITLE": "elsewhere"})
    assert len(api._documents) == 2 and json.loads(document(other))["info"]["title"] == "elsewhere"
    for built in (first, again, other):
        built.extensions["lotrack_db"].engine.dispose()
