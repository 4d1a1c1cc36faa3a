"""Lesson files to Jupyter notebooks and back.

`exercise_to_notebook` turns a lesson .py file into an nbformat v4 notebook: the module
docstring becomes the title cell, every `# ## Section` comment block a markdown cell, the
code in between code cells, and a last cell runs `from grader import check; check("exNN")`
from the notebook's own folder. A notebook that imports another exercise (ex07 imports ex06)
gets one line, `notebook_imports()`, so that the import finds the other notebook in Jupyter.
Learners then write their code in the notebook, so `notebook_to_source` reads an .ipynb back
into plain Python for the grader: the lines the generator wrote (and any `grader` call) are
dropped silently; other IPython magics and shell lines are skipped, each with a note.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import nbformat
from nbformat import NotebookNode

__all__ = [
    "IMPORT_LINE",
    "NotebookError",
    "check_cell",
    "exercise_to_notebook",
    "notebook_to_source",
    "write_notebooks",
]

_SECTION = re.compile(r"^# ##\s")
_EXERCISE_FILE = re.compile(r"^ex\d\d_\w+\.py$")
_FUTURE = re.compile(r"^from __future__ import ")
_IMPORTS_EXERCISE = re.compile(r"^(from|import)\s+ex\d\d_\w+")

IMPORT_LINE = (
    "from grader import notebook_imports; notebook_imports()  # lets this notebook import your other notebooks"
)
# Calls of the grader itself: they belong to the learner's Jupyter session, never to the graded code.
_GRADER_LINE = re.compile(
    r"^(from grader import (check|hint|notebook_imports)\b.*"
    r"|(check|hint)\(\s*[\"']ex\d\d[^)]*\)\s*(#.*)?"
    r"|notebook_imports\(\)\s*(#.*)?"
    r"|[!%]\s*grader\b.*)$"
)


def check_cell(exercise_id: str) -> str:
    """The last code cell of a generated notebook: the check, run from the notebook's folder."""
    return f'from grader import check\ncheck("{exercise_id}")'


class NotebookError(ValueError):
    """An .ipynb file that cannot be read as a notebook (message says what to do)."""


def _comment_to_markdown(lines: list[str]) -> str:
    """`# text` lines to markdown; indented runs (formulas) get blank lines around them."""
    out: list[str] = []
    for line in lines:
        text = line[2:] if line.startswith("# ") else line[1:]
        indented = text.startswith("    ") and text.strip() != ""
        was_indented = bool(out) and out[-1].startswith("    ")
        if out and out[-1].strip() and indented != was_indented:
            out.append("")
        out.append(text.rstrip())
    return "\n".join(out).strip("\n")


def _docstring_markdown(docstring: str, fallback_title: str) -> str:
    lines = docstring.strip("\n").splitlines() or [fallback_title]
    body = "\n".join(lines[1:]).strip("\n")
    return f"# {lines[0].strip()}" + (f"\n\n{body}" if body else "")


def _split_blocks(lines: list[str]) -> list[tuple[str, str]]:
    """Split source lines into ("markdown" | "code", text) blocks at `# ## ` comment blocks."""
    blocks: list[tuple[str, list[str]]] = []
    i = 0
    while i < len(lines):
        if _SECTION.match(lines[i]):
            j = i + 1
            while j < len(lines) and lines[j].startswith("#"):
                j += 1
            blocks.append(("markdown", lines[i:j]))
            i = j
        else:
            if not blocks or blocks[-1][0] != "code":
                blocks.append(("code", []))
            blocks[-1][1].append(lines[i])
            i += 1
    result = []
    for kind, block in blocks:
        text = _comment_to_markdown(block) if kind == "markdown" else "\n".join(block).strip("\n")
        if text.strip():
            result.append((kind, text))
    return result


def exercise_to_notebook(path: Path) -> NotebookNode:
    """Turn the lesson file `path` (e.g. exercises/ex08_mnist_mlp.py) into a v4 notebook.

    Cells, in order: the module docstring as a markdown title; then markdown cells for the
    `# ## ...` section comment blocks (without the leading `# `) and code cells for the code
    between them; last, a markdown cell and a code cell running `check("exNN")`, where
    exNN is the first four characters of the file name. Before the first line that imports
    another exercise, `IMPORT_LINE` is added. Cell ids are stable across builds.
    """
    path = Path(path)
    exercise_id = path.name[:4]
    source = path.read_text(encoding="utf-8")
    tree = ast.parse(source, filename=str(path))
    lines = source.splitlines()
    docstring = ast.get_docstring(tree, clean=True)
    cells: list[tuple[str, str]] = []
    if docstring is not None:
        cells.append(("markdown", _docstring_markdown(docstring, path.stem)))
        lines = lines[tree.body[0].end_lineno or 0 :]
    else:
        cells.append(("markdown", f"# {path.stem}"))
    cells.extend(_with_notebook_imports(_split_blocks(lines)))
    cells.append(
        (
            "markdown",
            (
                "## Check your work\n\n"
                "Run the cell below: the grader checks the functions you wrote in this notebook "
                "(save it first) and explains every failure."
            ),
        )
    )
    cells.append(("code", check_cell(exercise_id)))
    nb = nbformat.v4.new_notebook(
        metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
            "language_info": {"name": "python"},
        }
    )
    for index, (kind, text) in enumerate(cells):
        make = nbformat.v4.new_markdown_cell if kind == "markdown" else nbformat.v4.new_code_cell
        nb.cells.append(make(text, id=f"{exercise_id}-{index:03d}"))
    return nb


