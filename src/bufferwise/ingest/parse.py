"""Vectorised text -> typed values, with a mask of what did not parse.

All functions take a pyarrow string array of stripped text ("" = empty cell) and return numpy
arrays of the same length: the values plus boolean masks. Nothing loops in Python per row:
numbers go through Arrow's cast (a regular expression locates the failures when the fast cast
refuses the column), dates are parsed once per distinct text with pandas' strptime.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TypeAlias

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from bufferwise.ingest.mapping import Ordinal

TextArray: TypeAlias = pa.Array | pa.ChunkedArray

_NUMBER = r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$"
_NON_FINITE = r"^[+-]?(?i:inf|infinity|nan)$"
_ISO_WEEK = re.compile(r"%[GV]")
_WEEKDAY = re.compile(r"%[uaAw]")
ISO8601 = "ISO8601"


@dataclass(slots=True)
class ParsedNumbers:
    values: np.ndarray  # float64, NaN where empty or bad
    empty: np.ndarray  # bool: the cell was empty
    bad: np.ndarray  # bool: text that is not a number
    non_finite: np.ndarray  # bool: inf / nan written in the cell


@dataclass(slots=True)
class ParsedTimes:
    values: np.ndarray  # datetime64[ns], naive UTC, NaT where empty or bad
    empty: np.ndarray
    bad: np.ndarray


def as_chunked(text: TextArray) -> pa.ChunkedArray:
    return text if isinstance(text, pa.ChunkedArray) else pa.chunked_array([text], pa.string())


def empty_mask(text: TextArray) -> np.ndarray:
    return np.asarray(pc.equal(text, "").to_numpy(zero_copy_only=False), dtype=bool)


def parse_numbers(
    text: TextArray, *, decimal: str = ".", thousands: str | None = None
) -> ParsedNumbers:
    """Text -> float64. "1 234,5" style needs thousands=" " and decimal=","."""
    s = as_chunked(text)
    if thousands:
        s = pc.replace_substring(s, thousands, "")
    if decimal == ",":
        s = pc.replace_substring(s, ",", ".")
    is_empty = pc.equal(s, "")
    empty = np.asarray(is_empty.to_numpy(zero_copy_only=False), dtype=bool)
    filled = as_chunked(pc.if_else(is_empty, "0", s)) if empty.any() else s
    try:
        values = pc.cast(filled, pa.float64()).to_numpy()
        bad = np.zeros(len(empty), dtype=bool)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        ok = np.asarray(
            pc.or_(
                pc.match_substring_regex(filled, _NUMBER),
                pc.match_substring_regex(filled, _NON_FINITE),
            ).to_numpy(zero_copy_only=False),
            dtype=bool,
        )
        safe = pc.if_else(pa.array(ok), filled.combine_chunks(), pa.scalar("0"))
        values = pc.cast(safe, pa.float64()).to_numpy()
        bad = ~ok
    values = np.array(values, dtype=np.float64, copy=True)
    non_finite = ~np.isfinite(values) & ~empty & ~bad
    values[empty | bad] = np.nan
    return ParsedNumbers(values=values, empty=empty, bad=bad, non_finite=non_finite)


def _distinct(text: TextArray) -> tuple[np.ndarray, pd.Series]:
    """(codes per row, distinct texts): dates repeat a lot, so each distinct text is parsed once."""
    encoded = pc.dictionary_encode(as_chunked(text).combine_chunks())
    codes = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64, copy=False)
    uniques = pd.Series(encoded.dictionary.to_numpy(zero_copy_only=False), dtype=object)
    return codes, uniques


def _with_weekday(fmt: str, texts: pd.Series) -> tuple[str, pd.Series]:
    """ISO week labels such as 2012-W07 ("%G-W%V") name a week; strptime needs a weekday to
    make a date, so the Monday (ISO weekday 1) is taken."""
    if _ISO_WEEK.search(fmt) and not _WEEKDAY.search(fmt):
        return fmt + " %u", texts + " 1"
    return fmt, texts


def _parse_distinct(texts: pd.Series, formats: tuple[str, ...], timezone: str | None) -> pd.Series:
    result = pd.Series(pd.NaT, index=texts.index, dtype="datetime64[ns]")
    todo = texts != ""
    for fmt in (*formats, ISO8601):
        if not todo.any():
            break
        sub = texts[todo]
        fmt2, sub2 = _with_weekday(fmt, sub) if fmt != ISO8601 else (fmt, sub)
        parsed = _to_utc(sub2, fmt2, timezone)
        result[parsed.index] = parsed
        todo &= result.isna()
    return result


def _to_utc(texts: pd.Series, fmt: str, timezone: str | None) -> pd.Series:
    aware = "%z" in fmt or "%Z" in fmt
    if timezone is None or aware:
        try:
            out = pd.to_datetime(texts, format=fmt, errors="coerce", utc=True)
        except (ValueError, OverflowError):
            return pd.Series(pd.NaT, index=texts.index, dtype="datetime64[ns]")
        return out.dt.tz_localize(None).astype("datetime64[ns]")
    try:
        naive = pd.to_datetime(texts, format=fmt, errors="coerce")
    except (ValueError, OverflowError):
        naive = pd.to_datetime(texts, format=fmt, errors="coerce", utc=True)
    if naive.dt.tz is not None:
        return naive.dt.tz_convert("UTC").dt.tz_localize(None).astype("datetime64[ns]")
    local = naive.dt.tz_localize(timezone, ambiguous="NaT", nonexistent="NaT")
    return local.dt.tz_convert("UTC").dt.tz_localize(None).astype("datetime64[ns]")


def parse_times(
    text: TextArray,
    *,
    formats: tuple[str, ...] = (),
    timezone: str | None = None,
    ordinal: Ordinal | None = None,
    day_only: bool = False,
) -> ParsedTimes:
    """Text -> datetime64[ns] naive UTC. `formats` are tried in order, then ISO 8601.
    `day_only` keeps the calendar day (midnight), for date columns."""
    codes, uniques = _distinct(text)
    if ordinal is not None:
        parsed = _parse_ordinal(uniques, ordinal)
    else:
        parsed = _parse_distinct(uniques, formats, timezone)
    if day_only:
        parsed = parsed.dt.floor("D")
    values = (
        parsed.to_numpy(dtype="datetime64[ns]")[codes]
        if len(codes)
        else np.empty(0, "datetime64[ns]")
    )
    empty = (uniques == "").to_numpy()[codes] if len(codes) else np.zeros(0, dtype=bool)
    bad = np.isnat(values) & ~empty
    return ParsedTimes(values=values, empty=empty, bad=bad)


def _parse_ordinal(texts: pd.Series, ordinal: Ordinal) -> pd.Series:
    numbers = pd.to_numeric(texts.str.extract(r"(\d+)\D*$", expand=False), errors="coerce")
    steps = numbers - ordinal.first
    valid = steps.notna() & (steps >= 0)
    out = pd.Series(pd.NaT, index=texts.index, dtype="datetime64[ns]")
    if valid.any():
        n = int(steps[valid].max()) + 1
        calendar = pd.date_range(ordinal.start, periods=n, freq=ordinal.freq).to_numpy(
            dtype="datetime64[ns]"
        )
        out[valid] = calendar[steps[valid].astype(np.int64).to_numpy()]
    return out


_STRPTIME_WORDS = {
    "%Y": "YYYY",
    "%y": "YY",
    "%m": "MM",
    "%d": "DD",
    "%b": "Mon",
    "%B": "Month",
    "%H": "HH",
    "%I": "hh",
    "%M": "MM",
    "%S": "SS",
    "%f": "ffffff",
    "%z": "+HH:MM",
    "%Z": "TZ",
    "%p": "AM/PM",
    "%G": "YYYY",
    "%V": "ww",
    "%u": "D",
    "%j": "DDD",
    "%a": "Day",
    "%A": "Weekday",
    "%%": "%",
}


def describe_format(fmt: str) -> str:
    """ "%d-%b-%y" -> "DD-Mon-YY": the format in the words a planner reads."""
    return re.sub(r"%.", lambda m: _STRPTIME_WORDS.get(m.group(0), m.group(0)), fmt)
