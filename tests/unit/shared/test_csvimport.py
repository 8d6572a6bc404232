"""CSV import validates every row first and names line and field for each fault."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, EmailStr, Field

from shared.csvimport import CsvImportError, parse_csv


class Row(BaseModel):
    code: str = Field(min_length=2)
    email: EmailStr
    places: int = Field(ge=0)
    note: str | None = None


def test_good_rows_parse_with_their_line_numbers() -> None:
    rows = parse_csv("code,email,places,note\nAB,a@x.org,2,\nCD,c@x.org,0,hi\n", Row)
    assert [(r.line, r.value.code, r.value.note) for r in rows] == [
        (2, "AB", None),
        (3, "CD", "hi"),
    ]


def test_every_bad_row_is_reported_by_line_and_field() -> None:
    text = "code,email,places\nAB,a@x.org,2\nC,not-an-email,-1\nEF,e@x.org,many\n"
    with pytest.raises(CsvImportError) as caught:
        parse_csv(text, Row)
    faults = [(e.line, e.field) for e in caught.value.errors]
    assert faults == [(3, "code"), (3, "email"), (3, "places"), (4, "places")]
    assert "line 3, field 'email'" in str(caught.value)


def test_missing_and_unknown_columns_are_refused_before_any_row() -> None:
    with pytest.raises(CsvImportError, match="'places': required column is missing"):
        parse_csv("code,email\nAB,a@x.org\n", Row)
    with pytest.raises(CsvImportError, match="'colour': unknown column"):
        parse_csv("code,email,places,colour\nAB,a@x.org,1,red\n", Row)


def test_a_repeated_natural_key_is_reported() -> None:
    with pytest.raises(CsvImportError, match="line 3, field 'code': repeats line 2"):
        parse_csv("code,email,places\nAB,a@x.org,1\nAB,b@x.org,2\n", Row, unique=("code",))
