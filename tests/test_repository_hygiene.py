"""The checkout itself: no tracked text file holds what an unfinished merge leaves.

A conflict left in a file that is never imported (RESULTS.md, a JSON config, a
shell script) breaks nothing that runs, so no other test sees it.
"""

import pathlib
import shutil
import subprocess

import pytest

REPO = pathlib.Path(__file__).resolve().parents[1]
# What git writes around a conflict (`||||||| ` only in the diff3 style).
OPENING, BASE, CLOSING = "<<<<<<< ", "||||||| ", ">>>>>>> "
SEPARATOR = "======="
# A line of "=" under a line of text is a setext heading in these formats.
SETEXT_SUFFIXES = (".md", ".markdown", ".rst", ".txt")


def tracked_files():
    """Paths (relative to the repository root) of every file git tracks; skips the
    test where this is no git checkout."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    listing = subprocess.run(["git", "-C", str(REPO), "ls-files", "-z"],
                             capture_output=True, check=False)
    if listing.returncode != 0:
        pytest.skip(f"{REPO} is not a git checkout: {listing.stderr.decode(errors='replace')}")
    return [name for name in listing.stdout.decode("utf-8").split("\0") if name]


def conflict_lines(name, text):
    """[(line number, line)] of the conflict markers in `text`, the file `name`."""
    found = []
    lines = text.splitlines()
    setext = name.lower().endswith(SETEXT_SUFFIXES)
    for number, line in enumerate(lines, 1):
        if line.startswith((OPENING, BASE, CLOSING)):
            found.append((number, line))
        elif line == SEPARATOR:
            above = lines[number - 2] if number > 1 else ""
            heading = setext and above.strip() and not above.startswith(
                (OPENING, BASE, CLOSING))
            if not heading:
                found.append((number, line))
    return found


def test_conflict_lines_finds_markers_and_spares_headings():
    conflict = "a\n<<<<<<< HEAD\nours\n=======\ntheirs\n>>>>>>> branch\nb\n"
    assert conflict_lines("x.py", conflict) == [
        (2, "<<<<<<< HEAD"), (4, "======="), (6, ">>>>>>> branch")]
    # In Markdown the separator right under text is a heading, but the other markers are
    # still found; right under an opening marker it is a conflict again.
    assert conflict_lines("x.md", conflict) == [(2, "<<<<<<< HEAD"), (6, ">>>>>>> branch")]
    assert conflict_lines("x.md", "<<<<<<< HEAD\n=======\n") == [
        (1, "<<<<<<< HEAD"), (2, "=======")]
    assert conflict_lines("x.md", "Title\n=======\n\n=======\n") == [(4, "=======")]
    assert conflict_lines("x.py", "x = 1  # =======\n    =======\n") == []


def test_no_tracked_text_file_holds_conflict_markers():
    files = tracked_files()
    assert files, "git ls-files listed nothing"
    problems = []
    for name in files:
        path = REPO / name
        if not path.is_file() or path.is_symlink():
            continue  # Deleted in the work tree, or a link: nothing of its own to read.
        data = path.read_bytes()
        if b"\0" in data:
            continue  # Binary.
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            continue
        problems.extend(f"{name}:{number}: {line}"
                        for number, line in conflict_lines(name, text))
    assert not problems, "merge-conflict markers left in tracked files:\n" + "\n".join(
        problems)
