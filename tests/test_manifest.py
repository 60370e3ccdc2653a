"""The Teams app package: schema-valid manifest and translations, our icons, clear config errors."""

from __future__ import annotations

import json
import os
import re
import struct
import subprocess
import sys
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tests.conftest import TEST_SECRET_KEY
from tickets.manifest import (
    ManifestConfigError,
    build_manifest_package,
    manifest_commands,
    manifest_message_actions,
)
from tickets.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
MANIFEST_DIR = ROOT / "manifest"
NODE_MODULES = ROOT / "tests" / "js" / "node_modules"
VALIDATOR = ROOT / "tests" / "manifest" / "validate.js"
MANIFEST_SCHEMA = ROOT / "tests/fixtures/schemas/teams-manifest/v1.30/MicrosoftTeams.schema.json"
# Microsoft bundles the v1.30 localization schema in @microsoft/app-manifest (MIT).
LOCALIZATION_SCHEMA = (
    NODE_MODULES
    / "@microsoft/app-manifest/build/json-schemas/teams/v1.30"
    / "MicrosoftTeams.Localization.schema.json"
)
APP_ID = "0f6b1c2d-3e4f-4a5b-8c9d-0e1f2a3b4c5d"
CLIENT_ID = "a1b2c3d4-e5f6-4711-8899-aabbccddeeff"
PACKAGE_FILES = {"manifest.json", "en.json", "color.png", "outline.png"}


def make_settings(**overrides: Any) -> Settings:
    """Build settings for the package from explicit values only (no .env, no leaking env)."""
    values: dict[str, Any] = {
        "HOST": "127.0.0.1",
        "SECRET_KEY": TEST_SECRET_KEY,
        "PUBLIC_URL": "https://tickets.example.com",
        "MICROSOFT_APP_ID": APP_ID,
        "MICROSOFT_APP_TYPE": "MultiTenant",
        "MICROSOFT_APP_TENANT_ID": "",
        "MICROSOFT_APP_PASSWORD": "",
        "MICROSOFT_CLIENT_ID": "",
        "MICROSOFT_CLIENT_SECRET": "",
        "CHATWOOT_BASE_URL": "",
        "BOT_NAME": "Chamados",
        # A MultiTenant bot and an `organizations` web login need the tenants named.
        "ALLOWED_TENANTS": "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0",
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


@dataclass
class Package:
    zip_path: Path
    files: dict[str, bytes]

    def json(self, name: str) -> Any:
        return json.loads(self.files[name].decode("utf-8"))


def open_package(zip_path: Path) -> Package:
    with zipfile.ZipFile(zip_path) as archive:
        assert archive.testzip() is None
        return Package(zip_path, {name: archive.read(name) for name in archive.namelist()})


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Package:
    out = tmp_path_factory.mktemp("package") / "tickets-app.zip"
    assert build_manifest_package(make_settings(), out) == out
    return open_package(out)


@pytest.fixture(scope="module")
def manifest_validator() -> jsonschema.Draft4Validator:
    # No check_schema(): an ECMAScript-only \p{L} pattern breaks it (fixtures/schemas/NOTICE.md).
    return jsonschema.Draft4Validator(json.loads(MANIFEST_SCHEMA.read_text("utf-8")))


def schema_errors(validator: jsonschema.Draft4Validator, document: Any) -> list[str]:
    return [
        f"{'/'.join(map(str, error.absolute_path))}: {error.message}"
        for error in validator.iter_errors(document)
    ]


# --- a small PNG reader, so the icon checks do not trust our own writer -----------------------


@dataclass
class Png:
    width: int
    height: int
    color_type: int
    pixels: list[tuple[int, ...]]  # row-major, one tuple of channel values per pixel


def read_png(data: bytes) -> Png:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG signature"
    pos, chunks = 8, []
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert zlib.crc32(kind + body) == crc, f"bad CRC in {kind!r}"
        chunks.append((kind, body))
        pos += 12 + length
    assert chunks[0][0] == b"IHDR"
    assert chunks[-1][0] == b"IEND"
    width, height, depth, color_type, _, _, interlace = struct.unpack(">IIBBBBB", chunks[0][1])
    assert depth == 8, "the reader handles 8-bit images"
    assert interlace == 0, "the reader handles non-interlaced images"
    channels = {0: 1, 2: 3, 4: 2, 6: 4}[color_type]
    raw = zlib.decompress(b"".join(body for kind, body in chunks if kind == b"IDAT"))
    stride = width * channels
    previous, pixels = bytearray(stride), []
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        for i in range(stride):
            a = line[i - channels] if i >= channels else 0
            b = previous[i]
            c = previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + a) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + b) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (a + b) // 2) & 0xFF
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
            else:
                assert kind == 0, f"unknown filter {kind}"
        pixels += [tuple(line[x : x + channels]) for x in range(0, stride, channels)]
        previous = line
    return Png(width, height, color_type, pixels)


