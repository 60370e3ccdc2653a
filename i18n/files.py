"""Strings about files on messages (web page and cards)."""

from __future__ import annotations

PT = {
    "ticket.file.download": "Baixar {name}",
    "ticket.file.open": "Abrir {name} em tamanho real",
    "ticket.file.list": "Arquivos da mensagem",
    "card.file.open": "Abrir {name}",
    "card.file.files": "Arquivos",
    "ticket.upload.attach": "Anexar arquivos",
    "ticket.upload.chosen": "Arquivos a enviar",
    "ticket.upload.remove": "Remover {name}",
    "ticket.upload.drop": "Solte os arquivos aqui para anexar",
    "ticket.upload.progress": "Enviando… {percent}%",
    "ticket.upload.pasted": "captura-de-tela",
    "ticket.upload.too_large": "{name} passa de {limit}, o limite por arquivo.",
    "ticket.upload.too_many": "No máximo {limit} arquivos por mensagem.",
    "ticket.upload.type_refused": (
        "{name}: tipo de arquivo não aceito. Envie imagens, PDF, documentos do Office ou "
        "OpenDocument, texto/CSV, zip, áudio ou vídeo."
    ),
    "ticket.upload.no_name": "Um dos arquivos não tem nome.",
    "ticket.upload.failed": (
        "Não enviada: o suporte não respondeu. Seu texto e seus arquivos continuam aqui."
    ),
    "ticket.upload.retry": "Tentar de novo",
    "bot.file.download_failed": (
        "Não consegui baixar o arquivo do Teams; nada foi enviado. Tente de novo."
    ),
    "form.files.label": "Arquivos",
    "form.files.hint": (
        "Capturas de tela, PDF, documentos, planilhas: até {files} arquivos de até {size} cada. "
        "Eles vão junto com a descrição."
    ),
}

EN = {
    "ticket.file.download": "Download {name}",
    "ticket.file.open": "Open {name} full size",
    "ticket.file.list": "Files of the message",
    "card.file.open": "Open {name}",
    "card.file.files": "Files",
    "ticket.upload.attach": "Attach files",
    "ticket.upload.chosen": "Files to send",
    "ticket.upload.remove": "Remove {name}",
    "ticket.upload.drop": "Drop files here to attach them",
    "ticket.upload.progress": "Sending… {percent}%",
    "ticket.upload.pasted": "screenshot",
    "ticket.upload.too_large": "{name} is over {limit}, the limit per file.",
    "ticket.upload.too_many": "At most {limit} files per message.",
    "ticket.upload.type_refused": (
        "{name}: this type of file is not accepted. Send images, PDF, Office or OpenDocument "
        "documents, text/CSV, zip, audio or video."
    ),
    "ticket.upload.no_name": "One of the files has no name.",
    "ticket.upload.failed": (
        "Not sent: the helpdesk did not answer. Your text and files are still here."
    ),
    "ticket.upload.retry": "Try again",
    "bot.file.download_failed": (
        "I could not download the file from Teams; nothing was sent. Please try again."
    ),
    "form.files.label": "Files",
    "form.files.hint": (
        "Screenshots, PDFs, documents, spreadsheets: up to {files} files of up to {size} each. "
        "They go with the description."
    ),
}
