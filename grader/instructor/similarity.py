"""Similar submissions, flagged for a person to look at and never judged: scores do not change.

Per exercise, among the learners whose file differs from the stub:

- **identical**: the same normalised source (comments, blank lines, layout and docstrings gone);
- **near**: token fingerprints as in MOSS (Schleimer, Wilkerson, Aiken 2003, "Winnowing"):
  identifiers, strings and numbers are normalised (a renamed variable changes nothing), every
  ``K`` consecutive tokens are hashed, and the smallest hash of every ``W`` consecutive hashes
  is kept. The stub's own fingerprints are removed first, so the lesson text every learner
  starts from never counts; so are fingerprints that most of a class of 4 or more shares (the
  one obvious way to write a small exercise). A pair is listed when the smaller of the two keeps
  at least ``MIN_FINGERPRINTS`` fingerprints of its own and shares ``NEAR_SHARE`` of them.

Identical code is listed whenever it holds ``MIN_FINGERPRINTS`` of its own beyond the stub, even
when much of the class handed in the same: one group, for a person to judge.

``summary.json`` ``"similarity"``: ``[{"exercise", "kind", "learners": [str], "share": 0..1,
"shared": int}]``, identical groups first, then near pairs by share.
"""

from __future__ import annotations

import hashlib
import io
import keyword
import tokenize
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["SimilarGroup", "find_similar", "fingerprints", "normalised_tokens", "learner_sources",
           "class_similarity", "write_similarity", "read_similarity", "SIMILARITY_NAME",
           "K", "W", "MIN_FINGERPRINTS", "NEAR_SHARE"]

SIMILARITY_NAME = "similarity.json"
K = 6  # tokens per fingerprinted k-gram
W = 4  # window of the winnowing
MIN_FINGERPRINTS = 6  # a learner's own fingerprints needed before any pair is listed
NEAR_SHARE = 0.6  # share of the smaller side's own fingerprints found in the other
_SKIP = {tokenize.COMMENT, tokenize.NL, tokenize.ENCODING, tokenize.ENDMARKER}


@dataclass(frozen=True)
class SimilarGroup:
    """Learners whose work on one exercise looks alike; for a person to look at."""

    exercise: str
    kind: str  # "identical" | "near"
    learners: tuple[str, ...]
    share: float  # 0..1: shared fingerprints / the smaller side's own (1.0 when identical)
    shared: int  # fingerprints in common, the stub's excluded

    def to_dict(self) -> dict[str, Any]:
        return {"exercise": self.exercise, "kind": self.kind, "learners": list(self.learners),
                "share": self.share, "shared": self.shared}


def _raw_tokens(source: str) -> list[tokenize.TokenInfo]:
    tokens: list[tokenize.TokenInfo] = []
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            tokens.append(token)
    except (tokenize.TokenError, IndentationError, SyntaxError, ValueError):
        pass  # a learner's file that does not tokenise to the end: compare what did
    return tokens


def normalised_tokens(source: str, rename: bool = True) -> list[str]:
    """The tokens of `source` without comments, layout or docstrings; with `rename`, every
    identifier that is not a keyword or an attribute becomes ``V``, strings ``S``, numbers ``N``."""
    out: list[str] = []
    previous = tokenize.NEWLINE
    kept: list[tokenize.TokenInfo] = [t for t in _raw_tokens(source) if t.type not in _SKIP]
    skip_newline = False
    for index, token in enumerate(kept):
        after = kept[index + 1].type if index + 1 < len(kept) else tokenize.NEWLINE
        if skip_newline and token.type == tokenize.NEWLINE:
            skip_newline = False
            continue  # the end of a dropped docstring's line
        skip_newline = False
        if (token.type == tokenize.STRING and previous in (tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT)
                and after in (tokenize.NEWLINE, tokenize.DEDENT)):
            skip_newline = True
            continue  # a docstring, or a bare string statement (`previous` stays: the line is gone)
        previous = token.type
        if token.type in (tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT):
            out.append(tokenize.tok_name[token.type][0])  # "N", "I", "D": structure, not layout
        elif not rename:
            out.append(token.string)
        elif token.type == tokenize.NAME:
            attribute = bool(out) and out[-1] == "."
            out.append(token.string if keyword.iskeyword(token.string) or attribute else "V")
        elif token.type == tokenize.STRING:
            out.append("S")
        elif token.type == tokenize.NUMBER:
            out.append("0")
        else:
            out.append(token.string)
    while out and out[-1] in ("N", "D"):
        out.pop()
    return out


def fingerprints(source: str, k: int = K, w: int = W) -> set[int]:
    """The winnowed fingerprints of `source`'s normalised tokens."""
    tokens = normalised_tokens(source)
    hashes = [int.from_bytes(hashlib.blake2b("\x1f".join(tokens[i:i + k]).encode(), digest_size=8)
                             .digest(), "big") for i in range(len(tokens) - k + 1)]
    if len(hashes) <= w:
        return set(hashes)
    chosen: set[int] = set()
    for start in range(len(hashes) - w + 1):
        window = hashes[start:start + w]
        chosen.add(min(window))
    return chosen


