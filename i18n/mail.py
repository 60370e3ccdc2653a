"""Strings of the account e-mails (verification, password reset, a sign-up attempt)."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

PT: Final[Mapping[str, str]] = MappingProxyType(
    {
        "mail.greeting": "Olá!",
        "mail.verify.subject": "Confirme seu e-mail",
        "mail.verify.intro": (
            "Uma conta do {app} foi criada com este endereço. Para confirmar que ele é seu, "
            "use o botão abaixo."
        ),
        "mail.verify.button": "Confirmar e-mail",
        "mail.verify.ignore": (
            "Se não foi você, ignore esta mensagem: o endereço continua sem confirmação."
        ),
        "mail.reset.subject": "Crie uma senha nova",
        "mail.reset.intro": (
            "Recebemos um pedido para criar uma senha nova para a conta do {app} deste endereço."
        ),
        "mail.reset.button": "Criar senha nova",
        "mail.reset.ignore": "Se não foi você, ignore esta mensagem: sua senha não muda.",
        "mail.attempt.subject": "Alguém tentou criar uma conta com seu e-mail",
        "mail.attempt.intro": (
            "Alguém tentou criar uma conta do {app} com este endereço, que já tem uma conta. "
            "Se foi você e esqueceu a senha, crie uma nova pelo botão abaixo."
        ),
        "mail.attempt.button": "Criar senha nova",
        "mail.attempt.ignore": "Se não foi você, ignore esta mensagem: nada muda na sua conta.",
        "mail.expires": "O link vale por 30 minutos e só pode ser usado uma vez.",
        "mail.link_hint": "Se o botão não funcionar, copie este endereço no navegador:",
        "mail.footer": "Mensagem automática do {app}. Não é preciso responder.",
    }
)

EN: Final[Mapping[str, str]] = MappingProxyType(
    {
        "mail.greeting": "Hello!",
        "mail.verify.subject": "Confirm your e-mail",
        "mail.verify.intro": (
            "A {app} account was created with this address. To confirm that it is yours, use "
            "the button below."
        ),
        "mail.verify.button": "Confirm e-mail",
        "mail.verify.ignore": (
            "If it was not you, ignore this message: the address stays unconfirmed."
        ),
        "mail.reset.subject": "Choose a new password",
        "mail.reset.intro": (
            "We received a request to choose a new password for this address's {app} account."
        ),
        "mail.reset.button": "Choose a new password",
        "mail.reset.ignore": "If it was not you, ignore this message: your password stays.",
        "mail.attempt.subject": "Someone tried to sign up with your e-mail",
        "mail.attempt.intro": (
            "Someone tried to create a {app} account with this address, which already has one. "
            "If it was you and you forgot your password, choose a new one with the button below."
        ),
        "mail.attempt.button": "Choose a new password",
        "mail.attempt.ignore": (
            "If it was not you, ignore this message: nothing changes in your account."
        ),
        "mail.expires": "The link is valid for 30 minutes and works once.",
        "mail.link_hint": "If the button does not work, paste this address into your browser:",
        "mail.footer": "An automatic message from {app}. No need to reply.",
    }
)
