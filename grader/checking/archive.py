"""Unpack a learner's zip safely: every check happens before a byte is written.

Zips are untrusted archives. :func:`extract_zip` refuses, before writing a byte,
any archive with absolute or ``..`` paths, links or special files, encrypted
members, more than :data:`MAX_ZIP_ENTRIES` entries or more than
:data:`MAX_ZIP_BYTES` uncompressed; while writing it counts the real bytes
(declared sizes can lie) and never writes outside the destination folder.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import zipfile
from pathlib import Path, PurePosixPath

__all__ = ["UnsafeSubmission", "extract_zip", "MAX_ZIP_ENTRIES", "MAX_ZIP_BYTES"]

MAX_ZIP_ENTRIES = 200
MAX_ZIP_BYTES = 50 * 1024 * 1024


class UnsafeSubmission(Exception):
    """A learner entry that is not graded; the message is the gradebook's reason."""


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
