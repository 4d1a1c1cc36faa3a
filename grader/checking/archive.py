"""Unpack a learner's zip safely: every check happens before a byte is written.

Zips are untrusted archives. :func:`extract_zip` refuses, before writing a byte,
any archive with absolute or ``..`` paths, links or special files, encrypted
members, more than :data:`MAX_ZIP_ENTRIES` entries or more than
:data:`MAX_ZIP_BYTES` uncompressed; while writing it counts the real bytes
(declared sizes can lie) and never writes outside the destination folder.

Caps come before work: ``zipfile.ZipFile`` reads and parses the whole central directory
when it opens an archive (2 million entries cost 990 MiB and 31 s), so
:func:`central_directory` first reads the End Of Central Directory record itself, the
same way ``zipfile`` finds it, and the archive is refused when it declares more than
:data:`MAX_ZIP_ENTRIES` entries or a central directory over
:data:`MAX_CENTRAL_DIRECTORY_BYTES` (which bounds what ``zipfile`` then parses, whatever
count the record claims). Member names in messages are made inert and shortened.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import struct
import zipfile
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from grader.checking.inert import shown_name

__all__ = ["UnsafeSubmission", "extract_zip", "central_directory", "MAX_ZIP_ENTRIES", "MAX_ZIP_BYTES",
           "MAX_CENTRAL_DIRECTORY_BYTES"]

MAX_ZIP_ENTRIES = 200
MAX_ZIP_BYTES = 50 * 1024 * 1024
# 200 entries with names of up to ~1 KiB each; a central directory entry is 46 bytes + name + extras.
MAX_CENTRAL_DIRECTORY_BYTES = 256 * 1024

_EOCD = struct.Struct("<4s4H2LH")  # signature, disks, entries here, entries total, size, offset, comment
_EOCD64_LOCATOR = struct.Struct("<4sLQL")
_EOCD64 = struct.Struct("<4sQ2H2L4Q")


class UnsafeSubmission(Exception):
    """A learner entry that is not graded; the message is the gradebook's reason."""


def _eocd64(stream: BinaryIO, eocd_at: int, entries: int, size: int) -> tuple[int, int]:
    """The Zip64 record's (entries, central directory size), if one sits before the EOCD."""
    if eocd_at < _EOCD64_LOCATOR.size + _EOCD64.size:
        return entries, size
    stream.seek(eocd_at - _EOCD64_LOCATOR.size)
    locator = stream.read(_EOCD64_LOCATOR.size)
    if len(locator) != _EOCD64_LOCATOR.size or locator[:4] != b"PK\x06\x07":
        return entries, size
    stream.seek(eocd_at - _EOCD64_LOCATOR.size - _EOCD64.size)
    record = stream.read(_EOCD64.size)
    if len(record) != _EOCD64.size or record[:4] != b"PK\x06\x06":
        return entries, size
    fields = _EOCD64.unpack(record)
    return fields[7], fields[8]


def central_directory(stream: BinaryIO) -> tuple[int, int]:
    """(entries, central directory bytes) as the End Of Central Directory record declares them.

    Reads at most the last 64 KiB + 22 bytes (and the 76 bytes of a Zip64 record), and finds
    the record where ``zipfile`` does: at the very end, else the last signature in that window.
    """
    stream.seek(0, os.SEEK_END)
    file_size = stream.tell()
    if file_size < _EOCD.size:
        raise UnsafeSubmission("the zip file could not be read (it is not a zip file)")
    stream.seek(file_size - _EOCD.size)
    tail = stream.read(_EOCD.size)
    if tail[:4] == b"PK\x05\x06" and tail[-2:] == b"\0\0":
        at, record = file_size - _EOCD.size, tail
    else:
        window_start = max(file_size - (1 << 16) - _EOCD.size, 0)
        stream.seek(window_start)
        window = stream.read()
        found = window.rfind(b"PK\x05\x06")
        record = window[found:found + _EOCD.size] if found >= 0 else b""
        if len(record) != _EOCD.size:
            raise UnsafeSubmission("the zip file could not be read (it is not a zip file)")
        at = window_start + found
    fields = _EOCD.unpack(record)
    return _eocd64(stream, at, fields[4], fields[5])


def _check_declared(zip_path: Path) -> None:
    """Refuse, from the End Of Central Directory record alone, an archive too big to list."""
    try:
        with open(zip_path, "rb") as stream:
            entries, size = central_directory(stream)
    except (OSError, struct.error) as exc:
        raise UnsafeSubmission(f"the zip file could not be read ({exc})") from None
    if entries > MAX_ZIP_ENTRIES:
        raise UnsafeSubmission(f"the zip has {entries} entries (at most {MAX_ZIP_ENTRIES} allowed)")
    if size > MAX_CENTRAL_DIRECTORY_BYTES:
        raise UnsafeSubmission(f"the zip's list of files takes {size // 1024} KiB (at most "
                               f"{MAX_CENTRAL_DIRECTORY_BYTES // 1024} KiB allowed); was it zipped "
                               "with a folder of data or many files inside?")


def _member_parts(info: zipfile.ZipInfo) -> tuple[str, ...]:
    name = info.filename.replace("\\", "/")
    if name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        raise UnsafeSubmission(f"the zip holds an absolute path ({shown_name(info.filename)}); "
                               "it was not unpacked")
    parts = tuple(p for p in PurePosixPath(name).parts if p not in ("", "."))
    if ".." in parts:
        raise UnsafeSubmission(f"the zip holds a path that leaves its folder ({shown_name(info.filename)}); "
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
            raise UnsafeSubmission(f"the zip holds a link ({shown_name(info.filename)}); "
                                   "it was not unpacked")
        if stat.S_IFMT(mode) not in (0, stat.S_IFREG, stat.S_IFDIR):
            raise UnsafeSubmission(f"the zip holds a special file ({shown_name(info.filename)}); "
                                   "it was not unpacked")
        if info.flag_bits & 0x1:
            raise UnsafeSubmission("the zip is password-protected")
        if parts and parts[0] != "__MACOSX":
            members.append((info, parts))
    return members


def extract_zip(zip_path: Path, dest: Path) -> Path:
    """Unpack `zip_path` into `dest` (created, must not exist) after checking it; return `dest`."""
    _check_declared(zip_path)
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
                    raise UnsafeSubmission(f"the zip path {shown_name(info.filename)} leaves its folder")
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
