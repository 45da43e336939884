"""Reading a PDF as a person would, with poppler's command-line tools (Debian
poppler-utils, installed by scripts/ensure-services.sh): its text, and page 1 as pixels."""
from __future__ import annotations

import subprocess
from pathlib import Path

from PIL import Image, ImageStat


def text(pdf: bytes, tmp_path: Path, *, layout: bool = True) -> str:
    """pdftotext's reading of the whole document (layout: as laid out; else column by
    column, so a wrapped cell reads as consecutive lines)."""
    source = tmp_path / "report.pdf"
    source.write_bytes(pdf)
    command = ["pdftotext", *(["-layout"] if layout else []), str(source), "-"]
    return subprocess.run(command, check=True, capture_output=True, timeout=60).stdout.decode()


def first_page(pdf: bytes, tmp_path: Path) -> Image.Image:
    """Page 1 rendered by pdftoppm at 50 dpi."""
    source = tmp_path / "page.pdf"
    source.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-png", "-r", "50", "-f", "1", "-l", "1", str(source),
                    str(tmp_path / "page")], check=True, capture_output=True, timeout=60)
    (png,) = tmp_path.glob("page-*1.png")
    return Image.open(png)


def is_blank(image: Image.Image) -> bool:
    """True when a page is (nearly) one colour."""
    return max(ImageStat.Stat(image.convert("L")).stddev) < 5
