"""The console's static files as the function app serves them (shared/api/console.py), and the stand-in host's
catch-all route that puts them at /api/console/ as the Functions host does."""

from __future__ import annotations

from pathlib import Path

import pytest

from local.host.http import aiohttp_paths
from shared.api.console import console_file
from shared.errors import NotFound


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text("<!doctype html><title>console</title>")
    (tmp_path / "assets" / "index-3f2a.js").write_text("console.log(1)")
    (tmp_path / "assets" / "index-3f2a.css").write_text("body{}")
    (tmp_path / "favicon.svg").write_text("<svg/>")
    return tmp_path


def test_the_root_and_client_side_routes_answer_index_html_revalidated_with_page_headers(dist: Path) -> None:
    for path in ("", "/", "exports", "exports/daily/runs/20261120T120000Z-abcdef"):
        result = console_file(path, dist)
        assert (result.status, result.media_type, result.body) == (200, "text/html", (dist / "index.html").read_bytes())
        assert result.headers["Cache-Control"] == "no-cache"
        assert "frame-ancestors 'none'" in result.headers["Content-Security-Policy"]


def test_hashed_assets_are_immutable_with_their_content_type_and_other_files_revalidate(dist: Path) -> None:
    script = console_file("assets/index-3f2a.js", dist)
    style = console_file("assets/index-3f2a.css", dist)
    icon = console_file("favicon.svg", dist)

    assert (script.media_type, style.media_type, icon.media_type) == ("text/javascript", "text/css", "image/svg+xml")
    assert script.headers["Cache-Control"] == style.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert icon.headers["Cache-Control"] == "no-cache"
    assert script.headers["X-Content-Type-Options"] == "nosniff"
    assert "Content-Security-Policy" not in script.headers


@pytest.mark.parametrize("path", ["assets/gone-1234.js", "../pyproject.toml", "assets/../../secrets.json", "a\\b.js"])
def test_missing_files_and_paths_out_of_dist_are_404(dist: Path, path: str) -> None:
    (dist.parent / "secrets.json").write_text("{}")
    with pytest.raises(NotFound):
        console_file(path, dist)


def test_an_unbuilt_console_says_how_to_build_it(tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="make console"):
        console_file("exports", tmp_path / "dist")


def test_the_stand_in_host_maps_a_catch_all_route_with_and_without_the_rest() -> None:
    assert aiohttp_paths("console/{*path}", "api") == ["/api/console/{path:.*}", "/api/console"]
    assert aiohttp_paths("exports/{name}/runs/{runId:guid?}", "api") == ["/api/exports/{name}/runs/{runId}"]
