import re
from pathlib import Path

import pytest
from django.template.base import Lexer, TokenType

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = sorted(
    path for path in (ROOT / "templates").rglob("*") if path.suffix in {".html", ".txt"} and path.is_file()
)
# Attributes whose values people read or hear.
READABLE_ATTRIBUTE = re.compile(r"""\b(alt|title|placeholder|aria-label|aria-description)\s*=\s*"([^"]*)\"""")
TAG = re.compile(r"<[^>]*>")
ENTITY = re.compile(r"&[#\w]+;")
# Names of files such as schedule.xml read the same in every language.
FILE_NAME = re.compile(r"[\w-]+\.(xml|json|ics|csv)")


def untranslated_text(source: str) -> list[str]:
    """Human-readable text in a template that is outside every translation tag."""
    # The template's text outside translation tags and comments, with every tag or
    # variable replaced by a digit (which the checks below ignore).
    parts = []
    depth = 0
    for token in Lexer(source).tokenize():
        name = token.contents.split()[0] if token.token_type == TokenType.BLOCK and token.contents else ""
        if name in {"blocktranslate", "blocktrans", "comment"}:
            depth += 1
        elif name in {"endblocktranslate", "endblocktrans", "endcomment"}:
            depth -= 1
        parts.append(token.contents if token.token_type == TokenType.TEXT and depth == 0 else "0")
    text = re.sub(r"<(script|style)\b.*?</\1>", "", "".join(parts), flags=re.S)
    found = [value.strip() for _name, value in READABLE_ATTRIBUTE.findall(text) if re.search(r"[^\W\d_]", value)]
    for chunk in ENTITY.sub(" ", TAG.sub("\n", text)).split("\n"):
        if re.search(r"[^\W\d_]{2,}", chunk) and not FILE_NAME.fullmatch(chunk.strip()):
            found.append(" ".join(chunk.split())[:80])
    return found


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda path: str(path.relative_to(ROOT / "templates")))
def test_template_marks_every_string_for_translation(template):
    assert untranslated_text(template.read_text(encoding="utf-8")) == []


def test_the_check_finds_unmarked_text_and_attributes():
    source = '{% load i18n %}<h1>Programme</h1><img alt="Keynote speaker"><p>{% translate "Fine" %}</p>'

    assert untranslated_text(source) == ["Keynote speaker", "Programme"]