def rgba(image: Png) -> list[tuple[int, int, int, int]]:
    if image.color_type == 6:
        return [(p[0], p[1], p[2], p[3]) for p in image.pixels]
    assert image.color_type == 2
    return [(p[0], p[1], p[2], 255) for p in image.pixels]


# --- the package -------------------------------------------------------------------------------


def test_zip_holds_manifest_translations_and_icons_at_its_root(package: Package) -> None:
    assert set(package.files) == PACKAGE_FILES
    manifest = package.json("manifest.json")
    referenced = {manifest["icons"]["color"], manifest["icons"]["outline"]}
    referenced |= {lang["file"] for lang in manifest["localizationInfo"]["additionalLanguages"]}
    assert referenced | {"manifest.json"} == PACKAGE_FILES
    for name, data in package.files.items():
        assert not data.startswith(b"\xef\xbb\xbf"), f"{name} starts with a BOM"


def test_manifest_is_valid_against_the_v1_30_schema(
    package: Package, manifest_validator: jsonschema.Draft4Validator
) -> None:
    manifest = package.json("manifest.json")
    assert manifest["$schema"] == (
        "https://developer.microsoft.com/json-schemas/teams/v1.30/MicrosoftTeams.schema.json"
    )
    assert manifest["manifestVersion"] == "1.30"
    assert schema_errors(manifest_validator, manifest) == []


def test_schema_check_is_live(
    package: Package, manifest_validator: jsonschema.Draft4Validator
) -> None:
    broken = package.json("manifest.json")
    broken["id"] = "not-a-guid"
    broken["bots"][0]["scopes"] = ["groupchat"]
    errors = schema_errors(manifest_validator, broken)
    assert any(error.startswith("id:") for error in errors)
    assert any(error.startswith("bots/0/scopes/0:") for error in errors)


def test_manifest_is_filled_from_settings(package: Package) -> None:
    manifest = package.json("manifest.json")
    assert manifest["id"] == APP_ID
    assert re.fullmatch(r"\d+\.\d+\.\d+", manifest["version"])
    assert manifest["name"]["short"] == "Chamados"
    assert manifest["developer"] == {
        "name": "tickets.example.com",
        "websiteUrl": "https://tickets.example.com",
        "privacyUrl": "https://tickets.example.com/privacy",
        "termsOfUseUrl": "https://tickets.example.com/terms",
    }
    assert manifest["validDomains"] == ["tickets.example.com"]
    assert "webApplicationInfo" not in manifest
    for name in ("manifest.json", "en.json"):
        assert "{{" not in package.files[name].decode("utf-8"), f"unfilled placeholder in {name}"


def test_bot_is_personal_only_conversational_and_takes_files(package: Package) -> None:
    (bot,) = package.json("manifest.json")["bots"]
    assert bot["botId"] == APP_ID
    assert bot["scopes"] == ["personal"]
    # Files sent in the 1:1 chat reach the current ticket (file.download.info attachments).
    assert bot["supportsFiles"] is True
    assert bot["isNotificationOnly"] is False
    # Teams rule the schema cannot express: a command list only for scopes the bot has.
    for command_list in bot["commandLists"]:
        assert set(command_list["scopes"]) <= set(bot["scopes"])


def test_commands_in_both_languages(package: Package) -> None:
    manifest = package.json("manifest.json")
    (command_list,) = manifest["bots"][0]["commandLists"]
    commands = command_list["commands"]
    assert [c["title"] for c in commands] == ["novo chamado", "meus chamados", "ajuda"]
    english = package.json("en.json")
    english_titles = [english[f"bots[0].commandLists[0].commands[{i}].title"] for i in range(3)]
    assert english_titles == ["new ticket", "my tickets", "help"]
    for i, command in enumerate(commands):
        assert 0 < len(command["title"]) <= 32
        assert command["description"]
        assert english[f"bots[0].commandLists[0].commands[{i}].description"]
    assert manifest_commands() == [
        ("novo chamado", "pt-BR"),
        ("meus chamados", "pt-BR"),
        ("ajuda", "pt-BR"),
        ("new ticket", "en"),
        ("my tickets", "en"),
        ("help", "en"),
    ]


