"""docs/screens.py takes a screenshot of every page: each named URL is shown by one
of its screens or listed in NOT_SCREENS with the reason it is not a page."""

import importlib.util
import sys

from django.conf import settings

from tests.test_permission_matrix import url_names


def _screens_script():
    path = settings.BASE_DIR / "docs" / "screens.py"
    spec = importlib.util.spec_from_file_location("docs_screens", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_every_url_is_a_screen_or_says_why_not():
    screens = _screens_script()
    shown = {name for shot in screens.SCREENS for name in shot.shows}

    assert sorted(set(url_names()) - shown - set(screens.NOT_SCREENS)) == []
    assert sorted(set(screens.NOT_SCREENS) - set(url_names())) == []
    assert sorted(shown - set(url_names())) == []


def test_each_screen_has_a_file_name_of_its_own():
    screens = _screens_script()
    names = [f"{shot.role}-{shot.name}" for shot in screens.SCREENS]

    assert len(names) == len(set(names))
    assert {shot.role for shot in screens.SCREENS} >= {"salesops", "teamlead", "auditor", "admin"}
