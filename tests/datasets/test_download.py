"""Dataset download against a loopback HTTP server serving archives built here (no Internet).

Every failure is checked for two things: the error says what went wrong and where from, and the
root holds nothing afterwards, so a failed download can never be mistaken for a dataset.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import re
import socket
import stat
import threading
import time
import warnings
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from movieverse.datasets import (
    DATASETS,
    DatasetDownloadError,
    DatasetNotFoundError,
    download_dataset,
    ensure_dataset,
    read_movielens,
)
from movieverse.datasets.registry import GROUPLENS

NAME = "ml-latest-small"
DATASET_FILES = {
    f"{NAME}/README.txt": "Summary\n=======\nA tiny stand-in for ml-latest-small.\n",
    f"{NAME}/movies.csv": "movieId,title,genres\n1,Toy Story (1995),Adventure|Animation\n"
    "2,Jumanji (1995),Adventure\n",
    f"{NAME}/links.csv": "movieId,imdbId,tmdbId\n1,0114709,862\n2,0113497,8844\n",
    f"{NAME}/ratings.csv": "userId,movieId,rating,timestamp\n1,1,4.0,964982703\n",
    f"{NAME}/tags.csv": "userId,movieId,tag,timestamp\n2,1,pixar,1445714994\n",
}


def zip_bytes(files: dict[str, str], *extra: tuple[zipfile.ZipInfo, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as bundle, warnings.catch_warnings():
        # zipfile warns about a duplicated name, which one test builds on purpose.
        warnings.simplefilter("ignore", UserWarning)
        # Directory entries first, as GroupLens's archives have them.
        bundle.writestr(zipfile.ZipInfo(f"{NAME}/"), b"")
        for name, text in files.items():
            bundle.writestr(name, text)
        for info, data in extra:
            bundle.writestr(info, data)
    return buffer.getvalue()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass
class Route:
    body: bytes = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    # False: no Content-Length, the body ends when the connection closes (HTTP/1.0 style).
    send_length: bool = True
    # Announce this length instead of the body's (a transfer cut short).
    announced: int | None = None
    # Seconds to wait after the headers before the body (a stalled server).
    stall: float = 0.0


class ArchiveServer:
    """A ThreadingHTTPServer on 127.0.0.1, port chosen by the OS, serving ``routes``."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requests.append(self.path)
                route = server.routes.get(self.path, Route(b"not here", status=404))
                self.send_response(route.status)
                for key, value in route.headers.items():
                    self.send_header(key, value)
                if route.send_length:
                    length = route.announced if route.announced is not None else len(route.body)
                    self.send_header("Content-Length", str(length))
                self.end_headers()
                if route.stall:
                    self.wfile.flush()
                    time.sleep(route.stall)
                # The client may give up early on purpose (the size limit tests).
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(route.body)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # keep the test output clean

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"

    def serve(self, path: str, route: Route) -> str:
        self.routes[path] = route
        return self.url(path)


@pytest.fixture(scope="module")
def running_server() -> Iterator[ArchiveServer]:
    # One server for the module: shutdown() waits out serve_forever's poll interval.
    archive_server = ArchiveServer()
    archive_server.thread.start()
    yield archive_server
    archive_server.httpd.shutdown()
    archive_server.httpd.server_close()
    archive_server.thread.join()


@pytest.fixture
def server(running_server: ArchiveServer) -> ArchiveServer:
    """The shared server with no routes and no recorded requests, so tests do not see each other."""
    running_server.routes.clear()
    running_server.requests.clear()
    return running_server


def leftovers(root: Path) -> list[str]:
    return sorted(str(path.relative_to(root)) for path in root.rglob("*")) if root.exists() else []


# Success ----------------------------------------------------------------------------------------


def test_a_download_appears_as_a_readable_dataset(server: ArchiveServer, tmp_path: Path) -> None:
    archive = zip_bytes(DATASET_FILES)
    url = server.serve("/ml-latest-small.zip", Route(archive))
    root = tmp_path / "data" / "datasets"  # created on the way
    calls: list[tuple[int, int | None]] = []

    directory = download_dataset(
        NAME,
        root,
        url=url,
        sha256=sha256(archive),
        progress=lambda done, total: calls.append((done, total)),
    )

    assert directory == root / NAME
    dataset = read_movielens(directory)
    assert [(m.title, m.tmdb_id) for m in dataset.movies()] == [
        ("Toy Story", 862),
        ("Jumanji", 8844),
    ]
    assert [r.rating for r in dataset.ratings()] == [4.0]
    # Only the dataset is left: the archive and the work directory are gone.
    assert leftovers(root) == sorted([NAME, *(name for name in DATASET_FILES)])
    assert calls[0] == (0, len(archive))
    assert calls[-1] == (len(archive), len(archive))
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)
    assert server.requests == ["/ml-latest-small.zip"]


