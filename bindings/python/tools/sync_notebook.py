#!/usr/bin/env python3
"""Writes Examples/python/quickstart.ipynb from Examples/python/quickstart.py, so the two never drift:
the module docstring becomes the first markdown cell, each `# %% Title` line a markdown heading followed by
a code cell holding the code up to the next marker. tests/test_examples.py checks the notebook is current.

    python3 bindings/python/tools/sync_notebook.py [--check]
"""
import argparse
import ast
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
SCRIPT = ROOT / "Examples/python/quickstart.py"
NOTEBOOK = ROOT / "Examples/python/quickstart.ipynb"


def _lines(text: str) -> list[str]:
    lines = text.splitlines(keepends=True)
    if lines:
        lines[-1] = lines[-1].rstrip("\n")
    return lines


def notebook_of(script: str) -> dict:
    module = ast.parse(script)
    doc = ast.get_docstring(module) or ""
    body = script.split("\n")
    first = module.body[0].end_lineno if doc else 0                   # the line after the docstring
    cells = [{"cell_type": "markdown", "metadata": {}, "source": _lines("# LEADER quickstart\n\n" + doc)}]
    title, code = None, []

    def flush():
        if title is None:
            return
        cells.append({"cell_type": "markdown", "metadata": {}, "source": _lines(f"## {title}")})
        cells.append({"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
                      "source": _lines("\n".join(code).strip("\n"))})

    for line in body[first:]:
        if line.startswith("# %%"):
            flush()
            title, code = line[4:].strip() or "…", []
        else:
            code.append(line)
    flush()
    return {"cells": cells, "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python",
                                                        "name": "python3"},
                                         "language_info": {"name": "python"}},
            "nbformat": 4, "nbformat_minor": 5}


def render(script: str) -> str:
    nb = notebook_of(script)
    for i, cell in enumerate(nb["cells"]):
        cell["id"] = f"cell-{i}"
    return json.dumps(nb, indent=1, ensure_ascii=False) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="exit 1 when the notebook is not current")
    args = ap.parse_args(argv)
    text = render(SCRIPT.read_text())
    if args.check:
        current = NOTEBOOK.exists() and NOTEBOOK.read_text() == text
        print("quickstart.ipynb is current" if current else "quickstart.ipynb is stale: run sync_notebook.py")
        return 0 if current else 1
    NOTEBOOK.write_text(text)
    print(f"wrote {NOTEBOOK}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
