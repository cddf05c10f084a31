"""The CTCAE v4.03 dictionary lotrack ships: every term with its SOC, MedDRA code and the grades
it defines; an "Other, specify" row per SOC; the grade rule; search; and NCI's rows converted."""

from __future__ import annotations

import pytest

from lotrack.domain import ctcae
from lotrack.domain.errors import ValidationFailed

SOCS = 26  # MedDRA's system organ classes as CTCAE v4.03 lists them


def test_the_built_in_dictionary_names_its_source_and_covers_every_soc():
    d = ctcae.builtin()
    assert "uscnewplatform/irccs-docker" in d.source and "0086ade84debea91c" in d.source
    assert d.retrieved == "2026-12-04"
    assert len(d.socs()) == SOCS
    others = [t for t in d.terms if ctcae.is_other_specify(t)]
    assert len(others) == SOCS  # one "Other, specify" row per SOC
    assert {d.terms[t]["soc"] for t in others} == set(d.socs())
    assert len(d.terms) >= 90


@pytest.mark.parametrize(
    "term, soc, meddra, grades",
    [
        ("Anemia", "Blood and lymphatic system disorders", "10002272", "12345"),
        ("Febrile neutropenia", "Blood and lymphatic system disorders", "10016288", "345"),
        (
            "Disseminated intravascular coagulation",
            "Blood and lymphatic system disorders",
            "10013442",
            "2345",
        ),
        ("Diarrhea", "Gastrointestinal disorders", "10012727", "12345"),
        ("Abdominal pain", "Gastrointestinal disorders", "10000081", "123"),
        ("Ileus", "Gastrointestinal disorders", "10021328", "2345"),
        ("Fever", "General disorders and administration site conditions", "10016558", "12345"),
        ("Malaise", "General disorders and administration site conditions", "10025482", "12"),
        (
            "Sudden death NOS",
            "General disorders and administration site conditions",
            "10042435",
            "5",
        ),
        ("Anaphylaxis", "Immune system disorders", "10002218", "345"),
        ("Urinary tract infection", "Infections and infestations", "10046571", "2345"),
        ("Alanine aminotransferase increased", "Investigations", "10001551", "1234"),
        ("Platelet count decreased", "Investigations", "10035528", "1234"),
        ("Neutrophil count decreased", "Investigations", "10029366", "1234"),
        ("Blood bilirubin increased", "Investigations", "10005364", "1234"),
        ("Acidosis", "Metabolism and nutrition disorders", "10000486", "1345"),
        ("Hypotension", "Vascular disorders", "10021097", "12345"),
        ("Rash maculo-papular", "Skin and subcutaneous tissue disorders", "10037868", "123"),
        (
            "Respiratory failure",
            "Respiratory, thoracic and mediastinal disorders",
            "10038695",
            "45",
        ),
        ("Urticaria", "Skin and subcutaneous tissue disorders", "10046735", "123"),
        (
            "Immune system disorders - Other, specify",
            "Immune system disorders",
            "10021428",
            "12345",
        ),
        (
            "Infections and infestations - Other, specify",
            "Infections and infestations",
            "10021881",
            "12345",
        ),
    ],
)
def test_each_term_allows_exactly_the_grades_ctcae_defines(term, soc, meddra, grades):
    entry = ctcae.builtin().terms[term]
    assert (entry["soc"], entry["meddra"]) == (soc, meddra)
    assert "".join(entry["grades"]) == grades
    for grade in range(0, 7):
        if str(grade) in grades:
            assert ctcae.check_grade(term, grade) is entry
        else:
            with pytest.raises(ValidationFailed) as refused:
                ctcae.check_grade(term, grade)
            assert list(refused.value.fields) == ["grade"]


# Terms added from the same bundle (importCtcae/v4/ctcae-v4-bundle.json at 0086ade8), with the
# MedDRA code and the grades its concept lists. Sepsis defines grades 4 and 5 only.
@pytest.mark.parametrize(
    "term, soc, meddra, grades, grade_text",
    [
        (
            "Lung infection",
            "Infections and infestations",
            "10061229",
            "2345",
            (
                "2",
                "Moderate symptoms; oral intervention indicated (e.g., antibiotic,",
            ),
        ),
        (
            "Sepsis",
            "Infections and infestations",
            "10040047",
            "45",
            ("4", "Life-threatening consequences; urgent intervention indicated"),
        ),
        (
            "Mucositis oral",
            "Gastrointestinal disorders",
            "10028130",
            "12345",
            ("3", "Severe pain; interfering with oral intake"),
        ),
        (
            "Hyponatremia",
            "Metabolism and nutrition disorders",
            "10021038",
            "1345",
            ("3", "<130 - 120 mmol/L"),
        ),
        (
            "Hypoxia",
            "Respiratory, thoracic and mediastinal disorders",
            "10021143",
            "2345",
            (
                "3",
                "Decreased oxygen saturation at rest (e.g., pulse oximeter <88%",
            ),
        ),
        (
            "Alopecia",
            "Skin and subcutaneous tissue disorders",
            "10001760",
            "12",
            (
                "1",
                "Hair loss of <50% of normal for that individual",
            ),
        ),
        (
            "Proteinuria",
            "Renal and urinary disorders",
            "10037032",
            "123",
            ("3", "Adults: urinary protein >=3.5 g/24 hrs; Pediatric: urine P/C >1.9"),
        ),
    ],
)
def test_terms_added_from_the_bundle_allow_the_grades_it_gives(
    term, soc, meddra, grades, grade_text
):
    entry = ctcae.builtin().terms[term]
    assert (entry["soc"], entry["meddra"]) == (soc, meddra)
    assert "".join(entry["grades"]) == grades
    grade, text = grade_text
    assert entry["grades"][grade].startswith(text)
    assert entry["definition"].startswith("A disorder characterized by")
    for grade in range(0, 7):
        if str(grade) in grades:
            assert ctcae.check_grade(term, grade) is entry
        else:
            with pytest.raises(ValidationFailed):
                ctcae.check_grade(term, grade)


