import pytest

from tests.conftest import axe_violations
from tests.factories import ConferenceFactory

PAGES = ["/", "/accounts/login/", "/accounts/signup/", "/accounts/password/reset/", "/no-such-page/"]


@pytest.mark.parametrize("language", ["en", "es"])
@pytest.mark.parametrize("path", PAGES)
def test_page_has_no_wcag_violations(axe_page, live_server, path, language):
    ConferenceFactory(name="GROW your REGIOn", slug="growyourregion")
    axe_page.context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
    axe_page.goto(path)

    assert axe_page.locator("html").get_attribute("lang") == language
    assert axe_violations(axe_page) == []
