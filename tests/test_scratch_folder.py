"""``files.scratch_folder``: a run's scratch folder, and the folders of killed runs removed."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

from analysis import files

HOST = socket.gethostname().replace("-", "_") or "host"


def _dead_pid() -> int:
    """The id of a process that has ended (a child waited for)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_new_folder_named_for_this_host_and_process(tmp_path):
    folder = files.scratch_folder(tmp_path, ".writing-")
    assert folder.parent == tmp_path and folder.is_dir() and not any(folder.iterdir())
    assert folder.name.startswith(f".writing-{HOST}-{os.getpid()}-")
    assert files.scratch_folder(tmp_path, ".writing-") != folder  # a second one is another folder


def test_only_folders_of_ended_runs_on_this_host_are_removed(tmp_path):
    dead = _dead_pid()
    killed = tmp_path / f".writing-{HOST}-{dead}-abc123"
    running = tmp_path / f".writing-{HOST}-{os.getpid()}-def456"
    elsewhere = tmp_path / f".writing-otherhost-{dead}-ghi789"
    other_prefix = tmp_path / f"topic-fits-{HOST}-{dead}-jkl012"
    unrelated = tmp_path / ".writing-notes"
    for folder in (killed, running, elsewhere, other_prefix, unrelated):
        folder.mkdir()
        (folder / "part.csv").write_text("x\n")
    files.scratch_folder(tmp_path, ".writing-")
    assert not killed.exists()
    assert running.exists() and elsewhere.exists() and other_prefix.exists() and unrelated.exists()
