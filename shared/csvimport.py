"""CSV import with row-level validation, shared by every service's import commands.

Every row is validated before anything is written: a file with any bad row is refused as a
whole, and each problem is reported by line number and field, so an operator can fix the file
and run the import again (imports are idempotent on their natural keys).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class RowError:
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"line {self.line}, field '{self.field}': {self.message}"


@dataclass(frozen=True)
class ParsedRow(Generic[M]):
    line: int
    value: M


class CsvImportError(Exception):
    """The file was refused; `errors` says where and why. Nothing was written."""

    def __init__(self, errors: list[RowError]) -> None:
        super().__init__("\n".join(str(e) for e in errors))
        self.errors = errors


def parse_csv(
    source: Path | str | Iterable[str], model: type[M], *, unique: tuple[str, ...] = ()
) -> list[ParsedRow[M]]:
    """Validate every row of a CSV file against `model`; raise CsvImportError listing all faults.

    Empty cells are treated as missing values. `unique` names fields whose values must not
    repeat within the file (the natural key).
    """
    text = _read(source)
    reader = csv.DictReader(io.StringIO(text))
    expected = {name for name, f in model.model_fields.items() if f.is_required()}
    header = set(reader.fieldnames or [])
    missing = sorted(expected - header)
    if missing:
        raise CsvImportError([RowError(1, m, "required column is missing") for m in missing])
    unknown = sorted(header - set(model.model_fields))
    if unknown:
        raise CsvImportError([RowError(1, u, "unknown column") for u in unknown])
    rows: list[ParsedRow[M]] = []
    errors: list[RowError] = []
    seen: dict[tuple[str, object], int] = {}
    for record in reader:
        line = reader.line_num
        cleaned = {k: v.strip() for k, v in record.items() if k is not None and v and v.strip()}
        try:
            value = model.model_validate(cleaned)
        except ValidationError as exc:
            errors.extend(_row_errors(line, exc))
            continue
        for key in unique:
            marker = (key, getattr(value, key))
            if marker in seen:
                errors.append(RowError(line, key, f"repeats line {seen[marker]}"))
            seen.setdefault(marker, line)
        rows.append(ParsedRow(line, value))
    if errors:
        raise CsvImportError(errors)
    return rows


def _read(source: Path | str | Iterable[str]) -> str:
    if isinstance(source, Path):
        try:
            return source.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError as exc:
            raise CsvImportError([RowError(1, "(file)", "the file is not UTF-8 text")]) from exc
    if isinstance(source, str):
        return source
    return "".join(source)


def _row_errors(line: int, exc: ValidationError) -> list[RowError]:
    return [
        RowError(line, ".".join(str(p) for p in err["loc"]) or "(row)", err["msg"])
        for err in exc.errors()
    ]
