"""Build the Teams app package (manifest.json, localization files, icons) from `manifest/`."""

from __future__ import annotations

import importlib.metadata
import json
import os
import re
import tempfile
import zipfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from tickets.settings import Settings

TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "manifest"
DEFAULT_OUT = Path("tickets-app.zip")
DISTRIBUTION = "tickets-for-teams"
ICONS = ("color.png", "outline.png")

_GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
_TOKEN = re.compile(r"\{\{([A-Z_]+)\}\}")
_RELEASE = re.compile(r"^(\d+)\.(\d+)(?:\.(\d+))?")
# Zip entries get a fixed timestamp so the same settings always give the same bytes.
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
_SHORT_NAME_MAX = 30
_DEVELOPER_NAME_MAX = 32


class ManifestConfigError(Exception):
    """The settings cannot make a valid Teams app package; the message names the setting."""


def build_manifest_package(settings: Settings, out: Path | None = None) -> Path:
    """Fill the manifest template from settings and write the Teams app zip; return its path."""
    values = _template_values(settings)
    manifest = _fill(_read_json(TEMPLATE_DIR / "manifest.json"), values)
    installed = _installed_version()
    if installed:
        manifest["version"] = installed
    if settings.MICROSOFT_CLIENT_ID:
        # Teams SSO asks Entra for a token to this resource; it must be the web login's app.
        manifest["webApplicationInfo"] = {
            "id": settings.MICROSOFT_CLIENT_ID,
            "resource": f"api://{values['PUBLIC_HOST']}/{settings.MICROSOFT_CLIENT_ID}",
        }

    files: dict[str, bytes] = {"manifest.json": _dump(manifest)}
    for _tag, name in _additional_languages(manifest):
        files[name] = _dump(_fill(_read_json(TEMPLATE_DIR / "localization" / name), values))
    for icon in ICONS:
        files[icon] = _read_bytes(TEMPLATE_DIR / icon)

    target = (out or DEFAULT_OUT).resolve()
    _write_zip(target, files)
    return target


def manifest_commands() -> list[tuple[str, str]]:
    """List (command title, language) for every bot command in the manifest and its translations."""
    manifest = _read_json(TEMPLATE_DIR / "manifest.json")
    default_tag = manifest["localizationInfo"]["defaultLanguageTag"]
    commands = [
        (command["title"], _locale(default_tag))
        for command_list in manifest["bots"][0]["commandLists"]
        for command in command_list["commands"]
    ]
    for tag, name in _additional_languages(manifest):
        strings = _read_json(TEMPLATE_DIR / "localization" / name)
        commands += [
            (text, _locale(tag))
            for key, text in strings.items()
            if key.startswith("bots[") and key.endswith(".title")
        ]
    return commands


def manifest_message_actions() -> list[tuple[str, str, str]]:
    """List (command id, title, language) for every message action, in each language."""
    manifest = _read_json(TEMPLATE_DIR / "manifest.json")
    default_tag = manifest["localizationInfo"]["defaultLanguageTag"]
    # Teams allows one compose extension; translations address its commands by position.
    commands = [
        (index, command)
        for extension in manifest.get("composeExtensions", [])[:1]
        for index, command in enumerate(extension["commands"])
        if command.get("type") == "action" and "message" in command.get("context", [])
    ]
    actions = [(command["id"], command["title"], _locale(default_tag)) for _, command in commands]
    for tag, name in _additional_languages(manifest):
        strings = _read_json(TEMPLATE_DIR / "localization" / name)
        for index, command in commands:
            title = strings.get(f"composeExtensions[0].commands[{index}].title", command["title"])
            actions.append((command["id"], title, _locale(tag)))
    return actions


