"""The notebook path in a real Jupyter kernel (nbclient + ipykernel), as a learner runs it.

Generated notebooks are executed cell by cell in a real kernel, from their own folder (the
`notebooks/` that `grader notebooks` writes). The last cell, `check("exNN")`, must report the
score that `grader check` gives on the same folder.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from grader.checking.notebooks import check_cell, notebook_to_source, write_notebooks
from grader.course.exercises import EXERCISES, PROJECT_ROOT

nbclient = pytest.importorskip("nbclient", reason="the test extra installs nbclient and ipykernel")
ANSI = re.compile(r"\x1b\[[0-9;]*m")
SCORE = re.compile(r"public checks: ([\d.]+)/([\d.]+) points")


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(PROJECT_ROOT), *filter(None, [env.get("PYTHONPATH")])])
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    return env


def _notebooks(source: str, tmp_path: Path, names: tuple[str, ...]) -> Path:
    """The notebooks of `names` (from exercises/ or solutions/), alone in a `notebooks/` folder."""
    lessons = tmp_path / "lessons"
    lessons.mkdir()
    for exercise in EXERCISES:
        if exercise.id in names:
            shutil.copy(PROJECT_ROOT / source / exercise.filename, lessons / exercise.filename)
    out = tmp_path / "notebooks"
    write_notebooks(lessons, out)
    return out


def _execute(path: Path, allow_errors: bool = False) -> nbformat.NotebookNode:
    nb = nbformat.read(str(path), as_version=4)
    client = nbclient.NotebookClient(nb, timeout=240, kernel_name="python3", allow_errors=allow_errors,
                                     resources={"metadata": {"path": str(path.parent)}})
    old = dict(os.environ)
    os.environ.update(_env())  # the kernel inherits our environment
    try:
        client.execute()
    finally:
        os.environ.clear()
        os.environ.update(old)
    return nb


def _text(cell: nbformat.NotebookNode) -> str:
    return ANSI.sub("", "".join(o.get("text", "") for o in cell.get("outputs", []) if o.output_type == "stream"))


def _errors(nb: nbformat.NotebookNode) -> list[str]:
    return [o.ename for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs
            if o.output_type == "error"]


def _cli_points(folder: Path, exercise: str) -> tuple[float, float, str]:
    """`grader check EX --json` run in `folder` with no --dir: (points, max_points, status)."""
    done = subprocess.run([sys.executable, "-m", "grader.cli.main", "check", exercise, "--json"], cwd=folder,
                          env=_env(), capture_output=True, text=True, timeout=300)
    assert done.returncode in (0, 1), done.stderr[-2000:]
    [result] = json.loads(done.stdout)["exercises"]
    return result["points"], result["max_points"], result["status"]


def _last_cell_points(nb: nbformat.NotebookNode) -> tuple[float, float, str]:
    last = nb.cells[-1]
    assert last.source == check_cell(last.source.split('"')[1])
    text = _text(last)
    match = SCORE.search(text)
    assert match, f"the check cell printed no score:\n{text}"
    return float(match.group(1)), float(match.group(2)), text


def test_solution_notebook_scores_in_a_kernel_what_grader_check_gives(tmp_path: Path) -> None:
    folder = _notebooks("solutions", tmp_path, ("ex03",))
    nb = _execute(folder / "ex03_activations.ipynb")
    assert _errors(nb) == []
    points, max_points, text = _last_cell_points(nb)
    cli_points, cli_max, status = _cli_points(folder, "ex03")
    assert (points, max_points) == (cli_points, cli_max) and status == "passed"
    assert "note:" not in text, "our own generated lines must not produce notes"
    assert "sigmoid [[" in _text(nb.cells[-3]), "the try-it (__main__) cell runs in Jupyter"


def test_stub_notebook_stops_only_at_unwritten_functions_and_says_not_attempted(tmp_path: Path) -> None:
    folder = _notebooks("exercises", tmp_path, ("ex01",))
    nb = _execute(folder / "ex01_tensors.ipynb", allow_errors=True)
    assert set(_errors(nb)) == {"NotImplementedError"}, _errors(nb)
    points, max_points, text = _last_cell_points(nb)
    assert (points, max_points, "not attempted" in text) == (*_cli_points(folder, "ex01")[:2], True)
    assert points == 0 and max_points > 0


def test_ex07_notebook_imports_the_ex06_notebook_in_jupyter(tmp_path: Path) -> None:
    folder = _notebooks("solutions", tmp_path, ("ex06", "ex07"))
    assert not list(folder.glob("*.py")), "the import must come from the ex06 notebook itself"
    nb = _execute(folder / "ex07_gradient_descent.ipynb")
    assert _errors(nb) == [], "the import of ex06 and the __main__ cell (no __file__ in Jupyter) must work"
    assert "training accuracy" in "".join(_text(c) for c in nb.cells)
    points, max_points, _ = _last_cell_points(nb)
    cli_points, cli_max, status = _cli_points(folder, "ex07")
    assert (points, max_points) == (cli_points, cli_max) and status == "passed"


def test_generated_lines_leave_no_notes_and_never_reach_the_graded_source(tmp_path: Path) -> None:
    """`grader check --dir nb/` said "skipped IPython line" for the generator's own last cell."""
    written = write_notebooks(PROJECT_ROOT / "solutions", tmp_path)
    assert len(written) == len(EXERCISES)
    for path in written:
        source, notes = notebook_to_source(path)
        assert notes == [], (path.name, notes)
        assert "from grader import" not in source and "check(" not in source, path.name
    ex07 = nbformat.read(str(tmp_path / "ex07_gradient_descent.ipynb"), as_version=4)
    assert any("notebook_imports()" in c.source for c in ex07.cells if c.cell_type == "code")
    # a learner's own shell line is still reported
    ex07.cells.append(nbformat.v4.new_code_cell("!pip install numpy"))
    nbformat.write(ex07, str(tmp_path / "ex07_gradient_descent.ipynb"))
    _, notes = notebook_to_source(tmp_path / "ex07_gradient_descent.ipynb")
    assert notes == [f"skipped IPython line 1 of cell {len(ex07.cells)}: !pip install numpy"]


def test_check_from_a_folder_without_exercises_says_what_to_do(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "grader.cli.main", "check", "ex03"], cwd=tmp_path,
                          env=_env(), capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "--dir" in done.stderr and "notebooks" in done.stderr
