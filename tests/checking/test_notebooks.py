"""grader.checking.notebooks: lesson files to valid notebooks, and notebooks back to Python source."""

from __future__ import annotations

import ast
from pathlib import Path

import nbformat
import pytest

from grader.checking.notebooks import (
    NotebookError,
    check_cell,
    exercise_to_notebook,
    notebook_to_source,
    write_notebooks,
)

ROOT = Path(__file__).resolve().parents[2]
LESSONS = sorted((ROOT / "exercises").glob("ex*.py")) + sorted((ROOT / "solutions").glob("ex*.py"))


def _functions(source: str) -> dict[str, str]:
    """Top-level function name -> its AST dump (no line numbers): equal dumps, same code."""
    tree = ast.parse(source)
    return {n.name: ast.dump(n) for n in tree.body if isinstance(n, ast.FunctionDef)}


def _save(nb: nbformat.NotebookNode, path: Path) -> Path:
    nbformat.write(nb, str(path))
    return path


def test_ex08_is_among_the_lessons() -> None:
    names = {p.name for p in LESSONS}
    assert {"ex08_mnist_mlp.py"} <= names


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_lesson_becomes_a_valid_notebook_that_round_trips(lesson: Path, tmp_path: Path) -> None:
    nb = exercise_to_notebook(lesson)
    nbformat.validate(nb)
    kinds = [cell.cell_type for cell in nb.cells]
    assert kinds[0] == "markdown" and nb.cells[0].source.startswith("# ")
    assert kinds.count("markdown") >= 3 and kinds.count("code") >= 2
    assert kinds[-2:] == ["markdown", "code"]
    assert nb.cells[-1].source == check_cell(lesson.name[:4])
    assert all(not cell.source.startswith("# ## ") for cell in nb.cells)
    assert exercise_to_notebook(lesson) == nb, "the same file must give the same notebook"

    source, notes = notebook_to_source(_save(nb, tmp_path / f"{lesson.stem}.ipynb"))
    original = _functions(lesson.read_text())
    assert original, "a lesson defines functions"
    assert _functions(source) == original  # same names, same bodies: the same functions
    assert notes == [], "the generator's own lines are not the learner's: no notes"
    compile(source, str(lesson), "exec")


def test_section_comments_become_markdown(tmp_path: Path) -> None:
    lesson = tmp_path / "ex42_demo.py"
    lesson.write_text(
        '"""Exercise 42: a demo.\n\nIt teaches nothing.\n"""\n\n'
        "from __future__ import annotations\n\nimport math\n\n"
        "# ## 1. A formula\n# The area is\n#     a = pi * r ** 2\n# for a circle.\n\n\n"
        "def area(r: float) -> float:\n"
        '    """Area of a circle of radius r."""\n'
        "    # a comment inside code stays code\n"
        "    return math.pi * r**2\n"
    )
    nb = exercise_to_notebook(lesson)
    assert [c.cell_type for c in nb.cells] == ["markdown", "code", "markdown", "code"] + [
        "markdown",
        "code",
    ]
    assert nb.cells[0].source == "# Exercise 42: a demo.\n\nIt teaches nothing."
    assert nb.cells[2].source == "## 1. A formula\nThe area is\n\n    a = pi * r ** 2\n\nfor a circle."
    assert "# a comment inside code stays code" in nb.cells[3].source
    assert nb.cells[-1].source == check_cell("ex42")
    (tmp_path / "notes.txt").write_text("not a lesson")
    written = write_notebooks(tmp_path, tmp_path / "out")
    assert written == [tmp_path / "out" / "ex42_demo.ipynb"]
    nbformat.validate(nbformat.read(str(written[0]), as_version=4))
    namespace: dict[str, object] = {}
    exec(notebook_to_source(written[0])[0], namespace)
    assert namespace["area"](1.0) == pytest.approx(3.14159, abs=1e-5)  # type: ignore[operator]


def test_hand_made_notebook_with_magics(tmp_path: Path) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# My work"),
        nbformat.v4.new_code_cell("%matplotlib inline\nimport math"),
        nbformat.v4.new_code_cell("!pip install x\n\ndef f(x):\n    return math.sqrt(x)"),
        nbformat.v4.new_code_cell("%%time\nslow = f(4.0)"),
        nbformat.v4.new_code_cell("from __future__ import annotations\nif True:\n    %time f(1)"),
        nbformat.v4.new_code_cell("x = 10 % 3  # a % inside Python is kept\nprint('!')"),
        nbformat.v4.new_code_cell("   "),
        nbformat.v4.new_code_cell("!grader check ex03"),
    ]
    source, notes = notebook_to_source(_save(nb, tmp_path / "work.ipynb"))
    assert notes == [
        "skipped IPython line 1 of cell 2: %matplotlib inline",
        "skipped IPython line 1 of cell 3: !pip install x",
        "skipped IPython cell magic in cell 4: %%time (whole cell)",
        "skipped IPython line 3 of cell 5: %time f(1)",
    ]  # `!grader check ex03` is a call of the grader, not the learner's code: dropped silently
    assert source.startswith("from __future__ import annotations\n")
    for gone in ("%matplotlib", "pip install", "%%time", "slow =", "grader check"):
        assert gone not in source
    assert "x = 10 % 3  # a % inside Python is kept\nprint('!')" in source
    namespace: dict[str, object] = {}
    exec(compile(source, "work.ipynb", "exec"), namespace)
    assert namespace["f"](9.0) == 3.0  # type: ignore[operator]
    assert namespace["x"] == 1


@pytest.mark.parametrize(
    "content",
    [
        '{"cells": [{"cell_type": "code", "source": "x = 1"',  # truncated save
        "print('a .py file renamed to .ipynb')\n",
        '{"nbformat": 4, "nbformat_minor": 5, "metadata": {}}',  # no cells
        "",
    ],
    ids=["truncated", "python", "no-cells", "empty"],
)
def test_corrupt_notebook_is_a_notebook_error(content: str, tmp_path: Path) -> None:
    path = tmp_path / "ex03_activations.ipynb"
    path.write_text(content)
    with pytest.raises(NotebookError, match=r"ex03_activations\.ipynb") as info:
        notebook_to_source(path)
    assert isinstance(info.value, ValueError)
    assert "save it again" in str(info.value)


def test_missing_notebook_is_a_notebook_error(tmp_path: Path) -> None:
    with pytest.raises(NotebookError, match="could not be opened"):
        notebook_to_source(tmp_path / "nothing.ipynb")
