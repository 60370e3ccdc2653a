"""Strings about files on messages (web page and cards)."""

from __future__ import annotations

PT = {
    "ticket.file.download": "Baixar {name}",
    "ticket.file.open": "Abrir {name} em tamanho real",
    "ticket.file.list": "Arquivos da mensagem",
    "card.file.open": "Abrir {name}",
    "card.file.files": "Arquivos",
}

EN = {
    "ticket.file.download": "Download {name}",
    "ticket.file.open": "Open {name} full size",
    "ticket.file.list": "Files of the message",
    "card.file.open": "Open {name}",
    "card.file.files": "Files",
}
