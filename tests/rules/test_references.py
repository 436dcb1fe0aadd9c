"""Every parameter reference names its kind of source and no internal document, and the API
serves every reference (issue 15 item 9)."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from meldplicht.rules.params import Parameters

KIND = re.compile(r"^\[(O|S|P)\] ")  # primary, secondary, product policy (not law)
INTERNAL = ("DECISIONS", "legal-research", ".md", "docs/")


def _references(params: Parameters, name: str) -> list[str]:
    parameter = params.parameter(name)
    return [parameter.reference, *(entry.reference for entry in parameter.entries)]


def test_every_reference_names_its_kind_and_no_internal_document(params: Parameters) -> None:
    for name in params.names():
        for reference in _references(params, name):
            assert KIND.match(reference), (name, reference[:80])
            for word in INTERNAL:
                assert word not in reference, (name, word)
        parameter = params.parameter(name)
        if parameter.status == "policy":
            assert parameter.reference.startswith("[P]"), name


def test_law_references_cite_primary_text(params: Parameters) -> None:
    # Where the primary text is reachable, each law parameter cites it beside any secondary.
    for name in params.names():
        if params.parameter(name).status == "policy":
            continue
        assert any("[O]" in ref for ref in _references(params, name)), name
    youth = params.parameter("wml_youth_percentages").reference
    assert "Besluit minimumjeugdloonregeling" in youth
    assert "BWBR0003599" in youth
    end = params.at(
        "temporary_protection_end",
        params.parameter("temporary_protection_end").entries[-1].effective_from,
    )
    assert str(end.value) == "2027-03-04"
    assert "2025/1460" in end.reference
    third = params.parameter("third_country_nationals_protection_end")
    assert "C-244/24" in third.reference
    assert "2025" in (third.entries[0].note or "")


def test_api_serves_every_reference(client: TestClient, params: Parameters) -> None:
    names = client.get("/api/v1/parameters").json()
    assert sorted(names) == params.names()
    for name in names:
        body = client.get(f"/api/v1/parameters/{name}").json()
        served = [body["reference"], *(v["reference"] for v in body["values"])]
        assert served == _references(params, name), name
    wtta = client.get("/api/v1/parameters/wtta_admission_dates").json()
    assert wtta["values"][0]["value"]["enforced_from"] == "2028-01-01"