def test_message_action_opens_a_ticket_in_both_languages(package: Package) -> None:
    from bot.extension import COMMAND_ID

    manifest = package.json("manifest.json")
    [extension] = manifest["composeExtensions"]
    assert extension["botId"] == APP_ID
    [command] = extension["commands"]
    assert command == {
        "id": "openTicketFromMessage",
        "type": "action",
        "title": "Abrir chamado",
        "description": "Abrir um chamado para o suporte a partir desta mensagem",
        "context": ["message"],
        "fetchTask": True,
    }
    english = package.json("en.json")
    assert english["composeExtensions[0].commands[0].title"] == "Open ticket"
    assert english["composeExtensions[0].commands[0].description"]
    assert manifest_message_actions() == [
        (COMMAND_ID, "Abrir chamado", "pt-BR"),
        (COMMAND_ID, "Open ticket", "en"),
    ]
    # The action is offered wherever the app is; the bot itself still talks only 1:1.
    assert manifest["bots"][0]["scopes"] == ["personal"]


def test_localization_is_declared_and_valid(package: Package) -> None:
    manifest = package.json("manifest.json")
    assert manifest["localizationInfo"] == {
        "defaultLanguageTag": "pt-br",
        "additionalLanguages": [{"languageTag": "en", "file": "en.json"}],
    }
    english = package.json("en.json")
    validator = jsonschema.Draft4Validator(json.loads(LOCALIZATION_SCHEMA.read_text("utf-8")))
    assert schema_errors(validator, english) == []
    # Teams wants the localization file on the same schema version as the manifest.
    assert english["$schema"] == manifest["$schema"].replace(
        "MicrosoftTeams.schema.json", "MicrosoftTeams.Localization.schema.json"
    )
    assert english["name.short"] == "Chamados"
    # Every translated key must point at a string the manifest really has.
    for key in english.keys() - {"$schema"}:
        node: Any = manifest
        for part in re.findall(r"[^.\[\]]+", key):
            node = node[int(part)] if part.isdigit() else node[part]
        assert isinstance(node, str), key


def test_localization_check_is_live(package: Package) -> None:
    validator = jsonschema.Draft4Validator(json.loads(LOCALIZATION_SCHEMA.read_text("utf-8")))
    broken = package.json("en.json")
    broken["bots[0].commandLists[0].commands[0].titel"] = "typo"
    del broken["description.short"]
    assert len(schema_errors(validator, broken)) == 2


def test_web_application_info_only_with_the_web_login(tmp_path: Path) -> None:
    settings = make_settings(MICROSOFT_CLIENT_ID=CLIENT_ID, MICROSOFT_CLIENT_SECRET="s3cret")
    manifest = open_package(build_manifest_package(settings, tmp_path / "a.zip")).json(
        "manifest.json"
    )
    assert manifest["webApplicationInfo"] == {
        "id": CLIENT_ID,
        "resource": f"api://tickets.example.com/{CLIENT_ID}",
    }
    validator = jsonschema.Draft4Validator(json.loads(MANIFEST_SCHEMA.read_text("utf-8")))
    assert schema_errors(validator, manifest) == []


def test_public_url_with_a_path_and_long_host(tmp_path: Path) -> None:
    host = "helpdesk-tickets.intranet.example.com"
    settings = make_settings(PUBLIC_URL=f"https://{host}/chamados/", BOT_NAME="Suporte TI")
    manifest = open_package(build_manifest_package(settings, tmp_path / "b.zip")).json(
        "manifest.json"
    )
    assert manifest["validDomains"] == [host]
    assert manifest["developer"]["privacyUrl"] == f"https://{host}/chamados/privacy"
    # The host is longer than the 32 characters Teams allows for the developer name.
    assert manifest["developer"]["name"] == "Suporte TI"
    assert manifest["name"]["short"] == "Suporte TI"


def test_default_output_is_tickets_app_zip_in_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    path = build_manifest_package(make_settings())
    assert path == tmp_path / "tickets-app.zip"
    assert set(open_package(path).files) == PACKAGE_FILES
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tickets-app.zip"]


def test_same_settings_give_the_same_bytes(tmp_path: Path) -> None:
    first = build_manifest_package(make_settings(), tmp_path / "one.zip").read_bytes()
    second = build_manifest_package(make_settings(), tmp_path / "two.zip").read_bytes()
    assert first == second


