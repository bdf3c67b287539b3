"""CSV files for spreadsheets, with no cell a spreadsheet would run as a formula.

A value that starts with `=`, `+`, `-`, `@`, a tab or a carriage return is read by Excel,
LibreOffice and Google Sheets as a formula (`=HYPERLINK(...)`, `@SUM(...)`, `-2+3`), and a
provider's name from an import or an id a kiosk sent ends up in a manager's spreadsheet.
Such a text cell is written with a single quote in front (the OWASP recipe): the spreadsheet
shows the text, the quote marks it as text.

Only text is neutralised. A number in a numeric column (a count, a median of -5 minutes)
stays a number: a spreadsheet reads it as a number, never as a formula, and a quote would
turn it into text that no longer sums. A negative number held as text ("-5" in a text
column) cannot be told from a formula and gets the quote like any other text.

Every CSV the dashboard offers goes through `csv_bytes`.
"""

from __future__ import annotations

import pandas as pd
from pandas.api.types import is_bool_dtype, is_datetime64_any_dtype, is_numeric_dtype

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> object:
    """A text cell that would start a formula, quoted; anything else unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _is_data(column: pd.Series) -> bool:
    """Numbers, booleans and times are written as such; everything else is text."""
    dtype = column.dtype
    return is_bool_dtype(dtype) or is_numeric_dtype(dtype) or is_datetime64_any_dtype(dtype)


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of `frame` with every text cell and every column name made safe."""
    safe = frame.copy()
    for position in range(safe.shape[1]):
        column = safe.iloc[:, position]
        if not _is_data(column):
            safe.isetitem(position, column.map(safe_cell))
    safe.columns = [safe_cell(name) for name in frame.columns]
    return safe


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """`frame` as UTF-8 CSV (no index), safe to open in a spreadsheet. Rows end in CRLF
    (RFC 4180), which also makes the writer quote a cell holding a lone carriage return:
    unquoted, a spreadsheet would break the row there."""
    return safe_frame(frame).to_csv(index=False, lineterminator="\r\n").encode("utf-8")
