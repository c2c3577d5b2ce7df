"""The web console's static files (console/dist, built by `npm run build` in console/), served at /api/console/.

- `assets/*` are Vite's content-hashed files: cached for a year, immutable;
- every other file, and index.html, is revalidated on each load (no-cache), so a deployment shows at once;
- a path that names no file and has no extension is a client-side route: index.html answers it;
- a missing file with an extension is a 404 (a stale script must not receive HTML);
- nothing outside console/dist is ever read (`..` and absolute paths are refused).
"""

from __future__ import annotations

import mimetypes
from pathlib import Path, PurePosixPath
from typing import Final

from shared.api.result import ApiResult
from shared.errors import NotFound

DIST: Final = Path(__file__).resolve().parents[2] / "console" / "dist"
INDEX: Final = "index.html"
IMMUTABLE: Final = "public, max-age=31536000, immutable"
REVALIDATE: Final = "no-cache"
PAGE_HEADERS: Final = {  # Fluent's styles are inserted at run time (Griffel): inline styles, never inline scripts
    "Content-Security-Policy": "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}
MEDIA_TYPES: Final = {
    ".html": "text/html",
    ".js": "text/javascript",
    ".mjs": "text/javascript",
    ".css": "text/css",
    ".json": "application/json",
    ".map": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".woff2": "font/woff2",
    ".woff": "font/woff",
    ".txt": "text/plain",
}


def console_file(path: str, dist: Path = DIST) -> ApiResult:
    """The file for a URL path under /api/console/ (`path` is what follows it)."""
    relative = PurePosixPath(path.strip("/"))
    if relative.is_absolute() or ".." in relative.parts or "\\" in path:
        raise NotFound("no such console file")
    candidate = dist / relative if relative.parts else dist / INDEX
    if not candidate.is_file():
        if relative.suffix:
            raise NotFound(f"no console file {str(relative)!r}")
        candidate = dist / INDEX  # a client-side route
        if not candidate.is_file():
            raise NotFound("the console is not built: run `make console` (npm ci && npm run build in console/)")
    media = MEDIA_TYPES.get(candidate.suffix.lower()) or mimetypes.guess_type(candidate.name)[0]
    cache = IMMUTABLE if relative.parts[:1] == ("assets",) and candidate.name != INDEX else REVALIDATE
    headers = {"Cache-Control": cache, "X-Content-Type-Options": "nosniff"}
    if candidate.name == INDEX:
        headers.update(PAGE_HEADERS)
    return ApiResult(200, candidate.read_bytes(), headers, media_type=media or "application/octet-stream")


__all__ = ["DIST", "console_file"]
