"""A ticket as Chatwoot sees it: attributes under Chatwoot's cap, labels, priorities."""

from __future__ import annotations

from chatwoot.attributes import conversation_attributes, priority_for, sector_label


def test_attributes_are_cut_to_chatwoot_s_cap_and_name_the_beneficiary() -> None:
    attributes = conversation_attributes(
        title="T" * 2000,
        complexity="alta",
        sector="TI",
        requester="Ana",
        requester_email="ana@example.com",
        beneficiary="Bia",
        beneficiary_email="bia@example.com",
    )
    assert len(attributes["title"]) == 1500
    assert attributes["beneficiary"] == "Bia"
    assert attributes["beneficiary_email"] == "bia@example.com"
    for_self = conversation_attributes(
        title="x",
        complexity="a",
        sector="b",
        requester="Ana",
        requester_email="",
        beneficiary="Ana",
    )
    assert "beneficiary_email" not in for_self


def test_priority_follows_the_configured_complexities() -> None:
    assert [
        priority_for(level, ["baixa", "media", "alta"]) for level in ["baixa", "media", "alta"]
    ] == [
        "low",
        "medium",
        "high",
    ]
    assert priority_for("high", ["low", "high"]) == "high"
    levels = ["p4", "p3", "p2", "p1"]
    assert [priority_for(level, levels) for level in levels] == ["low", "medium", "high", "urgent"]
    assert priority_for("alta", ["low", "high"]) is None


def test_sector_labels_are_slugs() -> None:
    assert sector_label("TI") == "setor-ti"
    assert sector_label("Jurídico / Contratos") == "setor-jurídico---contratos"
    assert sector_label("!!") == "setor-geral"
