"""Screenshots of a page at desktop and phone width for a person to look at, checking on the way
that nothing scrolls sideways at 390 px."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

WIDTHS = (1280, 390)


def shots_folder(variable: str, default: str) -> Path:
    folder = Path(os.environ.get(variable, default))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def screenshots(page: Any, folder: Path, name: str) -> list[Path]:
    """`name`-1280.png and `name`-390.png in `folder`; fails if the page is wider than 390 px."""
    paths = []
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        path = folder / f"{name}-{width}.png"
        page.screenshot(path=str(path), full_page=True)
        paths.append(path)
        if width == 390:
            scroll = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
            assert scroll <= 0, f"{name} scrolls sideways by {scroll} px at 390 px"
    page.set_viewport_size({"width": 1280, "height": 900})
    return paths