def test_a_server_without_content_length_reports_an_unknown_total(
    server: ArchiveServer, tmp_path: Path
) -> None:
    archive = zip_bytes(DATASET_FILES)
    url = server.serve("/a.zip", Route(archive, send_length=False))
    calls: list[tuple[int, int | None]] = []
    download_dataset(
        NAME,
        tmp_path,
        url=url,
        sha256=sha256(archive),
        progress=lambda done, total: calls.append((done, total)),
    )
    assert calls[-1] == (len(archive), None)


def test_redirects_are_followed(server: ArchiveServer, tmp_path: Path) -> None:
    archive = zip_bytes(DATASET_FILES)
    final = server.serve("/mirror/a.zip", Route(archive))
    url = server.serve("/a.zip", Route(status=302, headers={"Location": final}))
    assert (
        download_dataset(NAME, tmp_path, url=url, sha256=sha256(archive)) / "movies.csv"
    ).is_file()
    assert server.requests == ["/a.zip", "/mirror/a.zip"]


def test_an_empty_directory_in_the_way_is_replaced(server: ArchiveServer, tmp_path: Path) -> None:
    archive = zip_bytes(DATASET_FILES)
    url = server.serve("/a.zip", Route(archive))
    (tmp_path / NAME).mkdir()
    download_dataset(NAME, tmp_path, url=url, sha256=sha256(archive))
    assert (tmp_path / NAME / "movies.csv").is_file()


# ensure_dataset ---------------------------------------------------------------------------------


def test_a_present_dataset_is_returned_without_any_request(
    server: ArchiveServer, tmp_path: Path
) -> None:
    (tmp_path / NAME).mkdir()
    (tmp_path / NAME / "movies.csv").write_text("movieId,title,genres\n")
    url = server.serve("/a.zip", Route(zip_bytes(DATASET_FILES)))
    assert ensure_dataset(NAME, tmp_path, download=True, url=url) == tmp_path / NAME
    # The official URL too: nothing is fetched, so this works offline.
    assert ensure_dataset(NAME, tmp_path, download=True) == tmp_path / NAME
    assert server.requests == []


def test_an_absent_dataset_is_downloaded_only_when_asked(
    server: ArchiveServer, tmp_path: Path
) -> None:
    archive = zip_bytes(DATASET_FILES)
    url = server.serve("/a.zip", Route(archive))
    with pytest.raises(DatasetNotFoundError, match=f"{GROUPLENS}/{NAME}.zip"):
        ensure_dataset(NAME, tmp_path, download=False, url=url)
    assert server.requests == []

    directory = ensure_dataset(NAME, tmp_path, download=True, url=url, sha256=sha256(archive))
    assert (directory / "movies.csv").is_file()
    assert ensure_dataset(NAME, tmp_path, download=True, url=url) == directory
    assert server.requests == ["/a.zip"]


def test_an_unknown_name_fails_before_any_request(tmp_path: Path) -> None:
    with pytest.raises(DatasetNotFoundError, match="unknown dataset 'ml-1m'"):
        ensure_dataset("ml-1m", tmp_path, download=True)
    with pytest.raises(DatasetNotFoundError, match="unknown dataset 'ml-1m'"):
        download_dataset("ml-1m", tmp_path)


# Refusals before the download ---------------------------------------------------------------------


def test_a_dataset_without_public_download_says_how_to_get_it(tmp_path: Path) -> None:
    with pytest.raises(DatasetDownloadError, match="needs a login") as raised:
        ensure_dataset("tmdb-5000", tmp_path, download=True)
    assert str(tmp_path / "tmdb-5000") in str(raised.value)
    assert raised.value.url is None


def test_an_archive_without_a_checksum_is_not_fetched(
    server: ArchiveServer, tmp_path: Path
) -> None:
    url = server.serve("/tmdb.zip", Route(b"anything"))
    with pytest.raises(DatasetDownloadError, match="no SHA-256 to verify"):
        download_dataset("tmdb-5000", tmp_path, url=url)
    with pytest.raises(DatasetDownloadError, match="not a SHA-256 hex digest: 'abc'"):
        download_dataset("tmdb-5000", tmp_path, url=url, sha256="abc")
    assert server.requests == []


def test_an_existing_directory_is_never_overwritten(server: ArchiveServer, tmp_path: Path) -> None:
    url = server.serve("/a.zip", Route(zip_bytes(DATASET_FILES)))
    (tmp_path / NAME).mkdir()
    (tmp_path / NAME / "ratings.csv").write_text("half an unzip")
    with pytest.raises(DatasetDownloadError, match=r"exists but has no movies\.csv"):
        download_dataset(NAME, tmp_path, url=url)
    (tmp_path / NAME / "movies.csv").write_text("movieId,title,genres\n")
    with pytest.raises(DatasetDownloadError, match="already holds it"):
        download_dataset(NAME, tmp_path, url=url)
    assert server.requests == []
    assert (tmp_path / NAME / "ratings.csv").read_text() == "half an unzip"


