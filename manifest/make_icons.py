"""Draw the Teams app icons (color.png 192x192, outline.png 32x32) with the standard library only.

Run `python manifest/make_icons.py [--out DIR]`; the glyph is a ticket with side notches and a
perforation, white on the manifest's accentColor (colour icon) or white on transparent (outline).
"""

from __future__ import annotations

import argparse
import json
import math
import struct
import zlib
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
COLOR_SIZE = 192
OUTLINE_SIZE = 32
WHITE = (255, 255, 255)

Sdf = Callable[[float, float], float]


def rounded_box(cx: float, cy: float, hw: float, hh: float, radius: float) -> Sdf:
    """Return the signed distance to a rounded rectangle (negative inside)."""

    def sdf(x: float, y: float) -> float:
        qx = abs(x - cx) - (hw - radius)
        qy = abs(y - cy) - (hh - radius)
        outside = math.hypot(max(qx, 0.0), max(qy, 0.0))
        return outside + min(max(qx, qy), 0.0) - radius

    return sdf


def circle(cx: float, cy: float, radius: float) -> Sdf:
    """Return the signed distance to a disc."""
    return lambda x, y: math.hypot(x - cx, y - cy) - radius


def union(*shapes: Sdf) -> Sdf:
    """Combine shapes."""
    return lambda x, y: min(shape(x, y) for shape in shapes)


def subtract(shape: Sdf, *holes: Sdf) -> Sdf:
    """Cut holes out of a shape."""
    return lambda x, y: max(shape(x, y), *(-hole(x, y) for hole in holes))


def ticket(with_lines: bool) -> Sdf:
    """Build the ticket glyph in a unit box: body, side notches, perforation, text lines."""
    body = rounded_box(0.5, 0.5, 0.5, 0.34, 0.09)
    notches = union(circle(0.0, 0.5, 0.11), circle(1.0, 0.5, 0.11))
    dashes = union(*(rounded_box(0.72, y, 0.028, 0.045, 0.028) for y in (0.26, 0.42, 0.58, 0.74)))
    holes = [notches, dashes]
    if with_lines:
        holes += [rounded_box(0.36, y, 0.2, 0.032, 0.032) for y in (0.4, 0.6)]
    return subtract(body, *holes)


def coverage(shape: Sdf, size: int, left: float, top: float, scale: float) -> list[list[float]]:
    """Sample a unit-box shape on a size x size grid; edges get analytic anti-aliasing."""
    rows = []
    for py in range(size):
        row = []
        for px in range(size):
            # Distance in pixels at the pixel centre; half a pixel either side fades the edge.
            d = shape((px + 0.5 - left) / scale, (py + 0.5 - top) / scale) * scale
            row.append(min(1.0, max(0.0, 0.5 - d)))
        rows.append(row)
    return rows


def png(width: int, height: int, color_type: int, rows: list[bytes]) -> bytes:
    """Encode 8-bit RGB (2) or RGBA (6) scanlines as a PNG file."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, color_type, 0, 0, 0)
    raw = b"".join(b"\x00" + row for row in rows)  # filter type 0 on every scanline
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def parse_hex(color: str) -> tuple[int, int, int]:
    """Turn '#RRGGBB' into an RGB triple."""
    value = color.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def color_icon(accent: tuple[int, int, int]) -> bytes:
    """Draw the full-colour icon: a white ticket on an opaque accent square."""
    # Teams crops the colour icon into a rounded tile, so the glyph stays inside the middle 120 px.
    glyph = 120
    margin = (COLOR_SIZE - glyph) / 2
    cover = coverage(ticket(with_lines=True), COLOR_SIZE, margin, margin, glyph)
    rows = []
    for line in cover:
        row = bytearray()
        for a in line:
            row += bytes(round(bg * (1 - a) + fg * a) for bg, fg in zip(accent, WHITE, strict=True))
        rows.append(bytes(row))
    return png(COLOR_SIZE, COLOR_SIZE, 2, rows)


def outline_icon() -> bytes:
    """Draw the outline icon: the ticket in pure white, transparent everywhere else."""
    glyph = 30
    margin = (OUTLINE_SIZE - glyph) / 2
    cover = coverage(ticket(with_lines=False), OUTLINE_SIZE, margin, margin, glyph)
    # Teams recolours this icon, so only the alpha channel may carry the shape.
    rows = [b"".join(bytes((*WHITE, round(a * 255))) for a in line) for line in cover]
    return png(OUTLINE_SIZE, OUTLINE_SIZE, 6, rows)


def main() -> None:
    """Write color.png and outline.png next to manifest.json (or into --out)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE, help="output directory")
    args = parser.parse_args()
    accent = parse_hex(json.loads((HERE / "manifest.json").read_text("utf-8"))["accentColor"])
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    (out / "color.png").write_bytes(color_icon(accent))
    (out / "outline.png").write_bytes(outline_icon())
    print(f"wrote {out / 'color.png'} and {out / 'outline.png'}")


if __name__ == "__main__":
    main()