def _template_values(settings: Settings) -> dict[str, str]:
    """Check the settings the package needs and turn them into template token values."""
    app_id = settings.MICROSOFT_APP_ID.strip()
    if not app_id:
        raise ManifestConfigError(
            "MICROSOFT_APP_ID: required to build the Teams app package (the bot's Entra app id)"
        )
    if not _GUID.match(app_id):
        raise ManifestConfigError(f"MICROSOFT_APP_ID: must be a GUID (got {app_id!r})")
    client_id = settings.MICROSOFT_CLIENT_ID
    if client_id and not _GUID.match(client_id):
        raise ManifestConfigError(f"MICROSOFT_CLIENT_ID: must be a GUID (got {client_id!r})")
    public_url = settings.PUBLIC_URL.rstrip("/")
    if not public_url:
        raise ManifestConfigError(
            "PUBLIC_URL: required to build the Teams app package (the service's public https URL)"
        )
    parts = urlsplit(public_url)
    if parts.scheme != "https" or not parts.hostname:
        raise ManifestConfigError(
            f"PUBLIC_URL: Teams needs a public https:// URL (got {public_url!r})"
        )
    bot_name = settings.BOT_NAME.strip()
    if not bot_name or len(bot_name) > _SHORT_NAME_MAX:
        raise ManifestConfigError(
            f"BOT_NAME: must be 1 to {_SHORT_NAME_MAX} characters for Teams (got {bot_name!r})"
        )
    host = parts.hostname
    return {
        "APP_ID": app_id,
        "BOT_NAME": bot_name,
        "PUBLIC_URL": public_url,
        "PUBLIC_HOST": host,
        # The developer is whoever runs this service; its host names it best when it fits.
        "DEVELOPER_NAME": host if len(host) <= _DEVELOPER_NAME_MAX else bot_name,
    }


def _fill(node: Any, values: dict[str, str]) -> Any:
    """Replace {{TOKEN}}s inside the string values of parsed JSON (never in the raw text)."""
    if isinstance(node, dict):
        return {key: _fill(value, values) for key, value in node.items()}
    if isinstance(node, list):
        return [_fill(item, values) for item in node]
    if isinstance(node, str):
        return _TOKEN.sub(lambda match: _value(match.group(1), values), node)
    return node


def _value(token: str, values: dict[str, str]) -> str:
    """Look a template token up; an unknown one is a bug in the template."""
    try:
        return values[token]
    except KeyError:
        raise ManifestConfigError(f"manifest template: unknown placeholder {token!r}") from None


def _additional_languages(manifest: dict[str, Any]) -> list[tuple[str, str]]:
    """Return (language tag, file name) for each translation the manifest declares."""
    info = manifest.get("localizationInfo", {})
    return [(item["languageTag"], item["file"]) for item in info.get("additionalLanguages", [])]


def _locale(tag: str) -> str:
    """Spell a manifest language tag the way the app names locales ('pt-br' -> 'pt-BR')."""
    language, _, region = tag.partition("-")
    return f"{language.lower()}-{region.upper()}" if region else language.lower()


def _installed_version() -> str | None:
    """Return the installed package's release as Teams semver (X.Y.Z), if it is installed."""
    try:
        version = importlib.metadata.version(DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        return None
    match = _RELEASE.match(version)
    if not match:
        return None
    major, minor, patch = match.groups()
    # Teams accepts only plain X.Y.Z, so pre-release and local suffixes are dropped.
    return f"{int(major)}.{int(minor)}.{int(patch or 0)}"


def _read_json(path: Path) -> Any:
    """Load a template JSON file, turning a missing file into a one-line error."""
    return json.loads(_read_bytes(path).decode("utf-8"))


def _read_bytes(path: Path) -> bytes:
    """Read a template file, turning a missing file into a one-line error."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise ManifestConfigError(f"manifest template: {path} is missing") from None


def _dump(document: Any) -> bytes:
    """Serialise JSON as UTF-8 without a BOM, the way Teams reads package files."""
    return (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def _write_zip(target: Path, files: dict[str, bytes]) -> None:
    """Write the package atomically, every file at the zip root."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=".tickets-app-", suffix=".zip", dir=target.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle, zipfile.ZipFile(handle, "w") as archive:
            for name, data in files.items():
                info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                archive.writestr(info, data)
        tmp.replace(target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
