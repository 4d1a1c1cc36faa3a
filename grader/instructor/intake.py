"""Find the learners in a SUBMISSIONS folder, hash their work, unpack zips safely.

One entry per learner: a folder or a ``.zip`` named after the learner. Anything
else (a stray file, a link) is still a learner entry, marked as junk with a
reason, so it becomes a row in the gradebook instead of stopping the batch.

Zips are unpacked by :mod:`grader.checking.archive`, which refuses unsafe ones.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from grader.checking.archive import MAX_ZIP_BYTES, MAX_ZIP_ENTRIES, UnsafeSubmission, extract_zip

__all__ = [
    "LearnerEntry",
    "UnsafeSubmission",
    "discover",
    "sanitise_learner_id",
    "extract_zip",
    "content_hash",
    "MAX_ZIP_ENTRIES",
    "MAX_ZIP_BYTES",
    "RESERVED_NAMES",
]

MAX_HASHED_FILE_BYTES = 8 * 1024 * 1024
# Names in OUT that belong to the batch, never to a learner.
RESERVED_NAMES = frozenset({"grades.csv", "summary.json", "summary.png"})

_UNSAFE_CHARS = re.compile(r"[^\w.-]+")


@dataclass(frozen=True)
class LearnerEntry:
    """One learner: the id (a safe folder name), their entry, and its kind."""

    learner: str
    path: Path
    kind: str  # "folder" | "zip" | "junk"
    reason: str = ""


def sanitise_learner_id(name: str) -> str:
    """A folder name that is safe in OUT and in a spreadsheet cell."""
    if name.lower().endswith(".zip"):
        name = name[:-4]
    cleaned = _UNSAFE_CHARS.sub("_", name).strip("_")
    cleaned = re.sub(r"^[.\-]+", "_", cleaned)[:100] or "learner"
    if cleaned.lower() in RESERVED_NAMES:
        cleaned += "_"
    return cleaned


def discover(submissions: Path) -> list[LearnerEntry]:
    """Every learner entry under `submissions`, sorted by learner id (ids made unique)."""
    entries: list[LearnerEntry] = []
    taken: set[str] = set()
    for path in sorted(submissions.iterdir(), key=lambda p: p.name):
        if path.name.startswith(".") or path.name == "__MACOSX":
            continue  # .DS_Store, editor files: not learners
        base = sanitise_learner_id(path.name)
        learner, n = base, 1
        while learner.lower() in taken:
            n += 1
            learner = f"{base}-{n}"
        taken.add(learner.lower())
        if path.is_symlink():
            entries.append(LearnerEntry(learner, path, "junk", "the entry is a link, not a folder or a .zip"))
        elif path.is_dir():
            entries.append(LearnerEntry(learner, path, "folder"))
        elif path.is_file() and path.name.lower().endswith(".zip"):
            entries.append(LearnerEntry(learner, path, "zip"))
        else:
            entries.append(LearnerEntry(learner, path, "junk", "not a folder or a .zip file"))
    return sorted(entries, key=lambda e: (e.learner.casefold(), e.learner))


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
            for path in sorted(_relevant_files(entry.path)):
                digest.update(str(path.relative_to(entry.path)).encode() + b"\0")
                _hash_file(digest, path)
                digest.update(b"\0")
        else:
            digest.update(entry.reason.encode())
    except OSError as exc:
        digest.update(f"unreadable:{exc}".encode())
    return digest.hexdigest()


def _relevant_files(folder: Path) -> list[Path]:
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
