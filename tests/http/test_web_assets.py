"""The web app's files: strict headers on the page, chunks cached for good, the rest revalidated."""

from __future__ import annotations

import re
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
