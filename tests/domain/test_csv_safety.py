"""CSV exports hold no cell a spreadsheet would run as a formula (issue 11).

Text starting with =, +, -, @, a tab or a carriage return gets a single quote in front (the
OWASP recipe). Numbers in numeric columns stay numbers: -5 minutes is data, and a quote would
make it text that no longer sums; "-5" held as text cannot be told from a formula and is quoted.
"""

from __future__ import annotations

import csv
import io

import pandas as pd
import pytest

from shared.services.csv_export import csv_bytes, safe_cell


def _rows(frame: pd.DataFrame) -> list[list[str]]:
    return list(csv.reader(io.StringIO(csv_bytes(frame).decode("utf-8"), newline="")))


@pytest.mark.parametrize("value", [
    '=HYPERLINK("http://evil.example/a.png","x")',
    "+1+2",
    "-2+3",
    "@SUM(A1:A9)",
    "\t=1+1",
    "\r=1+1",
    "-5",
])
def test_a_text_cell_that_starts_a_formula_is_quoted(value: str) -> None:
    assert safe_cell(value) == "'" + value
    rows = _rows(pd.DataFrame({"Name": [value]}))
    assert rows == [["Name"], ["'" + value]]


@pytest.mark.parametrize("value", [
    "Dr. Lena Fischer", "Main Street Clinic", "O'Neil", "a=b", "x-ray", "", "{\"a\": 1}",
    "![x](http://evil.example/a.png)",
])
def test_ordinary_text_is_untouched(value: str) -> None:
    assert safe_cell(value) == value
    assert _rows(pd.DataFrame({"Name": [value]})) == [["Name"], [value]]


def test_numbers_stay_numbers_and_blanks_stay_blank() -> None:
    frame = pd.DataFrame({
        "Count": [-5, 3],
        "Median": [-1.5, None],
        "Record": pd.array([None, -7], dtype="Int64"),
        "Open": [True, False],
    })
    assert _rows(frame) == [["Count", "Median", "Record", "Open"],
                            ["-5", "-1.5", "", "True"], ["3", "", "-7", "False"]]


def test_column_names_are_cells_too_and_a_lone_carriage_return_is_quoted() -> None:
    frame = pd.DataFrame({"=cmd": ["a\rb"], "ok": [1]})
    data = csv_bytes(frame)
    assert data == b"'=cmd,ok\r\n\"a\rb\",1\r\n"
