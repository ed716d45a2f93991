"""Media storage whose files appear whole or not at all.

Django's FileSystemStorage writes a file in place, chunk by chunk, so a reader can open it
half-written. Thumbnails are made on the first request that needs them: two shoppers opening
a new product page at once both ask sorl-thumbnail for the same thumbnail; the second finds
the file the first is still writing, reads a truncated image and the page answered 500. Here
the content is written to a hidden file in the same folder and renamed into place (what
Django does with an uploaded temporary file), so the name only ever points at a whole file.
"""

from __future__ import annotations

import os
import tempfile

from django.core.files.storage import FileSystemStorage


class _WrittenFile:
    """Content already written to `path`: Django's storage moves it instead of copying it."""

    def __init__(self, path: str) -> None:
        self.path = path

    def temporary_file_path(self) -> str:
        return self.path


class AtomicFileSystemStorage(FileSystemStorage):
    def _save(self, name, content):
        if hasattr(content, "temporary_file_path"):  # an upload on disk: already moved whole
            return super()._save(name, content)
        directory = os.path.dirname(self.path(name))
        os.makedirs(directory, exist_ok=True)
        fd, partial = tempfile.mkstemp(dir=directory, prefix=".partial-")
        try:
            with os.fdopen(fd, "wb") as file:
                for chunk in content.chunks():
                    file.write(chunk if isinstance(chunk, bytes) else chunk.encode())
            return super()._save(name, _WrittenFile(partial))
        finally:
            if os.path.exists(partial):  # not moved: the save failed
                os.unlink(partial)
