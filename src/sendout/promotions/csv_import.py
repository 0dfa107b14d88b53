"""Reading codes from a CSV file for ``sendout import-codes``. Pure."""

from __future__ import annotations

import csv
import io

__all__ = ["BATCH", "MAX_CODE_LENGTH", "CodeFileError", "read_codes"]

BATCH = 10_000
MAX_CODE_LENGTH = 1000


class CodeFileError(ValueError):
    """The file cannot be imported; the message names the line."""


def read_codes(text: str) -> list[str]:
    """The codes in the first column, in file order, without duplicates or a ``code`` header."""
    codes: list[str] = []
    for line, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        if not row or not "".join(row).strip():
            continue
        code = row[0].strip()
        if line == 1 and code.lower() == "code":
            continue
        if not code or len(code) > MAX_CODE_LENGTH or not code.isprintable():
            raise CodeFileError(
                f"line {line}: a code must be 1 to {MAX_CODE_LENGTH} printable characters"
            )
        codes.append(code)
    if not codes:
        raise CodeFileError("no codes found")
    return list(dict.fromkeys(codes))
