"""Runs on the host, inside nbgrader: what a graded kernel may make, bounded while it runs.

- :class:`OutputBudget`: output over the per-cell or per-notebook limit is dropped as it arrives
  (nbclient would otherwise keep every message, and nbgrader's ``LimitOutput`` trims only
  afterwards), with a note in the cell and in the feedback;
- :func:`capped_client`: a kernel client whose sockets refuse a message over 64 MiB before it
  is read into memory, and queue only a few;
- :class:`FolderWatch`: the host folders a kernel can write (evidence, runtime) are measured
  while it runs, and the kernel is stopped when they grow past the disk limit.
"""

from __future__ import annotations

import os
import stat
import threading
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

import nbformat
import zmq
import zmq.asyncio
from jupyter_client.asynchronous.client import AsyncKernelClient
from traitlets import default

OUTPUT_MESSAGES = frozenset({"stream", "display_data", "execute_result", "error", "update_display_data"})
# A single message over this is refused by ZeroMQ before it is read (the connection drops, and the
# cell's output with it): generous, since ipykernel sends 0.2 s of printing as one message.
MAX_MESSAGE_BYTES = 64 * 1024**2
QUEUED_MESSAGES = 128  # messages a socket holds before the kernel's further ones wait or are dropped
MAX_ENTRIES = 10_000  # files and folders the watched folders may hold


def content_bytes(content: dict) -> int:
    """About how many bytes an output message's content adds to the notebook."""
    size = len(content.get("text") or "") + len(content.get("evalue") or "")
    size += sum(len(line) for line in content.get("traceback") or [])
    for value in (content.get("data") or {}).values():
        size += len(value) if isinstance(value, str) else len(repr(value))
    return size


class OutputBudget:
    """Admits output messages while a cell and the notebook are under their limits (bytes).

    A stream message that would cross a limit keeps its first part; anything after it is dropped.
    """

    def __init__(self, cell: int, notebook: int):
        self.cell, self.notebook = cell, notebook
        self.used: dict[int, int] = {}
        self.total = 0
        self.dropped: set[int] = set()
        self.noted: set[int] = set()

    def admit(self, msg: dict[str, Any], index: int) -> bool:
        """True to keep ``msg`` (a stream's text cut to what is left); False to drop it."""
        if msg.get("msg_type") not in OUTPUT_MESSAGES:
            return True
        content = msg.get("content") or {}
        size = content_bytes(content)
        used = self.used.get(index, 0)
        left = min(self.cell - used, self.notebook - self.total)
        if size > left:
            self.dropped.add(index)
            if msg["msg_type"] != "stream" or left <= 0:
                return False
            content["text"], size = content.get("text", "")[:left], left
        self.used[index] = used + size
        self.total += size
        return True

    def note_in(self, cell: nbformat.NotebookNode, index: int) -> None:
        """Once output of cell ``index`` was dropped, say so at the end of what it kept."""
        if index in self.dropped and index not in self.noted:
            self.noted.add(index)
            cell.outputs.append(nbformat.v4.new_output(
                "stream", name="stderr", text=f"\n[grading: output over the limit ({self.describe()}) "
                                              "was dropped from here on]\n"))

    def describe(self) -> str:
        return f"{self.cell // 1024} KiB a cell, {self.notebook // 1024**2} MiB a notebook"

    def notes(self, nb: nbformat.NotebookNode) -> list[str]:
        """The problem to report when output was dropped: which cells."""
        if not self.dropped:
            return []
        labels = [nb.cells[i].get("metadata", {}).get("nbgrader", {}).get("grade_id") or f"cell {i + 1}"
                  for i in sorted(self.dropped) if i < len(nb.cells)]
        return [f"{', '.join(labels[:3])}{', ...' if len(labels) > 3 else ''} printed more than the output "
                f"limit ({self.describe()}): the rest was dropped"]


def capped_context(max_message: int) -> zmq.asyncio.Context:
    """A ZeroMQ context whose sockets disconnect a peer that sends a message over ``max_message`` bytes."""
    context = zmq.asyncio.Context()
    context.setsockopt(zmq.MAXMSGSIZE, max_message)
    context.setsockopt(zmq.RCVHWM, QUEUED_MESSAGES)
    return context


def capped_client(max_message: int) -> type[AsyncKernelClient]:
    """An ``AsyncKernelClient`` class whose sockets come from :func:`capped_context`."""

    class CappedKernelClient(AsyncKernelClient):
        @default("context")
        def _context_default(self) -> zmq.asyncio.Context:
            self._created_context = True
            return capped_context(max_message)

    return CappedKernelClient


def folder_usage(folders: list[Path]) -> tuple[int, int]:
    """(bytes, entries) under ``folders``, links not followed; a file counts its size or its blocks."""
    size = entries = 0
    stack = [str(folder) for folder in folders]
    while stack and entries <= MAX_ENTRIES:
        try:
            scan = list(os.scandir(stack.pop()))
        except OSError:
            continue
        for entry in scan:
            entries += 1
            try:
                info = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            if stat.S_ISDIR(info.st_mode):
                stack.append(entry.path)
            size += max(info.st_size, info.st_blocks * 512)
    return size, entries


class FolderWatch:
    """While in use, measures ``folders`` every ``interval`` s; calls ``stop`` once past ``limit`` bytes.

    ``tripped`` then says what was found.
    """

    def __init__(self, folders: list[Path], limit: int, stop: Callable[[], None], interval: float = 0.2):
        self.folders, self.limit, self.stop, self.interval = folders, limit, stop, interval
        self.tripped: str | None = None
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name="folder-watch", daemon=True)

    def _run(self) -> None:
        while not self._done.wait(self.interval):
            if self.check():
                return

    def check(self) -> bool:
        """Measure once; True (and ``stop`` called) when over the limit."""
        size, entries = folder_usage(self.folders)
        if size > self.limit or entries > MAX_ENTRIES:
            self.tripped = (f"{size / 1024**2:.0f} MiB" if size > self.limit
                            else f"over {MAX_ENTRIES} files")
            self.stop()
            return True
        return False

    def __enter__(self) -> FolderWatch:
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self._done.set()
        self._thread.join()
        if self.tripped is None:
            self.check()  # what the last interval wrote counts too
