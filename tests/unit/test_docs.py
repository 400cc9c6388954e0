"""The README is the front door and the documentation site (mkdocs.yml, docs/) holds the rest.

`make docs` builds the site with `mkdocs build --strict`, which fails on a broken link or anchor
between pages and on a page left out of the navigation; `make test` runs it first. The README is
not part of the site, so its links are checked here.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from ecs_cd.toolchain.cdktf_cli import PROJECT_DIR
from tests.reader_shell import DOCS, marked_block, readme_block

README_MAX_LINES = 250


def _mkdocs() -> dict[str, Any]:
    config: dict[str, Any] = yaml.safe_load((PROJECT_DIR / "mkdocs.yml").read_text(encoding="utf-8"))
    return config


def _nav_pages(nav: object) -> list[str]:
    if isinstance(nav, str):
        return [nav]
    if isinstance(nav, list):
        return [page for item in nav for page in _nav_pages(item)]
    if isinstance(nav, dict):
        return [page for value in nav.values() for page in _nav_pages(value)]
    raise AssertionError(f"mkdocs.yml: a nav entry is neither a page nor a section: {nav!r}")


def _make_target(makefile: str, name: str) -> tuple[list[str], list[str]]:
    """A Makefile target's prerequisites and its recipe's lines."""
    match = re.search(rf"^{name}:([^\n]*)\n((?:\t[^\n]*\n)*)", makefile, re.M)
    assert match, f"the Makefile has no {name} target"
    return match.group(1).split(), [line.strip() for line in match.group(2).splitlines()]


def test_the_readme_is_a_front_door_of_at_most_250_lines() -> None:
    # GIVEN the README
    lines = DOCS["README.md"].splitlines()
    # THEN it is short, says how to set up, and points at the documentation
    assert len(lines) <= README_MAX_LINES, f"README.md has {len(lines)} lines; move text into docs/"
    assert "make demo" in DOCS["README.md"] and "make test" in DOCS["README.md"]
    assert "make docs" in DOCS["README.md"] and "pipenv run mkdocs serve" in DOCS["README.md"]


def test_every_relative_link_of_the_readme_names_a_file_that_exists() -> None:
    # GIVEN the README's Markdown links that are not to the web
    targets = re.findall(r"\]\(([^)\s]+)\)", DOCS["README.md"])
    relative = [t for t in targets if not re.match(r"[a-z]+:", t) and not t.startswith("#")]
    assert len(relative) > 20, relative
    # THEN each names a file of the repository
    missing = [t for t in relative if not (PROJECT_DIR / t.split("#", 1)[0]).is_file()]
    assert missing == []


def test_every_page_of_docs_is_in_the_navigation_and_every_entry_is_a_page() -> None:
    # GIVEN the pages under docs/ and mkdocs.yml's navigation
    config = _mkdocs()
    docs_dir = PROJECT_DIR / config["docs_dir"]
    pages = sorted(p.relative_to(docs_dir).as_posix() for p in docs_dir.rglob("*.md"))
    nav = _nav_pages(config["nav"])
    # THEN each page is in the navigation once, and the navigation names only those pages
    assert sorted(nav) == pages
    assert "reference/configuration.md" in nav and "reference/cli.md" in nav


def test_the_site_is_built_strictly_and_offline() -> None:
    # GIVEN mkdocs.yml
    config = _mkdocs()
    # THEN every link, anchor and page left out is a warning, and --strict makes warnings fatal
    assert config["strict"] is True
    assert config["validation"] == {
        "omitted_files": "warn",
        "not_found": "warn",
        "absolute_links": "warn",
        "unrecognized_links": "warn",
        "anchors": "warn",
    }
    # AND nothing is fetched when it is built or read: no web fonts, no plugin but the search
    assert config["theme"]["name"] == "material" and config["theme"]["font"] is False
    assert config["plugins"] == ["search"]
    # AND the site is built out of the tree git keeps
    assert config["site_dir"].startswith(".cache/")


def test_make_test_builds_the_documentation_site() -> None:
    # GIVEN the Makefile
    makefile = (PROJECT_DIR / "Makefile").read_text(encoding="utf-8")
    # WHEN its test and docs targets are read
    test_needs, _ = _make_target(makefile, "test")
    _, docs_recipe = _make_target(makefile, "docs")
    # THEN `make test` builds the site first, strictly
    assert "docs" in test_needs
    assert any("mkdocs build --strict" in line for line in docs_recipe), docs_recipe


def test_the_readme_walkthrough_is_the_documented_one() -> None:
    # GIVEN the release walk-through the tests run (docs/) and the README's five-minute copy of it
    documented = readme_block("walkthrough", "sh")
    copy = marked_block("readme-walkthrough", r"```sh\n(.*?)```\n")
    # THEN the README shows exactly the commands the tests run
    assert copy == documented
    assert "readme-walkthrough:start" in DOCS["README.md"]


def test_every_marked_block_is_in_one_place() -> None:
    # GIVEN every marker of the README and the documentation
    markers = [m for text in DOCS.values() for m in re.findall(r"<!-- ([a-z-]+):start -->", text)]
    # THEN each one marks one block, in one place, with its end
    assert len(markers) >= 15, markers
    assert sorted(set(markers)) == sorted(markers)
    for marker in markers:
        holder = [path for path, text in DOCS.items() if f"<!-- {marker}:start -->" in text]
        assert f"<!-- {marker}:end -->" in DOCS[holder[0]], marker
