"""The web app's files: strict headers on the page, chunks cached for good, the rest revalidated."""

from __future__ import annotations

import json
import re
import string
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from support.server import ROOT, ServerProcess

CHUNK = "chunks/chunk-3QX7ABCD.js"
PAGE = """<!doctype html><html><head>
<script type="module" src="/assets/app.js"></script>
<link rel="modulepreload" href="/assets/chunks/chunk-3QX7ABCD.js">
</head><body><div id="app"></div></body></html>"""


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    root = tmp_path_factory.mktemp("web")
    dist = root / "dist"
    (dist / "assets" / "chunks").mkdir(parents=True)
    (dist / "index.html").write_text(PAGE)
    (dist / "assets" / "app.js").write_text("import './chunks/chunk-3QX7ABCD.js'\n")
    (dist / "assets" / CHUNK).write_text("export const x = 1\n")
    proc = ServerProcess(root / "data", env={"DEBRIEF_WEB_DIST": str(dist)}).start()
    try:
        yield proc
    finally:
        proc.stop()


def test_pages_carry_the_strict_policy_and_are_revalidated(web: ServerProcess) -> None:
    for path in ("/", "/r/r_abc/meeting", "/j/some-code"):
        answer = httpx.get(web.url + path)
        assert answer.status_code == 200
        policy = answer.headers["content-security-policy"]
        assert "script-src 'self'" in policy and "unsafe" not in policy
        assert answer.headers["cache-control"] == "no-cache"


def test_hashed_chunks_are_kept_and_stable_names_revalidated(web: ServerProcess) -> None:
    chunk = httpx.get(f"{web.url}/assets/{CHUNK}")
    assert chunk.status_code == 200
    assert "immutable" in chunk.headers["cache-control"]
    assert chunk.headers["x-content-type-options"] == "nosniff"
    entry = httpx.get(web.url + "/assets/app.js")
    assert entry.status_code == 200
    assert entry.headers["cache-control"] == "no-cache"
    missing = httpx.get(web.url + "/assets/chunks/chunk-NOTTHERE.js")
    assert missing.status_code == 404
    assert "immutable" not in missing.headers.get("cache-control", "")


def test_the_built_page_preloads_only_files_that_exist() -> None:
    """web/build.mjs writes the entry's chunks into index.html as modulepreload links."""
    dist = ROOT / "web" / "dist"
    if not (dist / "index.html").exists():
        pytest.skip("the web app is not built (make web)")
    page = (dist / "index.html").read_text()
    links = re.findall(r'<link rel="modulepreload" href="/([^"]+)">', page)
    assert links, "no modulepreload links: was index.html built by web/build.mjs?"
    for link in links:
        assert (dist / link).is_file(), link
    entry = (dist / "assets" / "app.js").read_text()
    for link in links:  # every preload is a static import of app.js, nothing else
        assert Path(link).name in entry, link


HINT = "//# allFunctionsCalledOnLoad"
BASE64 = string.ascii_uppercase + string.ascii_lowercase + string.digits + "+/"
B64 = {c: i for i, c in enumerate(BASE64)}


def generated_columns(mappings: str) -> list[list[int]]:
    """Per generated line, the columns a source map maps (its VLQ segments' first field)."""
    lines: list[list[int]] = []
    for group in mappings.split(";"):
        column, columns = 0, []
        for segment in filter(None, group.split(",")):
            value = shift = 0
            for char in segment:  # only the first field: the column, relative to the last
                digit = B64[char]
                value += (digit & 31) << shift
                shift += 5
                if not digit & 32:
                    break
            column += -(value >> 1) if value & 1 else value >> 1
            columns.append(column)
        lines.append(columns)
    return lines


def test_what_a_meeting_link_runs_first_is_compiled_eagerly() -> None:
    """web/build.mjs puts V8's compile hint on the entry and its preloaded chunks only, and
    their source maps still point inside the lines they describe."""
    dist = ROOT / "web" / "dist"
    if not (dist / "index.html").exists():
        pytest.skip("the web app is not built (make web)")
    page = (dist / "index.html").read_text()
    up_front = {"assets/app.js", *re.findall(r'<link rel="modulepreload" href="/([^"]+)">', page)}
    files = {str(p.relative_to(dist)) for p in (dist / "assets").rglob("*.js")}
    assert up_front < files, "the later chunks are missing: nothing to compare with"
    for name in sorted(files):
        text = (dist / name).read_text()
        assert text.startswith(HINT + "\n") == (name in up_front), name
        lines = text.split("\n")
        mapped = generated_columns(json.loads((dist / f"{name}.map").read_text())["mappings"])
        assert len(mapped) <= len(lines), name
        for line, columns in zip(lines, mapped, strict=False):
            assert all(0 <= c < len(line) for c in columns), f"{name}: maps past its line"
