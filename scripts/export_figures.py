#!/usr/bin/env python3
"""Writes every figure of executed notebooks as PNG files, with an index a repository reader
can browse (GitHub renders it): OUT/README.md, and OUT/<notebook>/<n>.png.

Usage: export_figures.py EXECUTED_DIR OUT_DIR
EXECUTED_DIR holds executed notebooks (scripts/book.sh leaves them in build/book/jupyter_execute).
Each figure is listed under the last heading above the cell that drew it.
"""

import base64
import pathlib
import re
import shutil
import sys

import nbformat


def export(executed: pathlib.Path, out: pathlib.Path) -> int:
    notebooks = sorted(executed.rglob("*.ipynb"))
    if not notebooks:
        raise SystemExit(f"export_figures.py: no executed notebooks under {executed}")
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    index = [
        "# The lessons' figures",
        "",
        "Every figure of the notebooks in `notebooks/`, from one full-mode run of",
        "`scripts/book.sh --export` (see the README for why they are kept here rather than as",
        "notebook outputs). Measured times are this machine's at that run; rerun to refresh.",
        "",
    ]
    count = 0
    for path in notebooks:
        nb = nbformat.read(path, as_version=4)
        title = next(
            (
                re.sub(r"^#\s*", "", c.source.splitlines()[0])
                for c in nb.cells
                if c.cell_type == "markdown" and c.source.startswith("# ")
            ),
            path.stem,
        )
        index += [f"## {title}", "", f"Notebook: [`{path.name}`](../{path.name})", ""]
        heading, k = None, 0
        for cell in nb.cells:
            if cell.cell_type == "markdown":
                for line in cell.source.splitlines():
                    if line.startswith("## ") or line.startswith("### "):
                        heading = line.lstrip("#").strip()
                continue
            for output in cell.get("outputs", []):
                png = output.get("data", {}).get("image/png")
                if not png:
                    continue
                k += 1
                name = f"{path.stem}/{k:02d}.png"
                (out / path.stem).mkdir(exist_ok=True)
                (out / name).write_bytes(base64.b64decode(png))
                index += [f"**{heading or title}**", "", f"![{heading or title}]({name})", ""]
        count += k
    (out / "README.md").write_text("\n".join(index) + "\n", encoding="utf-8")
    print(f"exported {count} figures from {len(notebooks)} notebooks into {out}")
    return count


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    export(pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]))
