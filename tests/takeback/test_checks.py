"""Photos never where public media or static files are served from (system check)."""

from shop.takeback.checks import private_root_is_private


def test_private_root_outside_media_passes(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.TAKEBACK_PRIVATE_ROOT = str(tmp_path / "private")
    assert private_root_is_private() == []


def test_private_root_inside_media_is_an_error(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.TAKEBACK_PRIVATE_ROOT = str(tmp_path / "media" / "takeback")
    (error,) = private_root_is_private()
    assert error.id == "takeback.E001" and "MEDIA_ROOT" in error.msg
