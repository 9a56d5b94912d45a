"""The README stays a short door into docs/, and every link between the pages leads somewhere."""

import re
from pathlib import Path

import pytest

from tests.helpers import ROOT

README = ROOT / "README.md"
PAGES = [README, *sorted((ROOT / "docs").glob("*.md")), ROOT / "deploy" / "k8s" / "README.md"]
FENCED = re.compile(r"^```.*?^```$", re.MULTILINE | re.DOTALL)


def prose(path: Path) -> str:
    """The page without its fenced blocks (whose lines may look like headings or links)."""
    return FENCED.sub("", path.read_text(encoding="utf-8"))


def anchors(path: Path) -> set[str]:
    """GitHub's ids for the page's headings: lower case, punctuation dropped, spaces as hyphens, repeats numbered."""
    found: set[str] = set()
    for heading in re.findall(r"^#{1,6} (.+)$", prose(path), re.MULTILINE):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        candidate, number = slug, 0
        while candidate in found:
            number += 1
            candidate = f"{slug}-{number}"
        found.add(candidate)
    return found


def links(path: Path) -> list[str]:
    return re.findall(r"\]\(([^)\s]+)\)", prose(path))


@pytest.mark.parametrize("page", PAGES, ids=lambda path: str(path.relative_to(ROOT)))
def test_every_relative_link_leads_to_a_file_and_heading(page: Path) -> None:
    broken = []
    for link in links(page):
        if re.match(r"[a-z]+:", link):
            continue
        target, _, anchor = link.partition("#")
        resolved = (page.parent / target).resolve() if target else page
        if not resolved.exists():
            broken.append(f"{link}: no file {resolved.relative_to(ROOT)}")
        elif anchor and resolved.suffix == ".md" and anchor not in anchors(resolved):
            broken.append(f"{link}: no heading #{anchor} in {resolved.relative_to(ROOT)}")

    assert broken == []


def test_the_readme_is_short_and_links_every_page_of_the_docs() -> None:
    text = README.read_text(encoding="utf-8")
    linked = {(ROOT / link.partition("#")[0]).resolve() for link in links(README)}

    assert len(text.splitlines()) <= 150, "keep the README to a few screens; the details belong in docs/"
    assert sorted(path.name for path in (ROOT / "docs").glob("*.md") if path.resolve() not in linked) == []
    assert "make test" in text
    assert (ROOT / "LICENSE").read_text(encoding="utf-8").startswith("MIT License")