def _exact_key(source: str) -> str:
    return hashlib.sha256("\x1f".join(normalised_tokens(source, rename=False)).encode()).hexdigest()


def find_similar(sources: dict[str, dict[str, str]], stubs: dict[str, str],
                 exercise_ids: Iterable[str]) -> list[SimilarGroup]:
    """Similar work per exercise. `sources`: learner -> exercise id -> source; `stubs`: exercise -> stub."""
    groups: list[SimilarGroup] = []
    for exercise in exercise_ids:
        stub = stubs.get(exercise, "")
        stub_key, stub_prints = _exact_key(stub), fingerprints(stub)
        own: dict[str, set[int]] = {}
        exact: dict[str, list[str]] = {}
        for learner in sorted(sources):
            source = sources[learner].get(exercise)
            if source is None or _exact_key(source) == stub_key:
                continue  # no file, or the untouched stub
            prints = fingerprints(source) - stub_prints
            if len(prints) < MIN_FINGERPRINTS:
                continue  # too little of their own to compare
            own[learner] = prints
            exact.setdefault(_exact_key(source), []).append(learner)
        pairs_in_groups: set[frozenset[str]] = set()
        for members in exact.values():  # the same code, however common: always worth a look
            if len(members) > 1:
                groups.append(SimilarGroup(exercise, "identical", tuple(members), 1.0, len(own[members[0]])))
                pairs_in_groups.update(frozenset((a, b)) for a in members for b in members if a != b)
        common = _too_common(own)
        own = {learner: prints - common for learner, prints in own.items()}
        near: list[SimilarGroup] = []
        learners = sorted(own)
        for i, a in enumerate(learners):
            for b in learners[i + 1:]:
                smaller = min(len(own[a]), len(own[b]))
                if smaller < MIN_FINGERPRINTS or frozenset((a, b)) in pairs_in_groups:
                    continue
                shared = len(own[a] & own[b])
                share = round(shared / smaller, 3)
                if share >= NEAR_SHARE:
                    near.append(SimilarGroup(exercise, "near", (a, b), share, shared))
        groups += sorted(near, key=lambda g: (-g.share, g.learners))
    return groups


def _too_common(own: dict[str, set[int]]) -> set[int]:
    """Fingerprints that more than half of a class of 4 or more share: the one obvious way."""
    if len(own) < 4:
        return set()
    counts: dict[int, int] = {}
    for prints in own.values():
        for value in prints:
            counts[value] = counts.get(value, 0) + 1
    return {value for value, count in counts.items() if count > len(own) / 2}


def learner_sources(path: Path, kind: str, scratch: Path) -> dict[str, str]:
    """Exercise id -> the source that grading read from one learner's folder or zip ({} if none).

    Zips are unpacked (with the batch's checks) into `scratch`, which is removed afterwards.
    """
    import shutil

    from grader.checking.archive import UnsafeSubmission, extract_zip
    from grader.checking.submission import load_submission

    folder = path
    try:
        if kind == "zip":
            folder = extract_zip(path, scratch)
        elif kind != "folder":
            return {}
        return {e: f.source for e, f in load_submission(folder).files.items()}
    except (UnsafeSubmission, OSError, ValueError):
        return {}
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def class_similarity(entries: Iterable[tuple[str, Path, str]], exercise_ids: list[str],
                     scratch: Path) -> list[SimilarGroup]:
    """Similar work in a class: `entries` are (learner id, path, kind) as intake found them."""
    from grader.course.exercises import PROJECT_ROOT, find_exercise

    sources = {learner: learner_sources(path, kind, scratch / "similarity")
               for learner, path, kind in entries}
    stubs: dict[str, str] = {}
    for exercise in exercise_ids:
        try:
            stubs[exercise] = (PROJECT_ROOT / "exercises" / find_exercise(exercise).filename).read_text("utf-8")
        except OSError:
            stubs[exercise] = ""
    return find_similar(sources, stubs, exercise_ids)


def write_similarity(out: Path, groups: list[SimilarGroup]) -> None:
    """OUT/similarity.json: the groups, for summary.json and report.html."""
    import json

    from grader.checking.inert import inert_json
    from grader.instructor.gradebook import atomic_write

    data = inert_json([g.to_dict() for g in groups])
    atomic_write(out / SIMILARITY_NAME, json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def read_similarity(out: Path) -> list[dict[str, Any]]:
    """What :func:`write_similarity` wrote ([] when nothing was)."""
    import json

    try:
        data = json.loads((out / SIMILARITY_NAME).read_text("utf-8"))
    except (OSError, ValueError):
        return []
    return [g for g in data if isinstance(g, dict)] if isinstance(data, list) else []
