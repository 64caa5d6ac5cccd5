"""Where a run's inputs came from: the bench file's and the specs' hashes, the project's revision."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

from hil.results.store import sha256_file


def file_sha256(path: str | Path) -> str | None:
    """SHA-256 of a file, or None when it cannot be read (the run then says so by a null)."""
    try:
        return sha256_file(path)
    except OSError:
        return None


def tree_sha256(directory: str | Path) -> str | None:
    """SHA-256 over every file under ``directory``: each one's relative path and content hash, sorted,
    so a renamed, added, removed or edited file changes it and nothing else does."""
    root = Path(directory)
    if not root.is_dir():
        return None
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        digest.update(f"{path.relative_to(root).as_posix()}\0{sha256_file(path)}\n".encode())
    return digest.hexdigest()


def git_revision(directory: str | Path) -> str | None:
    """The commit checked out in ``directory``, or None outside a git checkout."""
    try:
        done = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=directory, capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() or None if done.returncode == 0 else None
