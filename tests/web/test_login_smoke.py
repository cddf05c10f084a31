from tests.conftest import login


def test_demo_technician_logs_in_and_lands_on_a_page(client):
    resp = login(client, "tech")
    assert resp.status_code == 302
    home = client.get("/", follow_redirects=False)
    assert home.status_code in (200, 302)


def test_wrong_password_is_refused_with_a_reason(client):
    resp = login(client, "tech", "not-the-password")
    assert resp.status_code == 401
    assert b"Wrong username or password" in resp.data
