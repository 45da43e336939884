"""Draw the portal's app icons (static/icons/): an SVG and the PNG sizes a manifest needs.

Run `.venv/bin/python scripts/make_app_icons.py` after changing the mark or its colours;
the PNGs are committed, so nothing is drawn at request time.
"""
from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

OUT = Path(__file__).resolve().parents[1] / "static" / "icons"
BLUE, WHITE = "#0172ad", "#ffffff"  # Pico's primary (light scheme) and the mark
# The "M" mark on a 100×100 grid: two legs and a V, drawn as one closed outline.
MARK = [(22, 76), (22, 26), (34, 26), (50, 50), (66, 26), (78, 26), (78, 76), (67, 76),
        (67, 45), (50, 70), (33, 45), (33, 76)]
SUPERSAMPLE = 4  # draw large, then scale down: smooth edges without an SVG renderer


def _png(size: int, *, rounded: bool, inset: float) -> Image.Image:
    """The mark on blue; `inset` shrinks the mark into a maskable icon's safe zone."""
    big = size * SUPERSAMPLE
    image = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    radius = big * 0.18 if rounded else 0
    draw.rounded_rectangle((0, 0, big - 1, big - 1), radius=radius, fill=BLUE)
    scale, offset = big * (1 - 2 * inset) / 100, big * inset
    draw.polygon([(offset + x * scale, offset + y * scale) for x, y in MARK], fill=WHITE)
    return image.resize((size, size), Image.LANCZOS)


def _svg() -> str:
    points = " ".join(f"{x},{y}" for x, y in MARK)
    return ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 100">'
            f'<rect width="100" height="100" rx="18" fill="{BLUE}"/>'
            f'<polygon points="{points}" fill="{WHITE}"/></svg>\n')


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    _png(192, rounded=True, inset=0).save(OUT / "icon-192.png", optimize=True)
    _png(512, rounded=True, inset=0).save(OUT / "icon-512.png", optimize=True)
    # Maskable: full bleed (the platform cuts the shape), mark inside the 80 % safe zone.
    _png(512, rounded=False, inset=0.12).save(OUT / "icon-maskable-512.png", optimize=True)
    # iOS rounds the corners itself and shows transparency as black: full bleed, opaque.
    _png(180, rounded=False, inset=0).convert("RGB").save(OUT / "apple-touch-icon.png",
                                                         optimize=True)
    (OUT / "icon.svg").write_text(_svg())


if __name__ == "__main__":
    main()