# Failures during the download ---------------------------------------------------------------------


def test_a_checksum_mismatch_names_both_digests_and_leaves_nothing(
    server: ArchiveServer, tmp_path: Path
) -> None:
    archive = zip_bytes(DATASET_FILES)
    url = server.serve("/a.zip", Route(archive))
    pinned = "0" * 64
    with pytest.raises(DatasetDownloadError) as raised:
        download_dataset(NAME, tmp_path, url=url, sha256=pinned)
    message = str(raised.value)
    assert url in message
    assert f"checksum mismatch: expected SHA-256 {pinned}, got {sha256(archive)}" in message
    assert leftovers(tmp_path) == []


def test_the_pinned_checksum_applies_to_a_mirror(server: ArchiveServer, tmp_path: Path) -> None:
    # A stand-in archive is not the official one, so the pinned SHA-256 refuses it.
    url = server.serve("/mirror.zip", Route(zip_bytes(DATASET_FILES)))
    pinned = DATASETS[NAME].sha256
    assert pinned is not None
    with pytest.raises(DatasetDownloadError, match=f"expected SHA-256 {pinned}"):
        download_dataset(NAME, tmp_path, url=url)
    assert leftovers(tmp_path) == []


def test_an_http_error_is_named(server: ArchiveServer, tmp_path: Path) -> None:
    url = server.url("/missing.zip")
    with pytest.raises(DatasetDownloadError) as raised:
        download_dataset(NAME, tmp_path, url=url, sha256="0" * 64)
    assert str(raised.value) == (f"cannot download dataset {NAME} from {url}: HTTP 404 Not Found")
    assert (raised.value.name, raised.value.url, raised.value.reason) == (
        NAME,
        url,
        "HTTP 404 Not Found",
    )
    assert leftovers(tmp_path) == []


