"""Words every surface shares (product name, statuses, ticket form labels), pt-BR and en."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

PT: Final[Mapping[str, str]] = MappingProxyType(
    {
        "app.name": "Chamados",
        "form.title": "Novo chamado",
        "form.subtitle": "Descreva o problema. A equipe de suporte responde por aqui.",
        "form.title.label": "Título",
        "form.description.label": "Descrição",
        "form.description.placeholder": "O que aconteceu, desde quando, o que você já tentou…",
        "form.complexity.label": "Complexidade",
        "form.complexity.placeholder": "Escolha a complexidade",
        "form.sector.label": "Setor",
        "form.sector.placeholder": "Escolha o setor",
        "form.for_other.label": "Este chamado é para outra pessoa",
        "form.beneficiary_name.label": "Nome da pessoa",
        "form.beneficiary_email.label": "E-mail da pessoa",
        "ticket.sector": "Setor",
        "ticket.complexity": "Complexidade",
        "ticket.assignee": "Responsável",
        "status.open": "Aberto",
        "status.pending": "Pendente",
        "status.resolved": "Resolvido",
        "status.snoozed": "Adiado",
        "error.title": "Algo deu errado",
    }
)

EN: Final[Mapping[str, str]] = MappingProxyType(
    {
        "app.name": "Tickets",
        "form.title": "New ticket",
        "form.subtitle": "Describe the problem. The support team answers here.",
        "form.title.label": "Title",
        "form.description.label": "Description",
        "form.description.placeholder": "What happened, since when, what you already tried…",
        "form.complexity.label": "Complexity",
        "form.complexity.placeholder": "Choose the complexity",
        "form.sector.label": "Sector",
        "form.sector.placeholder": "Choose the sector",
        "form.for_other.label": "This ticket is for someone else",
        "form.beneficiary_name.label": "Their name",
        "form.beneficiary_email.label": "Their e-mail",
        "ticket.sector": "Sector",
        "ticket.complexity": "Complexity",
        "ticket.assignee": "Assignee",
        "status.open": "Open",
        "status.pending": "Pending",
        "status.resolved": "Resolved",
        "status.snoozed": "Snoozed",
        "error.title": "Something went wrong",
    }
)
