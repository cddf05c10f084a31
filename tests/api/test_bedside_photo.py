"""POST /api/v1/bedside/check-photo: a photographed label, decoded on the server with zxing-cpp,
gets the same answer as the QR text scanned; a photo of the Code 128 bar code alone identifies the
unit, with the note that a bar code does not prove the label genuine; an upload that is not an
image is refused naming `image` and records nothing; a photo with no readable code is a recorded
NO-GO."""

from __future__ import annotations

import io

import pypdfium2
from barcode import Code128
from barcode.writer import ImageWriter
from PIL import Image

from lotrack.domain.isbt128_expiry import encode_005
from lotrack.models import BedsideScan
from lotrack.request_scope import db_session, printing
from lotrack.services import clock, unit_labels
from lotrack.services import lot as lots
from tests import clinical_setup as cs
from tests.api.conftest import assert_problem, row_counts
from tests.conftest import user
from tests.documents.pdfs import QR, codes_per_page, only


def label_photo(app, din: str) -> tuple[bytes, str]:
    """The unit's printed label as a PNG (a flat photo of it), and the text of its QR code."""
    with app.app_context():
        session = db_session()
        unit = lots.get_unit(session, din)
        sheet = unit_labels.print_labels(session, user(session, "tech"), [unit], printing(), "test")
        session.commit()
    document = pypdfium2.PdfDocument(sheet.pdf)
    try:
        image = document[0].render(scale=4).to_pil()
    finally:
        document.close()
    png = io.BytesIO()
    image.save(png, format="PNG")
    return png.getvalue(), only(codes_per_page(sheet.pdf)[0], QR)


def photo_check(client, png: bytes, **fields):
    return client.post(
        "/bedside/check-photo",
        data={"patient": cs.READY, **fields, "image": (io.BytesIO(png), "label.png")},
        content_type="multipart/form-data",
    )


def test_a_photographed_label_gets_the_same_answer_as_its_scanned_qr(demo_app, as_user) -> None:
    nurse = as_user("nurse")
    din, _ = cs.ready_din(demo_app)
    png, qr_text = label_photo(demo_app, din)
    assert qr_text == cs.label(demo_app, din)  # Ed25519 tokens are deterministic
    for thawed in (False, True):
        if thawed:
            cs.thaw(demo_app, din)
        scanned = nurse.post("/bedside/check", {"patient": cs.READY, "scan": qr_text}).get_json()
        resp = photo_check(nurse, png)
        assert resp.status_code == 200, resp.get_data(as_text=True)
        photographed = resp.get_json()
        assert photographed["decoded"] == qr_text and photographed["method"] == "photo"
        assert (photographed["go"], photographed["reasons"]) == (scanned["go"], scanned["reasons"])
        assert photographed["go"] is thawed


def test_a_photo_that_cannot_be_read_is_refused_or_recorded_as_no_go(demo_app, as_user) -> None:
    nurse = as_user("nurse")
    before = row_counts(demo_app)
    assert_problem(photo_check(nurse, b"%PDF-1.7 not a photo"), 422, "image")
    assert_problem(
        nurse.client.post(
            "/api/v1/bedside/check-photo",
            headers=nurse.headers,
            data={"patient": cs.READY},
            content_type="multipart/form-data",
        ),
        422,
        "image",
    )
    assert row_counts(demo_app) == before
    blank = io.BytesIO()
    Image.new("L", (400, 300), 255).save(blank, format="PNG")
    body = photo_check(nurse, blank.getvalue()).get_json()
    assert body["go"] is False and body["decoded"] == ""
    assert "nothing readable" in body["reasons"][0]
    assert cs.scans(demo_app) == 1


def test_a_photo_of_the_bar_code_alone_identifies_the_unit_with_a_note(demo_app, as_user) -> None:
    nurse = as_user("nurse")
    din, _ = cs.ready_din(demo_app)
    cs.thaw(demo_app, din)
    for text in (din, f"={din}00"):  # with or without ISBT 128's data identifier and flags
        png = io.BytesIO()
        Code128(text, writer=ImageWriter()).write(png)
        body = photo_check(nurse, png.getvalue()).get_json()
        assert body["decoded"] == text and body["method"] == "photo"
        assert (body["go"], body["reasons"], body["din"]) == (True, [], din), body
        assert len(body["notes"]) == 1 and "bar code scan does not prove" in body["notes"][0]


def test_a_photo_of_more_pixels_than_a_label_needs_is_refused_before_it_is_decoded(
    demo_app, as_user
) -> None:
    """Issue 16: three parallel decodes of a 9400 × 9400 image held the bedside workers for 15 s.
    Over 50 million pixels is refused naming `image`, nothing recorded; a large photo under the
    limit is read at 3000 pixels a side, and its label still reads."""
    nurse = as_user("nurse")
    huge = io.BytesIO()
    Image.new("L", (7200, 7000), 255).save(huge, format="PNG")  # 50.4 million pixels
    before = row_counts(demo_app)
    body = assert_problem(photo_check(nurse, huge.getvalue()), 422, "image")
    assert "50 million" in body["message"]
    assert row_counts(demo_app) == before
    din, _ = cs.ready_din(demo_app)
    png, qr_text = label_photo(demo_app, din)
    label = Image.open(io.BytesIO(png))
    # A 36 MP image with the label in one corner (grey PNG: the upload stays under the test
    # client's 500 kB, beyond which it spools the body to a file it never closes).
    big = Image.new("L", (6000, 6000), 255)
    big.paste(label.convert("L").resize((label.width * 2, label.height * 2)), (100, 100))
    shot = io.BytesIO()
    big.save(shot, format="PNG")
    assert len(shot.getvalue()) < 500_000
    read = photo_check(nurse, shot.getvalue())
    assert read.status_code == 200 and read.get_json()["decoded"] == qr_text


def test_a_photographed_labels_expiry_bar_code_is_read_and_compared(demo_app, as_user) -> None:
    """The whole label in the photo: its 005 is read with the QR code and kept with the check."""
    nurse = as_user("nurse")
    din, _ = cs.ready_din(demo_app)
    cs.thaw(demo_app, din)
    png, _qr = label_photo(demo_app, din)
    body = photo_check(nurse, png).get_json()
    assert body["go"] is True, body
    with demo_app.app_context():
        scan = db_session().get_one(BedsideScan, body["scan_id"])
        unit = lots.get_unit(db_session(), din)
        zone = clock.facility_zone(db_session())
        assert scan.expiry_text == encode_005(unit.lot.expires_on, zone)


def test_a_photo_with_the_qr_code_covered_reads_the_din_not_the_product_code(
    demo_app, as_user
) -> None:
    nurse = as_user("nurse")
    din, _ = cs.ready_din(demo_app)
    cs.thaw(demo_app, din)
    png, _qr = label_photo(demo_app, din)
    image = Image.open(io.BytesIO(png)).convert("L")
    width, height = image.size
    # The QR code sits at the top right (templates/documents/labels.html): paint it over.
    image.paste(255, (int(width * 0.78), 0, width, int(height * 0.5)))
    covered = io.BytesIO()
    image.save(covered, format="PNG")
    body = photo_check(nurse, covered.getvalue()).get_json()
    assert body["decoded"].startswith(f"={din}"), body
    assert (body["go"], body["din"]) == (True, din), body
    assert "bar code scan does not prove" in body["notes"][0]
