"""Find the learners in a SUBMISSIONS folder, hash their work, unpack zips safely.

One entry per learner: a folder or a ``.zip`` named after the learner. Anything
else (a stray file, a link) is still a learner entry, marked as junk with a
reason, so it becomes a row in the gradebook instead of stopping the batch.

Zips are untrusted archives. :func:`extract_zip` refuses, before writing a byte,
any archive with absolute or ``..`` paths, links or special files, encrypted
members, more than :data:`MAX_ZIP_ENTRIES` entries or more than
:data:`MAX_ZIP_BYTES` uncompressed; while writing it counts the real bytes
(declared sizes can lie) and never writes outside the destination folder.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

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

MAX_ZIP_ENTRIES = 200
MAX_ZIP_BYTES = 50 * 1024 * 1024
MAX_HASHED_FILE_BYTES = 8 * 1024 * 1024
# Names in OUT that belong to the batch, never to a learner.
RESERVED_NAMES = frozenset({"grades.csv", "summary.json", "summary.png"})

_UNSAFE_CHARS = re.compile(r"[^\w.-]+")


class UnsafeSubmission(Exception):
    """A learner entry that is not graded; the message is the gradebook's reason."""


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


def _member_parts(info: zipfile.ZipInfo) -> tuple[str, ...]:
    name = info.filename.replace("\\", "/")
    if name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        raise UnsafeSubmission(f"the zip holds an absolute path ({info.filename!r}); it was not unpacked")
    parts = tuple(p for p in PurePosixPath(name).parts if p not in ("", "."))
    if ".." in parts:
        raise UnsafeSubmission(f"the zip holds a path that leaves its folder ({info.filename!r}); "
                               "it was not unpacked")
    return parts


def _check_archive(archive: zipfile.ZipFile) -> list[tuple[zipfile.ZipInfo, tuple[str, ...]]]:
    infos = archive.infolist()
    if len(infos) > MAX_ZIP_ENTRIES:
        raise UnsafeSubmission(f"the zip has {len(infos)} entries (at most {MAX_ZIP_ENTRIES} allowed)")
    declared = sum(i.file_size for i in infos)
    if declared > MAX_ZIP_BYTES:
        raise UnsafeSubmission(f"the zip unpacks to {declared // (1024 * 1024)} MB "
                               f"(at most {MAX_ZIP_BYTES // (1024 * 1024)} MB allowed)")
    members = []
    for info in infos:
        parts = _member_parts(info)
        mode = info.external_attr >> 16
        if stat.S_ISLNK(mode):
            raise UnsafeSubmission(f"the zip holds a link ({info.filename!r}); it was not unpacked")
        if stat.S_IFMT(mode) not in (0, stat.S_IFREG, stat.S_IFDIR):
            raise UnsafeSubmission(f"the zip holds a special file ({info.filename!r}); it was not unpacked")
        if info.flag_bits & 0x1:
            raise UnsafeSubmission("the zip is password-protected")
        if parts and parts[0] != "__MACOSX":
            members.append((info, parts))
    return members


def extract_zip(zip_path: Path, dest: Path) -> Path:
    """Unpack `zip_path` into `dest` (created, must not exist) after checking it; return `dest`."""
    try:
        archive = zipfile.ZipFile(zip_path)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise UnsafeSubmission(f"the zip file could not be read ({exc})") from None
    dest.mkdir(parents=True)
    root = dest.resolve()
    written = 0
    try:
        with archive:
            for info, parts in _check_archive(archive):
                target = root.joinpath(*parts)
                if not target.resolve().is_relative_to(root):
                    raise UnsafeSubmission(f"the zip path {info.filename!r} leaves its folder")
                if info.is_dir():
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                with archive.open(info) as source, open(target, "xb") as sink:
                    while chunk := source.read(1 << 16):
                        written += len(chunk)
                        if written > MAX_ZIP_BYTES:
                            raise UnsafeSubmission("the zip unpacks to more than "
                                                   f"{MAX_ZIP_BYTES // (1024 * 1024)} MB")
                        sink.write(chunk)
                os.chmod(target, 0o644)
    except UnsafeSubmission:
        shutil.rmtree(dest, ignore_errors=True)
        raise
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError) as exc:
        shutil.rmtree(dest, ignore_errors=True)
        raise UnsafeSubmission(f"the zip file could not be unpacked ({type(exc).__name__}: {exc})") from None
    return dest
