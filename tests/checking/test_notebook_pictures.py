"""The lessons' pictures appear in the generated notebooks, executed in a real Jupyter kernel:
the `__main__` cell draws inline (an image/png output), with no file written beside the notebook."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("nbclient", reason="the test extra installs nbclient and ipykernel")

from test_jupyter import _errors, _execute, _notebooks  # noqa: E402


def _pngs(nb) -> list[str]:
    return [o["data"]["image/png"] for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs
            if o.output_type == "display_data" and "image/png" in o.get("data", {})]


def test_ex03_and_ex07_notebooks_show_their_pictures_inline(tmp_path: Path) -> None:
    folder = _notebooks("solutions", tmp_path, ("ex03", "ex06", "ex07"))
    nb = _execute(folder / "ex03_activations.ipynb")
    assert _errors(nb) == []
    assert len(_pngs(nb)) == 1 and len(_pngs(nb)[0]) > 1000, "the activation curves"
    nb = _execute(folder / "ex07_gradient_descent.ipynb")
    assert _errors(nb) == []
    assert len(_pngs(nb)) == 2, "the loss curve and the decision boundary"
    assert not (folder / "pictures").exists(), "inline in Jupyter: no PNG files beside the notebook"