@pytest.mark.timeout(30)  # a hang guard: a refused connection must not wait for any timeout
def test_an_unreachable_server_fails_at_once(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # Nothing listens on the port any more: the connection is refused, as offline DNS fails.
    url = f"http://127.0.0.1:{port}/ml-latest-small.zip"
    with pytest.raises(DatasetDownloadError, match="cannot connect") as raised:
        download_dataset(NAME, tmp_path, url=url)
    assert url in str(raised.value)
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("send_length", [True, False], ids=["announced", "streamed"])
def test_a_response_far_above_the_expected_size_is_cut_off(
    server: ArchiveServer, tmp_path: Path, send_length: bool
) -> None:
    body = b"x" * (3 * 1024 * 1024)
    url = server.serve("/big.zip", Route(body, send_length=send_length))
    verb = "announces" if send_length else "sent"
    with pytest.raises(DatasetDownloadError, match=f"the server {verb} .* above the 1,000,000"):
        download_dataset(NAME, tmp_path, url=url, sha256=sha256(body), max_bytes=1_000_000)
    assert leftovers(tmp_path) == []


def test_a_transfer_cut_short_leaves_nothing(server: ArchiveServer, tmp_path: Path) -> None:
    archive = zip_bytes(DATASET_FILES)
    url = server.serve("/a.zip", Route(archive[:100], announced=len(archive)))
    with pytest.raises(DatasetDownloadError, match="download failed"):
        download_dataset(NAME, tmp_path, url=url, sha256=sha256(archive))
    assert leftovers(tmp_path) == []


def test_a_stalled_server_times_out(server: ArchiveServer, tmp_path: Path) -> None:
    archive = zip_bytes(DATASET_FILES)
    url = server.serve("/a.zip", Route(archive, stall=2.0))
    with pytest.raises(DatasetDownloadError, match=r"stopped sending for 0\.2s after 0 bytes"):
        download_dataset(NAME, tmp_path, url=url, sha256=sha256(archive), timeout=0.2)
    assert leftovers(tmp_path) == []


def test_an_interrupted_download_leaves_nothing(server: ArchiveServer, tmp_path: Path) -> None:
    archive = zip_bytes(DATASET_FILES)
    url = server.serve("/a.zip", Route(archive))

    class Interrupted(Exception):
        pass

    def interrupt(done: int, total: int | None) -> None:
        if done:  # after the first chunk has been written
            raise Interrupted

    with pytest.raises(Interrupted):
        download_dataset(NAME, tmp_path, url=url, sha256=sha256(archive), progress=interrupt)
    assert leftovers(tmp_path) == []


# Archives -----------------------------------------------------------------------------------------


def symlink(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.create_system = 3
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info


@pytest.mark.parametrize(
    ("member", "problem"),
    [
        (zipfile.ZipInfo(f"{NAME}/../../../../evil.txt"), "'..' in the path"),
        (zipfile.ZipInfo("../evil.txt"), "'..' in the path"),
        (zipfile.ZipInfo("/movieverse-evil.txt"), "absolute path"),
        (zipfile.ZipInfo("C:/evil.txt"), "absolute path"),
        (zipfile.ZipInfo(f"{NAME}\\..\\..\\evil.txt"), "backslash in the name"),
        (symlink(f"{NAME}/evil.txt"), "symbolic link"),
    ],
    ids=["dotdot", "leading-dotdot", "absolute", "drive", "backslash", "symlink"],
)
def test_an_unsafe_member_refuses_the_whole_archive(
    server: ArchiveServer, tmp_path: Path, member: zipfile.ZipInfo, problem: str
) -> None:
    archive = zip_bytes(DATASET_FILES, (member, b"../../../../etc/passwd"))
    url = server.serve("/a.zip", Route(archive))
    root = tmp_path / "root"
    with pytest.raises(DatasetDownloadError) as raised:
        download_dataset(NAME, root, url=url, sha256=sha256(archive))
    assert f"unsafe archive member {member.filename!r}: {problem}" in str(raised.value)
    assert leftovers(root) == []
    assert not list(tmp_path.rglob("*evil*"))
    assert not Path("/movieverse-evil.txt").exists()


def test_a_duplicated_member_is_refused(server: ArchiveServer, tmp_path: Path) -> None:
    archive = zip_bytes(DATASET_FILES, (zipfile.ZipInfo(f"{NAME}/movies.csv"), b"other"))
    url = server.serve("/a.zip", Route(archive))
    with pytest.raises(DatasetDownloadError, match=r"'ml-latest-small/movies\.csv': appears twice"):
        download_dataset(NAME, tmp_path, url=url, sha256=sha256(archive))
    assert leftovers(tmp_path) == []


def test_a_zip_bomb_is_refused(server: ArchiveServer, tmp_path: Path) -> None:
    bomb = zipfile.ZipInfo(f"{NAME}/ratings-huge.csv")
    bomb.compress_type = zipfile.ZIP_DEFLATED
    archive = zip_bytes(DATASET_FILES, (bomb, b"0" * (20 * 1024 * 1024)))
    url = server.serve("/a.zip", Route(archive))
    with pytest.raises(DatasetDownloadError, match="unsafe archive: it declares 20,97"):
        download_dataset(NAME, tmp_path, url=url, sha256=sha256(archive))
    assert leftovers(tmp_path) == []


def test_an_archive_without_the_marker_is_not_the_dataset(
    server: ArchiveServer, tmp_path: Path
) -> None:
    # A flat archive (files at the top, no ml-latest-small/ folder) is not the GroupLens layout.
    flat = {name.removeprefix(f"{NAME}/"): text for name, text in DATASET_FILES.items()}
    archive = zip_bytes(flat)
    url = server.serve("/a.zip", Route(archive))
    with pytest.raises(DatasetDownloadError, match=r"has no ml-latest-small/movies\.csv"):
        download_dataset(NAME, tmp_path, url=url, sha256=sha256(archive))
    assert leftovers(tmp_path) == []


def test_a_file_that_is_no_zip_is_refused(server: ArchiveServer, tmp_path: Path) -> None:
    body = b"<html>a captive portal</html>"
    url = server.serve("/a.zip", Route(body))
    with pytest.raises(DatasetDownloadError, match="not a readable zip archive"):
        download_dataset(NAME, tmp_path, url=url, sha256=sha256(body))
    assert leftovers(tmp_path) == []


# The registry -------------------------------------------------------------------------------------


def test_every_grouplens_dataset_has_a_pinned_checksum_and_a_size_ceiling() -> None:
    grouplens = [info for info in DATASETS.values() if (info.url or "").startswith(GROUPLENS)]
    assert {info.name for info in grouplens} == {"ml-100k", "ml-latest-small", "ml-25m", "ml-32m"}
    for info in grouplens:
        assert info.url == f"{GROUPLENS}/{info.name}.zip"
        assert re.fullmatch("[0-9a-f]{64}", info.sha256 or ""), info.name
        assert info.max_archive_bytes, info.name
    # The one archive size GroupLens publishes exactly fits under its ceiling.
    assert (DATASETS["ml-latest-small"].max_archive_bytes or 0) >= 978_202


def test_a_root_that_is_a_file_is_a_download_error(server: ArchiveServer, tmp_path: Path) -> None:
    root = tmp_path / "datasets"
    root.write_text("not a directory")
    url = server.serve("/a.zip", Route(zip_bytes(DATASET_FILES)))
    with pytest.raises(DatasetDownloadError, match="cannot work under"):
        download_dataset(NAME, root, url=url)
    assert server.requests == []
