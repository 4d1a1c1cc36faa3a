"""The Dask worker's side of ``grader grade --scheduler/--cluster``: a warm zygote and the task.

This module runs inside Dask worker processes (it is imported there by name, so every
worker needs the same grader installed). It never writes OUT or the journal: a task
gets a learner's submission as bytes and returns the result as plain data.

- :class:`ZygotePlugin` starts the worker's warm zygote in ``setup`` (once per worker,
  and again on a worker that the nanny restarted). ``setup`` runs on the worker's
  event-loop thread, the process's main thread, so the zygote's parent-death signal
  (bubblewrap's ``--die-with-parent``, ``PR_SET_PDEATHSIG`` in the zygote) fires only
  when the worker process itself dies, even on SIGKILL, when ``teardown`` never runs.
  Learner children live in the zygote's PID namespace and die with it.
- :func:`grade_payload` unpacks a payload from :func:`pack_job` into a private temporary
  folder, runs :func:`grader.checking.job.grade_learner` there and returns
  :func:`result_payload`.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from dataclasses import replace
from pathlib import Path, PurePosixPath
from typing import Any

from distributed import WorkerPlugin

from grader.checking.job import GradeJob, LearnerResult, grade_learner, grading_policy, kill_active_children
from grader.engine.zygote import close_zygotes, warm_zygote

__all__ = ["ZygotePlugin", "grade_payload", "pack_job", "result_payload",
           "MAX_PAYLOAD_BYTES", "worker_identity", "active_defences"]

# The most bytes of one learner's work sent to a worker (the local path reads at most this too:
# zips are refused above archive.MAX_ZIP_BYTES, .py/.ipynb files are small).
MAX_PAYLOAD_BYTES = 64 * 1024 * 1024


class ZygotePlugin(WorkerPlugin):
    """A Dask worker plugin that starts the worker's warm zygote and stops it with the worker."""

    idempotent = True  # a second batch with the same options keeps the warm zygotes

    def __init__(self, call_timeout_s: float | None = None, memory_mb: int | None = None) -> None:
        self.call_timeout_s, self.memory_mb = call_timeout_s, memory_mb
        # One plugin, hence one zygote, per sandbox policy: the zygote is keyed by the policy.
        self.name = f"grader-zygote-{call_timeout_s}-{memory_mb}"

    def setup(self, worker: Any = None) -> None:
        os.environ.setdefault("MPLBACKEND", "Agg")
        warm_zygote(grading_policy(self.call_timeout_s, self.memory_mb))

    def teardown(self, worker: Any = None) -> None:
        kill_active_children()
        close_zygotes()

    def __dask_tokenize__(self) -> tuple[Any, ...]:
        return (self.name, self.call_timeout_s, self.memory_mb)


def _safe_relative(name: str) -> PurePosixPath:
    path = PurePosixPath(name)
    if path.is_absolute() or not path.parts or any(p in ("..", ".", "") for p in path.parts):
        raise ValueError(f"unsafe file name in a payload: {name!r}")
    return path


def pack_job(job: GradeJob) -> dict[str, Any]:
    """The job as plain data plus the learner's bytes (read here, on the client)."""
    from grader.instructor.intake import relevant_files

    payload: dict[str, Any] = {"job": {f: getattr(job, f) for f in GradeJob.__dataclass_fields__},
                               "name": Path(job.path).name, "files": {}, "problem": ""}
    files: dict[str, bytes] = {}
    try:
        if job.kind == "zip":
            files[""] = Path(job.path).read_bytes()[:MAX_PAYLOAD_BYTES + 1]
        elif job.kind == "folder":
            for path in sorted(relevant_files(Path(job.path))):
                files[path.relative_to(job.path).as_posix()] = path.read_bytes()
    except OSError as exc:
        payload["problem"] = f"the submission could not be read ({exc.strerror or exc})"
        files = {}
    if sum(len(b) for b in files.values()) > MAX_PAYLOAD_BYTES:
        payload["problem"] = f"the submission is larger than {MAX_PAYLOAD_BYTES >> 20} MB"
        files = {}
    payload["files"] = files
    return payload


def result_payload(result: LearnerResult) -> dict[str, Any]:
    """The result as plain data; exact times travel too, so the record is the local path's."""
    return {"record": result.to_dict(), "started": result.started, "finished": result.finished,
            "grader_version": result.grader_version}


def result_from_payload(data: dict[str, Any]) -> LearnerResult:
    result = LearnerResult.from_dict(data["record"])
    return replace(result, started=float(data["started"]), finished=float(data["finished"]),
                   grader_version=str(data["grader_version"]))


def grade_payload(payload: dict[str, Any]) -> dict[str, Any]:
    """Grade one learner from its bytes in a private folder of this worker; plain data out."""
    fields = dict(payload["job"])
    fields["exercises"] = tuple(fields["exercises"])
    home = Path(tempfile.mkdtemp(prefix="grader-dask-"))
    try:
        entry = home / "in" / payload["name"]
        entry.parent.mkdir()
        if payload.get("problem"):
            fields.update(kind="junk", reason=payload["problem"])
        elif fields["kind"] == "zip":
            entry.write_bytes(payload["files"][""])
        elif fields["kind"] == "folder":
            entry.mkdir()
            for name, data in payload["files"].items():
                target = entry / _safe_relative(name)
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
        job = GradeJob(**{**fields, "path": str(entry), "work_dir": str(home / "work")})
        return result_payload(grade_learner(job))
    finally:
        shutil.rmtree(home, ignore_errors=True)


def worker_identity(exercise_ids: tuple[str, ...] = ()) -> dict[str, str]:
    """What must match between client and worker: the grader's version, and a sha256 of its code,
    checks and reference solutions (a worker with other hidden checks would grade differently)."""
    from grader import __version__
    from grader.course.exercises import PROJECT_ROOT

    files = [p for p in (PROJECT_ROOT / "grader").rglob("*")
             if p.suffix in (".py", ".json", ".ini") and "__pycache__" not in p.parts and p.is_file()]
    files += sorted((PROJECT_ROOT / "solutions").glob("*.py"))
    digest = hashlib.sha256(f"grader {__version__}\0".encode())
    for path in sorted(set(files)):
        digest.update(str(path.relative_to(PROJECT_ROOT)).encode() + b"\0" + path.read_bytes() + b"\0")
    return {"grader": __version__, "checks": digest.hexdigest()}


def active_defences() -> list[str]:
    """The sandbox defences this machine gives a learner's child (as `grader grade` lists them)."""
    from grader.engine.launch import describe_defences
    from grader.engine.policy import Policy

    return sorted(describe_defences(Policy(isolate=True))[0])
