"""New passwords: long enough, and not one of the passwords attackers try first."""

from __future__ import annotations

import re

import pytest

from tests.web.conftest import Client, page_csrf
from web.passwords import password_problem

COMMON = ["password12", "qwertyuiop", "1234567890", "iloveyou12", "senha12345", "Password123!"]


@pytest.mark.parametrize("password", COMMON)
def test_common_passwords_are_refused(password: str) -> None:
    assert password_problem(password) == "common"


@pytest.mark.parametrize(
    "password", ["correct horse battery", "Tr0ub4dor&3x-azul", "uma senha que ninguém usa"]
)
def test_uncommon_passwords_are_accepted(password: str) -> None:
    assert password_problem(password) is None


def test_length_rules_come_first() -> None:
    assert password_problem("") == "required"
    assert password_problem("senha") == "too_short"
    assert password_problem("x" * 2000) == "too_long"


async def test_sign_up_with_a_common_password_is_refused_in_both_languages(
    web_client: Client,
) -> None:
    for language, message in (
        ("pt-BR", "Essa senha é uma das mais usadas"),
        ("en", "This password is one of the most used"),
    ):
        token = await page_csrf(web_client, "/signup")
        response = await web_client.post(
            "/signup",
            data={
                "csrf_token": token,
                "name": "Ana",
                "email": "ana@example.com",
                "password": "password12",
            },
            headers={"Accept-Language": language},
            allow_redirects=False,
        )
        assert response.status == 422
        body = await response.text()
        assert message in body
        assert not re.search(r'name="password"[^>]*value="password12"', body)
