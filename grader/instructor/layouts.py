"""The layouts learning-management systems download submissions in, read into learners.

- **Moodle** ("Download all submissions"): one folder per learner named
  ``Full Name_12345_assignsubmission_file_`` holding their files (often one ``.zip``), or,
  without "download in folders", flat files ``Full Name_12345_assignsubmission_file_<name>``.
- **Canvas** (bulk download): flat files ``login[_late]_userid_submissionid_<name>``; a file
  uploaded again gets ``-N`` before its extension (``ex02_neuron-1.py``): the highest N wins.
- **Gradescope** ("Export Submissions", unzipped): folders ``submission_<id>/`` and a
  ``submission_metadata.yml`` naming each submission's submitters (``:name:``, ``:sid:``,
  ``:email:``).

:func:`parse_flat` names the learner a flat file belongs to; :func:`latest_files` picks,
for each original file name, the newest upload.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

__all__ = ["FlatFile", "parse_flat", "moodle_folder", "latest_files", "gradescope_submitters",
           "GRADESCOPE_METADATA"]

GRADESCOPE_METADATA = "submission_metadata.yml"
MAX_METADATA_BYTES = 16 * 1024 * 1024

_MOODLE = re.compile(r"^(?P<name>.+?)_(?P<id>\d+)_assignsubmission_(?:file|onlinetext)_(?P<rest>.*)$")
_CANVAS = re.compile(r"^(?P<login>[^_]+(?:_[^_\d][^_]*)*?)(?P<late>_late)?_(?P<userid>\d+)_(?P<sub>\d+)_"
                     r"(?P<rest>.+)$", re.IGNORECASE)
_RESUBMITTED = re.compile(r"^(?P<stem>.+?)-(?P<n>\d+)(?P<suffix>\.[^.]+)?$")


@dataclass(frozen=True)
class FlatFile:
    """One file of a flat LMS download: whose it is and its original name."""

    system: str  # "canvas" | "moodle"
    key: str  # the learner: Canvas login, Moodle "name_id"
    name: str  # the learner's name as the LMS wrote it
    lms_id: str  # Canvas user id, Moodle participant id
    original: str  # the file name the learner uploaded
    late: bool = False
    submission: int = 0


def moodle_folder(name: str) -> tuple[str, str] | None:
    """(learner's name, Moodle id) for a folder ``Full Name_12345_assignsubmission_file_``."""
    match = _MOODLE.match(name)
    if match is None or match["rest"]:
        return None
    return match["name"], match["id"]


def parse_flat(filename: str) -> FlatFile | None:
    """Whose flat LMS file `filename` is, or None when it follows no LMS naming rule."""
    match = _MOODLE.match(filename)
    if match is not None and match["rest"] and not match["rest"].startswith("."):
        key = f"{match['name']}_{match['id']}"
        return FlatFile("moodle", key, match["name"], match["id"], match["rest"])
    match = _CANVAS.match(filename)
    if match is not None and not match["rest"].startswith("."):  # never "..": it names a folder
        return FlatFile("canvas", match["login"].lower(), match["login"], match["userid"], match["rest"],
                        bool(match["late"]), int(match["sub"]))
    return None


def _resubmission(original: str) -> tuple[str, int]:
    """(the name without a ``-N`` resubmission suffix, N); N is 0 for the first upload."""
    match = _RESUBMITTED.match(original)
    if match is None:
        return original, 0
    return match["stem"] + (match["suffix"] or ""), int(match["n"])


def latest_files(files: list[tuple[FlatFile, Path]]) -> dict[str, Path]:
    """Original name -> the newest upload of it (highest -N, then submission id, then mtime)."""
    best: dict[str, tuple[tuple[int, int, int], Path]] = {}
    for flat, path in files:
        name, n = _resubmission(flat.original)
        rank = (n, flat.submission, path.stat().st_mtime_ns)
        if name not in best or rank > best[name][0]:
            best[name] = (rank, path)
    return {name: path for name, (_, path) in sorted(best.items())}


def gradescope_submitters(submissions: Path) -> dict[str, dict[str, str]]:
    """Folder name -> {"name", "sid", "email"} from a Gradescope export's metadata ({} if none)."""
    path = submissions / GRADESCOPE_METADATA
    if not path.is_file() or path.is_symlink() or path.stat().st_size > MAX_METADATA_BYTES:
        return {}
    import yaml

    try:
        data = yaml.safe_load(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return {}
    found: dict[str, dict[str, str]] = {}
    for folder, info in (data.items() if isinstance(data, dict) else ()):
        people = info.get(":submitters") if isinstance(info, dict) else None
        if not isinstance(people, list):
            continue
        people = [p for p in people if isinstance(p, dict)]

        def joined(key: str, people: list[dict[str, object]] = people) -> str:
            return " & ".join(str(p.get(key) or "") for p in people if p.get(key))

        found[str(folder)] = {"name": joined(":name"), "sid": joined(":sid"), "email": joined(":email")}
    return found
