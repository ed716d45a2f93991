"""Media files appear whole or not at all (shop.common.storage): a thumbnail being written
by one request was read half-made by another and the product page answered 500."""

import os

import pytest
from django.core.files.base import ContentFile, File

from shop.common.storage import AtomicFileSystemStorage


class _Chunks(File):
    """Content whose chunks come one at a time, with a look at the target in between."""

    def __init__(self, chunks, between):
        super().__init__(None, name="x")
        self._chunks, self._between = chunks, between

    def chunks(self, chunk_size=None):
        for chunk in self._chunks:
            self._between()
            yield chunk


def test_the_name_shows_nothing_until_the_whole_file_is_there(tmp_path):
    storage = AtomicFileSystemStorage(location=tmp_path)
    target = tmp_path / "cache" / "thumb.webp"
    seen = []
    content = _Chunks([b"RIFF", b"....", b"WEBP"], lambda: seen.append(target.exists()))
    name = storage.save("cache/thumb.webp", content)
    assert name == "cache/thumb.webp"
    assert seen == [False, False, False]
    assert target.read_bytes() == b"RIFF....WEBP"
    assert oct(target.stat().st_mode & 0o777) == oct(0o644)  # FILE_UPLOAD_PERMISSIONS
    assert os.listdir(tmp_path / "cache") == ["thumb.webp"]


def test_a_taken_name_gets_another_and_both_files_stay_whole(tmp_path):
    storage = AtomicFileSystemStorage(location=tmp_path)
    first = storage.save("a/pic.png", ContentFile(b"first"))
    second = storage.save("a/pic.png", ContentFile(b"second"))
    assert first == "a/pic.png" and second != first and second.startswith("a/pic_")
    assert storage.open(first).read() == b"first" and storage.open(second).read() == b"second"
    assert sorted(os.listdir(tmp_path / "a")) == sorted(
        [os.path.basename(first), os.path.basename(second)]
    )


def test_a_write_that_fails_leaves_nothing_behind(tmp_path):
    storage = AtomicFileSystemStorage(location=tmp_path)

    def fail():
        if (tmp_path / "b").exists() and any((tmp_path / "b").iterdir()):
            raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        storage.save("b/pic.png", _Chunks([b"one", b"two"], fail))
    assert list((tmp_path / "b").iterdir()) == []