def test_every_grade_5_is_death_and_every_term_has_a_definition_of_each_grade():
    for entry in ctcae.builtin().terms.values():
        assert entry["grades"] and all(text for text in entry["grades"].values())
        if "5" in entry["grades"]:
            assert entry["grades"]["5"].startswith("Death"), entry["term"]


@pytest.mark.parametrize(
    "text, soc, expected",
    [
        ("platelet", "", ["Platelet count decreased"]),
        (
            "count decreased",
            "Investigations",
            [
                "Lymphocyte count decreased",
                "Neutrophil count decreased",
                "Platelet count decreased",
            ],
        ),
        ("10016558", "", ["Fever"]),
        (
            "",
            "Hepatobiliary disorders",
            [
                "Hepatic failure",
                "Hepatic pain",
                "Hepatobiliary disorders - Other, specify",
                "Portal hypertension",
            ],
        ),
        ("other specify", "Vascular disorders", ["Vascular disorders - Other, specify"]),
    ],
)
def test_terms_are_searched_by_name_soc_and_code(text, soc, expected):
    assert [e["term"] for e in ctcae.builtin().search(text, soc)] == expected


def test_a_search_by_soc_words_finds_its_terms():
    found = ctcae.builtin().search("hepatobiliary")
    assert [e["term"] for e in found] == [
        "Hepatic failure",
        "Hepatic pain",
        "Hepatobiliary disorders - Other, specify",
        "Portal hypertension",
    ]


def test_the_whole_infections_soc_is_built_in_and_found_by_a_word_of_its_name():
    # The SOC's own name holds "infection", so the search finds every term of the SOC: the
    # bundle's 76 concepts, Abdominal infection to Wound infection, with its "Other, specify" row.
    found = [e["term"] for e in ctcae.builtin().search("infection", "Infections and infestations")]
    assert len(found) == 76
    assert found[:3] == ["Abdominal infection", "Anorectal infection", "Appendicitis"]
    assert found[-3:] == ["Vaginal infection", "Vulval infection", "Wound infection"]
    assert {"Lung infection", "Sepsis", "Catheter related infection", "Skin infection"} <= set(
        found
    )
    assert "Infections and infestations - Other, specify" in found


NCI_ROWS = [
    {
        "MedDRA Code": 10016558.0,
        "MedDRA SOC": "General disorders and administration site conditions",
        "CTCAE Term": "Fever",
        "Grade 1": "38.0 - 39.0 degrees C",
        "Grade 2": "-",
        "Grade 3": ">40.0 degrees C  for <=24 hrs",
        "Grade 4": None,
        "Grade 5": "Death",
        "Definition": "A disorder characterized by elevation of the body's temperature.",
    },
    {"MedDRA Code": "", "CTCAE Term": ""},  # a blank line between SOC blocks
]


def test_nci_spreadsheet_rows_are_converted_with_their_source():
    data = ctcae.from_rows(NCI_ROWS, "NCI CTCAE_4.03 (test)", "2026-12-04")
    (fever,) = data["terms"]
    assert fever["meddra"] == "10016558"  # a spreadsheet number, not "10016558.0"
    assert fever["grades"] == {
        "1": "38.0 - 39.0 degrees C",
        "3": ">40.0 degrees C for <=24 hrs",
        "5": "Death",
    }
    d = ctcae.parse(data, "test")
    assert d.source == "NCI CTCAE_4.03 (test)" and list(d.terms) == ["Fever"]


@pytest.mark.parametrize(
    "change, message",
    [
        ({"MedDRA Code": "1001"}, "not 8 digits"),
        ({"MedDRA SOC": ""}, "no system organ class"),
        ({"Grade 1": "-", "Grade 3": "", "Grade 5": None}, "must define some of grades 1-5"),
    ],
)
def test_a_spreadsheet_row_that_cannot_be_used_is_refused_naming_it(change, message):
    with pytest.raises(ctcae.DictionaryError, match=message):
        ctcae.from_rows([{**NCI_ROWS[0], **change}], "s", "d")


def test_a_term_twice_and_a_dictionary_without_source_are_refused():
    with pytest.raises(ctcae.DictionaryError, match="appears twice"):
        ctcae.from_rows([NCI_ROWS[0], NCI_ROWS[0]], "s", "d")
    with pytest.raises(ctcae.DictionaryError, match="'source'"):
        ctcae.parse({"terms": [{}]}, "x")


def test_the_dictionary_in_use_is_the_one_loaded_and_the_built_in_one_otherwise():
    loaded = ctcae.parse(ctcae.from_rows(NCI_ROWS[:1], "s", "d"), "x")
    ctcae.use(loaded)
    try:
        assert list(ctcae.active().terms) == ["Fever"]
        with pytest.raises(ValidationFailed):
            ctcae.check_grade("Anemia", 1)  # not in the loaded file
    finally:
        ctcae.use(None)
    assert "Anemia" in ctcae.active().terms
