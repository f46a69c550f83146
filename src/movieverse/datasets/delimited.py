"""Reading delimited text files row by row, with the physical line number where each row starts.

Two shapes cover every dataset here:
- :func:`csv_records`: RFC 4180 CSV with a header (MovieLens latest/25m/32m, TMDB 5000). Fields may
  be quoted and hold commas and newlines; the ``csv`` module handles that.
- :func:`split_lines`: one record per line, no quoting, a fixed delimiter (ml-100k's ``u.*`` files).

Files are opened with ``newline="\\n"`` so that only ``\\n`` ends a physical line. Line numbers
then agree with ``wc -l``, ``sed -n`` and ``grep -n``, a ``\\r\\n`` file reads the same as a ``\\n``
file, and a lone ``\\r`` inside a quoted field (three TMDB overviews have one) stays part of the
field instead of shifting every later line number as universal-newline reading would.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from operator import itemgetter
from pathlib import Path
from typing import TextIO

from movieverse.datasets.records import BadRow, DatasetFormatError, Report

UTF8_BOM = b"\xef\xbb\xbf"


def open_text(path: Path, encoding: str) -> TextIO:
    return path.open(encoding=encoding, newline="\n")


def sniff_encoding(path: Path, default: str) -> str:
    """``utf-8-sig`` when the file starts with a UTF-8 byte-order mark, else ``default``.

    ml-100k is Latin-1, but a copy re-saved by an editor often comes back as UTF-8 with a BOM;
    decoding that as Latin-1 would turn every accented letter into two wrong ones.
    """
    with path.open("rb") as handle:
        return "utf-8-sig" if handle.read(len(UTF8_BOM)) == UTF8_BOM else default


def csv_records(
    path: Path, *, columns: Sequence[str], report: Report
) -> Iterator[tuple[int, tuple[str, ...]]]:
    """Yield ``(line, fields)`` for each CSV row, the fields picked in ``columns`` order.

    A missing header column makes the whole file unreadable (:class:`DatasetFormatError`). A row
    with a different number of fields than the header, or that the ``csv`` module cannot parse, is
    reported and skipped. Blank lines are not rows and are passed over. A UTF-8 BOM is dropped.
    """
    if len(columns) < 2:  # itemgetter returns a bare value, not a tuple, for one column
        raise ValueError("csv_records needs at least two columns")
    name = str(path)
    with open_text(path, "utf-8-sig") as handle:
        reader = csv.reader(handle)
        try:
            header = next(reader, None)
        except csv.Error as exc:
            raise DatasetFormatError(f"{name}:1: unreadable header: {exc}") from exc
        except UnicodeDecodeError as exc:
            raise _not_utf8(name, 1, exc) from exc
        if header is None:
            raise DatasetFormatError(f"{name}: empty file, expected a header row")
        header = [column.strip() for column in header]
        missing = [column for column in columns if column not in header]
        if missing:
            raise DatasetFormatError(
                f"{name}:1: missing column(s) {', '.join(missing)} (header: {', '.join(header)})"
            )
        pick = itemgetter(*(header.index(column) for column in columns))
        width = len(header)
        # csv.reader.line_num is the line where the last row *ended*; the next row starts after it.
        previous_end = reader.line_num
        while True:
            try:
                for row in reader:
                    line = previous_end + 1
                    previous_end = reader.line_num
                    if len(row) == width:
                        yield line, pick(row)
                    elif row:
                        reason = f"expected {width} fields, found {len(row)}"
                        report(BadRow(name, line, reason + _span(line, previous_end)))
                return
            except csv.Error as exc:
                # The reader resets after an error, so reading resumes with the next line. An
                # unclosed quote swallows lines up to the error: the reason gives the whole span.
                line = previous_end + 1
                previous_end = reader.line_num
                report(BadRow(name, line, f"malformed CSV: {exc}{_span(line, previous_end)}"))
            except UnicodeDecodeError as exc:
                raise _not_utf8(name, previous_end + 1, exc) from exc


def _not_utf8(name: str, line: int, exc: UnicodeDecodeError) -> DatasetFormatError:
    # Text is decoded in blocks ahead of the parser, so the failing byte is at or after this line.
    return DatasetFormatError(f"{name}:{line}: not valid UTF-8 at or after this line ({exc})")


def _span(first: int, last: int) -> str:
    return f" (row spans lines {first}-{last})" if last > first else ""


def split_lines(path: Path, *, delimiter: str, encoding: str) -> Iterator[tuple[int, list[str]]]:
    """Yield ``(line, fields)`` for each non-blank line split on ``delimiter``."""
    name = str(path)
    with open_text(path, encoding) as handle:
        try:
            for number, line in enumerate(handle, start=1):
                text = line.rstrip("\r\n")
                if number == 1:
                    text = text.removeprefix("\ufeff")
                if text:
                    yield number, text.split(delimiter)
        except UnicodeDecodeError as exc:
            raise DatasetFormatError(f"{name}: not valid {encoding}: {exc}") from exc
