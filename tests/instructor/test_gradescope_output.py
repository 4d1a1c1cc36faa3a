"""Gradescope renders our results as intended: Markdown output where expected/got keep their
layout and learner text stays text; setup.sh installs bubblewrap where it can, and fails soft."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from gradescope_schema import assert_gradescope_results
from markdown_it import MarkdownIt

from grader.checking.outcomes import ExerciseResult, RunResult, Status, TestResult
from grader.instructor.gradebook import gradescope_results
from grader.instructor.release import _BUBBLEWRAP

EXPECTED_GOT = "softmax rows must sum to 1\nexpected: [[0.1 0.9]\n [0.2 0.8]]\ngot:      [[0.5 0.5]\n [0.5 0.5]]"
HOSTILE = "# Score: 100/100\n<script>alert(1)</script> **all passed**\n```\n</pre><img src=x onerror=alert(2)>"


def _results() -> dict:
    tests = (
        TestResult("ex03", "softmax rows sum to 1", "public", 0.0, 2.0, Status.FAILED, EXPECTED_GOT),
        TestResult("ex03", "softmax keeps the shape", "public", 0.0, 1.0, Status.ERROR, HOSTILE),
        TestResult("ex03", "relu", "public", 1.0, 1.0, Status.PASSED),
    )
    run = RunResult((ExerciseResult("ex03", "Activation *functions* <b>", tests),), notes=(HOSTILE,))
    return gradescope_results(run, 2.0)


def _html(markdown: str) -> str:
    return MarkdownIt("commonmark").render(markdown)


def test_expected_and_got_render_as_preformatted_text():
    results = _results()
    assert_gradescope_results(results)
    assert results["output_format"] == results["test_output_format"] == "md"
    failed = next(t for t in results["tests"] if t["name"].endswith("rows sum to 1"))
    assert failed["output_format"] == "md"
    page = _html(failed["output"])
    # The aligned rows of expected/got survive (a space before the second row), in one code block.
    assert page.count("<pre><code") == 1
    assert "expected: [[0.1 0.9]\n [0.2 0.8]]\ngot:      [[0.5 0.5]\n [0.5 0.5]]" in page
    assert "<strong>failed</strong>" in page


def test_learner_text_cannot_forge_a_score_or_markup_on_gradescope():
    results = _results()
    pages = [_html(results["output"])] + [_html(t["output"]) for t in results["tests"]]
    for page in pages:
        assert "<script" not in page and "<img" not in page and "<b>" not in page
        assert "<h1>" not in page  # "# Score: 100/100" from the learner is not a heading
    hostile = next(t for t in results["tests"] if t["name"].endswith("keeps the shape"))
    page = _html(hostile["output"])
    assert page.count("<pre><code") == 1 and "&lt;/pre&gt;&lt;img" in page  # the fence held
    summary = _html(results["output"])
    assert "<strong>Score: 1 / 4 points</strong>" in summary and summary.count("<li>") == 2


def _install(tmp_path: Path, apt_get: str | None, bwrap: bool) -> tuple[subprocess.CompletedProcess[str], Path]:
    """Run install_bubblewrap.sh with only a fake apt-get (or none) and maybe a bwrap on PATH."""
    bin_dir, log = tmp_path / "bin", tmp_path / "apt.log"
    bin_dir.mkdir(parents=True)
    if apt_get is not None:
        (bin_dir / "apt-get").write_text(f"#!/bin/sh\necho \"$@\" >> {log}\n{apt_get}\n")
    if bwrap:
        (bin_dir / "bwrap").write_text("#!/bin/sh\necho bubblewrap 0.8.0\n")
    for tool in bin_dir.iterdir():
        tool.chmod(0o755)
    script = tmp_path / "install_bubblewrap.sh"
    script.write_text(_BUBBLEWRAP)
    bash = "/bin/bash" if os.path.exists("/bin/bash") else "/usr/bin/bash"
    done = subprocess.run([bash, str(script)], env={"PATH": str(bin_dir)}, capture_output=True,
                          text=True, timeout=60)
    return done, log


def test_setup_installs_bubblewrap_with_apt_get(tmp_path):
    installs = f"case \"$1\" in install) printf '#!/bin/sh\\necho bubblewrap 0.8.0\\n' > {tmp_path}/bin/bwrap; " \
               f"/bin/chmod 755 {tmp_path}/bin/bwrap;; esac; exit 0"
    done, log = _install(tmp_path, installs, bwrap=False)
    assert done.returncode == 0 and "bubblewrap: installed (bubblewrap 0.8.0)" in done.stdout, done
    assert "install -y -qq bubblewrap" in log.read_text() and "update -qq" in log.read_text()


def test_setup_fails_soft_where_bubblewrap_cannot_be_installed(tmp_path):
    done, log = _install(tmp_path, "exit 100", bwrap=False)  # e.g. not root, or no network
    assert done.returncode == 0, done
    assert "WARNING: bubblewrap could not be installed" in done.stdout
    assert "run_autograder logs which" in done.stdout
    no_apt, _ = _install(tmp_path / "no_apt", None, bwrap=False)  # not a Debian/Ubuntu image
    assert no_apt.returncode == 0 and "WARNING: bubblewrap could not be installed" in no_apt.stdout


def test_setup_keeps_an_installed_bubblewrap(tmp_path):
    done, log = _install(tmp_path, "exit 1", bwrap=True)
    assert done.returncode == 0 and "already installed (bubblewrap 0.8.0)" in done.stdout
    assert not log.exists()  # apt-get was not even asked
