"""The filesystem view holds wherever Python is installed, including a venv under /tmp.

bubblewrap gives the child a private /tmp; a Python install under /tmp must be bound
on top of it, or the sandbox silently falls back to weaker defences (issue 9, finding 5).
The grader here runs from a real venv made under /tmp, for a spawned child and for one
forked from the warm zygote, and a hostile learner tries to read solutions/ and write
into the host's /tmp.
"""

from __future__ import annotations

import json
import os
import shutil
import site
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import pytest

from grader.course.exercises import PROJECT_ROOT

SCRIPT = r"""
import json, sys
from grader.engine.child import Child
from grader.engine.launch import Limits, Policy, describe_defences
from grader.engine.zygote import close_zygotes
marker, solution = sys.argv[1], sys.argv[2]
source = f'''
import os
def attack():
    found = []
    try:
        found.append(open({solution!r}).read()[:20])
    except OSError as exc:
        found.append("unreadable: " + type(exc).__name__)
    open("/tmp/{marker}", "w").write("learner was here")
    return found
'''
report = {"prefix": sys.prefix, "defences": describe_defences(Policy(isolate=True))}
for warm in (False, True):
    child = Child({"m": {"source": source, "filename": "m.py"}},
                  Policy(isolate=True, warm=warm, limits=Limits(call_timeout_s=20)))
    try:
        report[f"warm={warm}"] = [child.call("m", "attack", tensors=False), list(child.defences)]
    finally:
        child.close()
close_zygotes()
print("REPORT " + json.dumps(report))
"""


def _venv_under_tmp() -> Path:
    """A real venv under /tmp that reaches this interpreter's packages through a .pth file."""
    home = Path(tempfile.mkdtemp(prefix="grader-venv-", dir="/tmp"))
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(home / ".venv")], check=True,
                   timeout=120)
    python = home / ".venv" / "bin" / "python"
    target = subprocess.run([str(python), "-c", "import site; print(site.getsitepackages()[0])"],
                            capture_output=True, text=True, check=True).stdout.strip()
    ours = [p for p in {*site.getsitepackages(), *sys.path} if p.endswith("-packages") and os.path.isdir(p)]
    lines = [f"import site; site.addsitedir({p!r})" for p in sorted(ours)]
    (Path(target) / "outer-packages.pth").write_text("\n".join(lines) + "\n")
    return home


@pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap is not installed")
def test_a_venv_under_tmp_keeps_the_filesystem_view() -> None:
    home = _venv_under_tmp()
    marker = "viewmark" + uuid.uuid4().hex[:10]
    solution = PROJECT_ROOT / "solutions" / "ex03_activations.py"
    assert solution.exists()
    try:
        env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
        env.pop("GRADER_SANDBOX_DISABLE", None)
        done = subprocess.run([str(home / ".venv" / "bin" / "python"), "-c", SCRIPT, marker, str(solution)],
                              capture_output=True, text=True, cwd=PROJECT_ROOT, env=env, timeout=400)
        lines = [line for line in done.stdout.splitlines() if line.startswith("REPORT ")]
        assert lines, done.stderr[-3000:]
        report = json.loads(lines[-1][len("REPORT "):])
        assert report["prefix"].startswith("/tmp/"), report["prefix"]
        active, missing = report["defences"]
        assert "filesystem view (bubblewrap)" in active, missing
        for warm in (False, True):
            found, defences = report[f"warm={warm}"]
            assert found == ["unreadable: FileNotFoundError"], (warm, found)
            assert "filesystem view (bubblewrap)" in defences
        assert not Path("/tmp", marker).exists(), "the learner wrote into the host's /tmp"
    finally:
        Path("/tmp", marker).unlink(missing_ok=True)
        shutil.rmtree(home, ignore_errors=True)
