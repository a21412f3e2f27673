"""The message catalogues of locale/: up to date with the code, completely translated, and
compiled into what the site loads.

They fail when a marked string was added, changed or removed without `make messages`; when
an entry is untranslated or fuzzy; and when a language's django.mo is not what its
django.po compiles to (`make test` and `make run` compile them). GNU gettext does the
work, as for Django's own makemessages and compilemessages.
"""

import gettext
import os
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
# Every language but the one the code is written in.
TRANSLATED = [code for code, _name in settings.LANGUAGES if code != settings.LANGUAGE_CODE]
# How the committed catalogues are made (the Makefile's `messages` target): without source
# locations, which would change with every edit of the code.
MAKEMESSAGES = ["makemessages", "--no-location", *(f"--locale={code}" for code in TRANSLATED)]
# What makemessages need not read, and what the copy must not take along.
NOT_SOURCE = shutil.ignore_patterns(".*", "node_modules", "staticfiles", "media", "__pycache__", "*.mo")


def catalogue(root: Path, language: str, suffix: str = "po") -> Path:
    return root / "locale" / language / "LC_MESSAGES" / f"django.{suffix}"


def messages(po: polib.POFile) -> set[tuple[str | None, str, str]]:
    return {(entry.msgctxt, entry.msgid, entry.msgid_plural) for entry in po if not entry.obsolete}


def gettext_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"GNU gettext's {name} is missing: `make test` installs gettext.")
    return path


@pytest.fixture(scope="module")
def fresh_catalogues(tmp_path_factory) -> dict[str, polib.POFile]:
    """The catalogues as makemessages makes them from the code as it is now, in a copy of the
    project: the repository's locale/ stays as it is."""
    for tool in ("xgettext", "msgmerge", "msguniq"):
        gettext_tool(tool)
    copy = tmp_path_factory.mktemp("project")
    shutil.copytree(ROOT, copy, ignore=NOT_SOURCE, dirs_exist_ok=True)
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "conference.settings", "DEBUG": "true"}
    result = subprocess.run(
        [sys.executable, "manage.py", *MAKEMESSAGES], cwd=copy, env=environment, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    return {language: polib.pofile(str(catalogue(copy, language))) for language in TRANSLATED}


@pytest.mark.parametrize("language", TRANSLATED)
def test_catalogue_has_every_string_of_the_code_and_no_other(fresh_catalogues, language):
    committed = messages(polib.pofile(str(catalogue(ROOT, language))))
    fresh = messages(fresh_catalogues[language])

    missing, stale = sorted(fresh - committed, key=str), sorted(committed - fresh, key=str)

    assert (missing, stale) == ([], []), (
        f"locale/{language} is out of date, run `make messages` and translate: {len(missing)} strings of the code "
        f"are missing, such as {[msgid for _context, msgid, _plural in missing[:3]]}, and {len(stale)} are no "
        f"longer in it, such as {[msgid for _context, msgid, _plural in stale[:3]]}."
    )


@pytest.mark.parametrize("language", TRANSLATED)
def test_catalogue_is_translated_with_nothing_fuzzy(language):
    po = polib.pofile(str(catalogue(ROOT, language)))

    untranslated = [entry.msgid for entry in po.untranslated_entries()]
    fuzzy = [entry.msgid for entry in po.fuzzy_entries()]

    assert (untranslated, fuzzy) == ([], []), (
        f"locale/{language}: {len(untranslated)} strings untranslated, such as {untranslated[:3]}, and "
        f"{len(fuzzy)} fuzzy, such as {fuzzy[:3]}."
    )
    # The header names its language and has lost the fuzzy mark makemessages puts on a
    # catalogue that nobody has worked on yet.
    assert not po.metadata_is_fuzzy
    assert po.metadata["Language"] == language
    assert "nplurals=" in po.metadata["Plural-Forms"]


@pytest.mark.parametrize("language", TRANSLATED)
def test_the_site_loads_the_catalogue_its_po_compiles_to(language, tmp_path):
    compiled = tmp_path / "django.mo"

    # --check: the placeholders of each translation are those of its original, among others.
    result = subprocess.run(
        [gettext_tool("msgfmt"), "--check", "--output-file", str(compiled), str(catalogue(ROOT, language))],
        capture_output=True,
        text=True,
    )

    assert result.returncode == 0, "\n".join(line for line in result.stderr.splitlines() if "warning:" not in line)
    loaded = catalogue(ROOT, language, "mo")
    assert loaded.exists(), f"{loaded} is missing: `make test` and `make run` compile it (`make {loaded}`)."
    with compiled.open("rb") as fresh, loaded.open("rb") as site:
        assert gettext.GNUTranslations(site)._catalog == gettext.GNUTranslations(fresh)._catalog, (
            f"{loaded} is older than its .po: `make test` and `make run` compile it again."
        )
