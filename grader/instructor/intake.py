"""Find the learners in a SUBMISSIONS folder, hash their work, unpack zips safely.

One entry per learner: a folder or a ``.zip`` named after the learner; a folder that
holds nothing but one ``.zip`` (Moodle's "download all submissions") is that zip; the
flat files of a Canvas or Moodle bulk download are grouped per learner
(:mod:`grader.instructor.layouts`) and staged, under their original names, in a folder
of OUT. Anything else (a stray file, a link) is still a learner entry, marked as junk
with a reason, so it becomes a row in the gradebook instead of stopping the batch.
Every entry keeps the learner's original name beside the safe id (``roster.json``).

Zips are unpacked by :mod:`grader.checking.archive`, which refuses unsafe ones.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from grader.checking.archive import MAX_ZIP_BYTES, MAX_ZIP_ENTRIES, UnsafeSubmission, extract_zip
from grader.instructor.layouts import (
    GRADESCOPE_METADATA,
    FlatFile,
    gradescope_submitters,
    latest_files,
    moodle_folder,
    parse_flat,
)

__all__ = [
    "LearnerEntry",
    "UnsafeSubmission",
    "discover",
    "relevant_files",
    "sanitise_learner_id",
    "extract_zip",
    "content_hash",
    "MAX_ZIP_ENTRIES",
    "MAX_ZIP_BYTES",
    "RESERVED_NAMES",
    "ROSTER_NAME",
    "write_roster",
    "read_roster",
]

MAX_HASHED_FILE_BYTES = 8 * 1024 * 1024
# Names in OUT that belong to the batch, never to a learner.
RESERVED_NAMES = frozenset({"grades.csv", "summary.json", "summary.png", "report.html", "roster.json",
                            "overrides.csv", "grades.meta.json"})
ROSTER_NAME = "roster.json"

_UNSAFE_CHARS = re.compile(r"[^\w.-]+")


@dataclass(frozen=True)
class LearnerEntry:
    """One learner: the id (a safe folder name), their entry, and its kind."""

    learner: str
    path: Path
    kind: str  # "folder" | "zip" | "junk"
    reason: str = ""
    name: str = ""  # the learner's name as submitted (folder, zip or LMS name), before sanitising
    lms: str = ""  # "canvas" | "moodle" | ""
    lms_id: str = ""  # Canvas user id or Moodle participant id
    login: str = ""  # Canvas login
    late: bool = False
    source: str = ""  # the entry's name in SUBMISSIONS (for flat LMS files: the first file)


def sanitise_learner_id(name: str) -> str:
    """A folder name that is safe in OUT and in a spreadsheet cell."""
    if name.lower().endswith(".zip"):
        name = name[:-4]
    cleaned = _UNSAFE_CHARS.sub("_", name).strip("_")
    cleaned = re.sub(r"^[.\-]+", "_", cleaned)[:100] or "learner"
    if cleaned.lower() in RESERVED_NAMES:
        cleaned += "_"
    return cleaned


def _single_zip(folder: Path) -> Path | None:
    """The one .zip a folder holds when it holds no exercise file beside it (Moodle)."""
    try:
        children = [c for c in folder.iterdir() if not c.name.startswith(".") and c.name != "__MACOSX"]
    except OSError:
        return None
    zips = [c for c in children if c.suffix.lower() == ".zip" and c.is_file() and not c.is_symlink()]
    if len(zips) != 1 or relevant_files(folder):
        return None
    return zips[0]


def _entry(path: Path) -> tuple[str, dict[str, object]]:
    """(display name, fields of LearnerEntry but the id) for one entry of SUBMISSIONS."""
    name = path.name[:-4] if path.name.lower().endswith(".zip") else path.name
    info: dict[str, object] = {"path": path, "kind": "junk", "reason": "not a folder or a .zip file",
                               "source": path.name}
    if path.is_symlink():
        info["reason"] = "the entry is a link, not a folder or a .zip"
        return name, info
    if path.is_dir():
        moodle = moodle_folder(path.name)
        if moodle is not None:
            name = moodle[0]
            info.update(lms="moodle", lms_id=moodle[1])
        inner = _single_zip(path)
        info.update(kind="zip" if inner else "folder", reason="", path=inner or path)
    elif path.is_file() and path.name.lower().endswith(".zip"):
        info.update(kind="zip", reason="")
    return name, info


def _stage(group: list[tuple[FlatFile, Path]], folder: Path) -> tuple[str, Path]:
    """(kind, path) of one learner's flat files: their one zip, or a folder of their files."""
    latest = latest_files(group)
    if len(latest) == 1 and next(iter(latest)).lower().endswith(".zip"):
        return "zip", next(iter(latest.values()))
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for original, source in latest.items():
        if Path(original).suffix.lower() not in (".py", ".ipynb", ".zip") \
                or source.stat().st_size > MAX_ZIP_BYTES:
            continue  # never graded: not copied (a video, a 2 GB upload)
        shutil.copy2(source, folder / original)  # keeps the upload's time for the newer-file rule
    return "folder", folder