def _with_notebook_imports(blocks: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Add IMPORT_LINE before the first `from exNN_... import` of the code cells."""
    out = []
    done = False
    for kind, text in blocks:
        if kind == "code" and not done:
            lines = text.splitlines()
            for k, line in enumerate(lines):
                if _IMPORTS_EXERCISE.match(line):
                    lines.insert(k, IMPORT_LINE)
                    text, done = "\n".join(lines), True
                    break
        out.append((kind, text))
    return out


def _read_notebook(path: Path) -> NotebookNode:
    try:
        nb = nbformat.read(str(path), as_version=4)
        cells = list(nb.cells)
        for cell in cells:
            _ = (cell.cell_type, cell.source)
    except OSError as exc:
        raise NotebookError(f"{path.name} could not be opened: {exc}") from exc
    except Exception as exc:  # nbformat raises many kinds of errors for a broken file
        raise NotebookError(
            f"{path.name} is not a Jupyter notebook that can be read ({type(exc).__name__}: "
            f"{str(exc)[:200]}). It may be damaged or only partly saved: open it in Jupyter, "
            "save it again (or use File > Download > .ipynb in Colab) and resubmit it, or "
            "submit the .py file instead."
        ) from exc
    return nb


def _strip_ipython(text: str, cell_number: int, notes: list[str]) -> str:
    """Drop grader calls (silently) and IPython-only lines (`%magic`, `!shell`, with a note)."""
    text = "\n".join("" if _GRADER_LINE.match(line.rstrip()) else line for line in text.splitlines())
    try:
        ast.parse(text)
        return text
    except SyntaxError:
        pass
    out = []
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.lstrip()
        if stripped.startswith(("%", "!")):
            notes.append(f"skipped IPython line {number} of cell {cell_number}: {stripped}")
            indent = line[: len(line) - len(stripped)]
            out.append(f"{indent}pass  # skipped IPython line" if indent else "")
        else:
            out.append(line)
    return "\n".join(out)


def notebook_to_source(path: Path) -> tuple[str, list[str]]:
    """Join the code cells of the notebook `path` into one Python source.

    Result: (source, notes). A cell that starts with a cell magic (`%%time`, ...) is skipped
    whole; in other cells, lines starting with `%` or `!` are skipped. Each skip adds a note
    such as "skipped IPython line 3 of cell 5: !pip install numpy" (lines and cells count
    from 1, markdown cells included). Calls of the grader (`check("ex03")`, `!grader check`,
    the generated import line) are dropped without a note: they are not the learner's
    code. `from __future__` imports are moved to the top.
    Raises NotebookError when the file is not a readable notebook.
    """
    nb = _read_notebook(Path(path))
    notes: list[str] = []
    futures: list[str] = []
    parts: list[str] = []
    for cell_number, cell in enumerate(nb.cells, start=1):
        if cell.cell_type != "code" or not str(cell.source).strip():
            continue
        text = str(cell.source)
        first = text.lstrip().splitlines()[0].strip()
        if first.startswith("%%"):
            notes.append(f"skipped IPython cell magic in cell {cell_number}: {first} (whole cell)")
            continue
        lines = _strip_ipython(text, cell_number, notes).splitlines()
        for k, line in enumerate(lines):
            if _FUTURE.match(line):
                futures.append(line)
                lines[k] = ""
        parts.append(f"# %% cell {cell_number}\n" + "\n".join(lines).rstrip() + "\n")
    source = "".join(f"{line}\n" for line in dict.fromkeys(futures)) + "\n".join(parts)
    return source, notes


def write_notebooks(source_dir: Path, out_dir: Path) -> list[Path]:
    """Write one notebook per `exNN_*.py` file of `source_dir` into `out_dir`; return the paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for path in sorted(Path(source_dir).iterdir()):
        if path.is_file() and _EXERCISE_FILE.match(path.name):
            nb = exercise_to_notebook(path)
            nbformat.validate(nb)
            target = out_dir / f"{path.stem}.ipynb"
            nbformat.write(nb, str(target))
            written.append(target)
    return written
