"""MkDocs hook: the site's front page is the repository's README.md.

docs/index.md is a placeholder so that the page exists; its text is the README's, with the
README's links into docs/ made relative to the site's root, so both read the same links right.
"""

from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def on_page_markdown(markdown, page, config, files):
    if page.file.src_uri != "index.md":
        return markdown
    return README.read_text(encoding="utf-8").replace("](docs/", "](")