def discover(submissions: Path, staging: Path | None = None) -> list[LearnerEntry]:
    """Every learner entry under `submissions`, sorted by learner id (ids made unique).

    Flat LMS files are grouped per learner and copied under their original names into
    `staging`/<learner> (a fresh temporary folder when `staging` is None).
    """
    found: list[tuple[str, dict[str, object]]] = []
    groups: dict[tuple[str, str], list[tuple[FlatFile, Path]]] = {}
    gradescope = gradescope_submitters(submissions)
    for path in sorted(submissions.iterdir(), key=lambda p: p.name):
        if path.name.startswith(".") or path.name == "__MACOSX":
            continue  # .DS_Store, editor files: not learners
        if gradescope and path.name == GRADESCOPE_METADATA:
            continue
        if path.name in gradescope and gradescope[path.name]["name"]:
            people = gradescope[path.name]
            fields = _entry(path)[1] | {"lms": "gradescope", "lms_id": people["sid"], "login": people["email"]}
            found.append((people["name"], fields))
            continue
        flat = parse_flat(path.name) if path.is_file() and not path.is_symlink() else None
        if flat is not None:
            groups.setdefault((flat.system, flat.key), []).append((flat, path))
        else:
            found.append(_entry(path))
    for (system, _), group in groups.items():
        first = group[0][0]
        info: dict[str, object] = {"lms": system, "lms_id": first.lms_id, "group": group,
                                   "login": first.name if system == "canvas" else "",
                                   "late": any(f.late for f, _ in group), "source": group[0][1].name}
        found.append((first.name, info))
    if groups and staging is None:
        staging = Path(tempfile.mkdtemp(prefix="grader-intake-"))
    entries: list[LearnerEntry] = []
    taken: set[str] = set()
    for name, info in sorted(found, key=lambda f: (f[0], str(f[1].get("path", "")))):
        base = sanitise_learner_id(name)
        learner, n = base, 1
        while learner.lower() in taken:
            n += 1
            learner = f"{base}-{n}"
        taken.add(learner.lower())
        flat_files: Any = info.pop("group", None)
        if flat_files is not None:
            assert staging is not None
            try:
                info["kind"], info["path"] = _stage(flat_files, staging / learner)
            except OSError as exc:
                info.update(kind="junk", path=flat_files[0][1],
                            reason=f"the files could not be gathered ({exc.strerror or exc})")
        entries.append(LearnerEntry(learner=learner, name=name, **info))  # type: ignore[arg-type]
    return sorted(entries, key=lambda e: (e.learner.casefold(), e.learner))


def write_roster(out: Path, entries: list[LearnerEntry]) -> None:
    """OUT/roster.json: learner id -> original name, LMS ids, and where the work came from."""
    from grader.instructor.gradebook import atomic_write

    roster = {e.learner: {k: v for k, v in asdict(e).items() if k not in ("learner", "path")}
              for e in entries}
    atomic_write(out / ROSTER_NAME, json.dumps(roster, indent=2, ensure_ascii=False) + "\n")


def read_roster(out: Path) -> dict[str, dict[str, object]]:
    """The roster written by the last batch on `out` ({} when there is none)."""
    try:
        data = json.loads((out / ROSTER_NAME).read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _hash_file(digest: hashlib._Hash, path: Path) -> None:
    info = path.stat()
    if info.st_size > MAX_HASHED_FILE_BYTES:
        digest.update(f"large:{info.st_size}:{info.st_mtime_ns}".encode())
        return
    with path.open("rb") as stream:
        while chunk := stream.read(1 << 20):
            digest.update(chunk)


def content_hash(entry: LearnerEntry) -> str:
    """sha256 of what grading reads: the zip's bytes, or a folder's .py/.ipynb files."""
    digest = hashlib.sha256(f"{entry.kind}\0".encode())
    try:
        if entry.kind == "zip":
            _hash_file(digest, entry.path)
        elif entry.kind == "folder":
            for path in sorted(relevant_files(entry.path)):
                digest.update(str(path.relative_to(entry.path)).encode() + b"\0")
                _hash_file(digest, path)
                digest.update(b"\0")
        else:
            digest.update(entry.reason.encode())
    except OSError as exc:
        digest.update(f"unreadable:{exc}".encode())
    return digest.hexdigest()


def relevant_files(folder: Path) -> list[Path]:
    """The files `load_submission` may read: .py/.ipynb at most one folder deep, no links."""
    found: list[Path] = []
    for child in folder.iterdir():
        if child.is_symlink():
            continue
        if child.is_file() and child.suffix in (".py", ".ipynb"):
            found.append(child)
        elif child.is_dir():
            found += [p for p in child.iterdir()
                      if p.suffix in (".py", ".ipynb") and p.is_file() and not p.is_symlink()]
    return found