@pytest.mark.parametrize(
    ("overrides", "setting"),
    [
        # Without an app id a PUBLIC_URL is refused by the settings themselves (an open bot).
        ({"MICROSOFT_APP_ID": "", "PUBLIC_URL": ""}, "MICROSOFT_APP_ID"),
        ({"MICROSOFT_APP_ID": "my-bot"}, "MICROSOFT_APP_ID"),
        ({"PUBLIC_URL": ""}, "PUBLIC_URL"),
        ({"PUBLIC_URL": "http://tickets.example.com"}, "PUBLIC_URL"),
        ({"BOT_NAME": "Central de Chamados da Empresa X"}, "BOT_NAME"),
        ({"MICROSOFT_CLIENT_ID": "web-app", "MICROSOFT_CLIENT_SECRET": "s"}, "MICROSOFT_CLIENT_ID"),
    ],
)
def test_bad_settings_raise_one_line_and_write_nothing(
    tmp_path: Path, overrides: dict[str, str], setting: str
) -> None:
    out = tmp_path / "out" / "tickets-app.zip"
    with pytest.raises(ManifestConfigError) as caught:
        build_manifest_package(make_settings(**overrides), out)
    message = str(caught.value)
    assert message.startswith(f"{setting}: ")
    assert "\n" not in message
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


# --- icons -------------------------------------------------------------------------------------


def test_color_icon_is_192_opaque_on_the_accent_colour(package: Package) -> None:
    image = read_png(package.files["color.png"])
    assert (image.width, image.height) == (192, 192)
    pixels = rgba(image)
    assert all(p[3] == 255 for p in pixels)
    accent = package.json("manifest.json")["accentColor"]
    accent_rgb = tuple(int(accent[i : i + 2], 16) for i in (1, 3, 5))
    for corner in (0, 191, 191 * 192, 192 * 192 - 1):
        assert pixels[corner][:3] == accent_rgb
    assert (255, 255, 255, 255) in pixels, "the glyph is white"
    assert len({p[:3] for p in pixels}) > 2, "edges are anti-aliased"


def test_outline_icon_is_32_white_on_transparent(package: Package) -> None:
    image = read_png(package.files["outline.png"])
    assert (image.width, image.height) == (32, 32)
    assert image.color_type == 6, "needs a real alpha channel"
    pixels = rgba(image)
    assert {p[:3] for p in pixels if p[3] > 0} == {(255, 255, 255)}
    alphas = [p[3] for p in pixels]
    assert alphas[0] == alphas[31] == alphas[-1] == alphas[-32] == 0, "corners are transparent"
    assert alphas.count(255) > 200, "the glyph is solid white"
    assert alphas.count(0) > 200, "the background is transparent"


def test_committed_icons_are_what_make_icons_draws(package: Package, tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, str(MANIFEST_DIR / "make_icons.py"), "--out", str(tmp_path)],
        check=True,
        capture_output=True,
        timeout=60,
    )
    for name in ("color.png", "outline.png"):
        drawn = read_png((tmp_path / name).read_bytes())
        assert drawn == read_png((MANIFEST_DIR / name).read_bytes()), f"{name} is stale"
        assert package.files[name] == (MANIFEST_DIR / name).read_bytes()


# --- Microsoft's own validator -----------------------------------------------------------------


def run_validator(*files: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["node", str(VALIDATOR), *map(str, files)],
        cwd=ROOT,
        env={**os.environ, "NODE_PATH": str(NODE_MODULES)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_microsoft_validator_accepts_the_manifest(package: Package, tmp_path: Path) -> None:
    path = tmp_path / "manifest.json"
    path.write_bytes(package.files["manifest.json"])
    result = run_validator(path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == f"{path}: valid"


def test_microsoft_validator_rejects_a_broken_copy(package: Package, tmp_path: Path) -> None:
    broken = package.json("manifest.json")
    broken["id"] = "not-a-guid"
    broken["bots"][0]["scopes"] = ["groupchat"]
    broken["name"]["short"] = "x" * 31
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(broken), "utf-8")
    result = run_validator(path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"{path}: /id must match pattern" in result.stdout
    assert f"{path}: /bots/0/scopes/0 must be equal to one of the allowed values" in result.stdout
    assert f"{path}: /name/short must NOT have more than 30 characters" in result.stdout
    assert result.stdout.strip().endswith("3 schema error(s)")


def test_microsoft_validator_refuses_a_schema_it_would_download(tmp_path: Path) -> None:
    path = tmp_path / "elsewhere.json"
    path.write_text(json.dumps({"$schema": "https://example.com/schema.json"}), "utf-8")
    result = run_validator(path)
    assert result.returncode == 2
    assert "is not bundled offline" in result.stdout


def test_every_manifest_command_is_understood_by_the_bot() -> None:
    from bot.commands import Command, parse_command

    commands = manifest_commands()
    assert len(commands) == 6
    understood = {title: parse_command(title) for title, _language in commands}
    assert None not in understood.values(), understood
    # Each language offers the same three things.
    by_language: dict[str, set[Command | None]] = {}
    for title, language in commands:
        by_language.setdefault(language, set()).add(understood[title])
    assert all(found == set(Command) for found in by_language.values()), by_language
