"""Vectorised text -> typed values, with a mask of what did not parse.

All functions take a pyarrow string array of stripped text ("" = empty cell) and return numpy
arrays of the same length: the values plus boolean masks. Nothing loops in Python per row:
numbers go through Arrow's cast (a regular expression locates the failures when the fast cast
refuses the column), dates are parsed once per distinct text with pandas' strptime.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeAlias

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pandas.tseries.frequencies import to_offset

if TYPE_CHECKING:
    from bufferwise.ingest.mapping import Ordinal

TextArray: TypeAlias = pa.Array | pa.ChunkedArray

_NUMBER = r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$"
_NON_FINITE = r"^[+-]?(?i:inf|infinity|nan)$"
_ISO_WEEK = re.compile(r"%[GV]")
_WEEKDAY = re.compile(r"%[uaAw]")
ISO8601 = "ISO8601"
_ISO_OFFSET = r"(?i)[T ]\d{2}.*(Z|[+-]\d{2}(:?\d{2})?)$"  # an ISO 8601 time with an offset


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
    # subsets of `bad`: text in the expected format whose local time (`timezone`) does not
    # exist (skipped when summer time starts) or happens twice (when summer time ends)
    nonexistent: np.ndarray
    ambiguous: np.ndarray


def timestamp_text(when: pd.Timestamp | np.datetime64 | int) -> str:
    """A timestamp (or int64 ns since 1970) as text in messages: the date alone at midnight
    ("2024-01-01"), else pandas' text ("2024-01-01 08:00:00")."""
    t = pd.Timestamp(when)
    return str(t.date()) if t == t.normalize() else str(t)


def as_chunked(text: TextArray) -> pa.ChunkedArray:
    return text if isinstance(text, pa.ChunkedArray) else pa.chunked_array([text], pa.string())


def _grouping_regex(decimal: str, thousands: str) -> str:
    """A number written with thousands groups: 1 to 3 leading digits, then groups of exactly
    3 digits after each separator, then an optional decimal part ("1.234.567,89")."""
    t, d = f"[{thousands}]", f"[{decimal}]"
    return rf"^[+-]?\d{{1,3}}({t}\d{{3}})+({d}\d*)?$"


def parse_numbers(
    text: TextArray, *, decimal: str = ".", thousands: str | None = None
) -> ParsedNumbers:
    """Text -> float64. "1 234,5" style needs thousands=" " and decimal=",".

    The thousands separator is accepted only between valid groups of three digits ("1.234,5",
    "12.345.678"); a number with no separator at all is read as usual. Anything else holding
    the separator ("1.5" or "1.2.3" with thousands=".") is not a number: removing the
    separator would silently turn it into another value."""
    s = as_chunked(text)
    misgrouped: np.ndarray | None = None
    if thousands:
        has_sep = pc.match_substring(s, thousands)
        if pc.any(has_sep).as_py():
            ok_groups = pc.match_substring_regex(s, _grouping_regex(decimal, thousands))
            misgrouped = np.asarray(
                pc.and_not(has_sep, ok_groups).to_numpy(zero_copy_only=False), dtype=bool
            )
            if not misgrouped.any():
                misgrouped = None
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
    if misgrouped is not None:
        bad = bad | misgrouped
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


def _nat(index: pd.Index) -> pd.Series:
    return pd.Series(pd.NaT, index=index, dtype="datetime64[ns]")


def _parse_distinct(
    texts: pd.Series, formats: tuple[str, ...], timezone: str | None, *, wall: bool = False
) -> tuple[pd.Series, pd.Series, pd.Series]:
    """(times, nonexistent, ambiguous) per distinct text. `wall`: the date and time as written,
    any offset dropped, not converted (a date column keeps the calendar day of its text)."""
    result = _nat(texts.index)
    nonexistent = pd.Series(False, index=texts.index)
    ambiguous = pd.Series(False, index=texts.index)
    todo = texts != ""
    for fmt in (*formats, ISO8601):
        if not todo.any():
            break
        sub = texts[todo]
        fmt2, sub2 = _with_weekday(fmt, sub) if fmt != ISO8601 else (fmt, sub)
        if wall:
            parsed = _wall_clock(sub2, fmt2)
        else:
            parsed, gap, twice = _to_utc(sub2, fmt2, timezone)
            nonexistent[gap.index[gap.to_numpy()]] = True
            ambiguous[twice.index[twice.to_numpy()]] = True
        result[parsed.index] = parsed
        todo &= result.isna()
    read = result.notna()  # read by another format: not a summer-time problem
    return result, nonexistent & ~read, ambiguous & ~read


def _wall_clock(texts: pd.Series, fmt: str) -> pd.Series:
    """The date and time as written: an offset in the text is dropped, never converted."""
    with warnings.catch_warnings():
        # texts with different offsets come back as objects (pandas < 3 warns about it)
        warnings.simplefilter("ignore", FutureWarning)
        try:
            out = pd.to_datetime(texts, format=fmt, errors="coerce")
        except (ValueError, OverflowError):
            return _nat(texts.index)
    if out.dtype == object:
        out = pd.Series(
            [pd.NaT if pd.isna(v) else pd.Timestamp(v).tz_localize(None) for v in out],
            index=texts.index,
            dtype="datetime64[ns]",
        )
    elif isinstance(out.dtype, pd.DatetimeTZDtype):
        out = out.dt.tz_localize(None)
    return out.astype("datetime64[ns]")


def _to_utc(
    texts: pd.Series, fmt: str, timezone: str | None
) -> tuple[pd.Series, pd.Series, pd.Series]:
    """(naive UTC, nonexistent, ambiguous): the masks flag text in the format whose local time
    in `timezone` does not exist or happens twice (summer-time changes)."""
    no = pd.Series(False, index=texts.index)
    aware = "%z" in fmt or "%Z" in fmt
    if fmt == ISO8601 and len(texts):
        # pandas gives an ISO text without an offset the offset of an earlier text that has
        # one ("2024-03-31T02:30" after "...T10:00+02:00" is read at +02:00): split them
        has_offset = np.asarray(
            pc.match_substring_regex(
                pa.array(texts.to_numpy(dtype=object), pa.string()), _ISO_OFFSET
            ).to_numpy(zero_copy_only=False),
            dtype=bool,
        )
        if has_offset.any() and not has_offset.all():
            return _split_offsets(texts, has_offset, fmt, timezone)
    if timezone is None or aware:
        try:
            out = pd.to_datetime(texts, format=fmt, errors="coerce", utc=True)
        except (ValueError, OverflowError):
            return _nat(texts.index), no, no
        return out.dt.tz_localize(None).astype("datetime64[ns]"), no, no
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        try:
            naive = pd.to_datetime(texts, format=fmt, errors="coerce")
        except (ValueError, OverflowError):
            naive = pd.to_datetime(texts, format=fmt, errors="coerce", utc=True)
    if naive.dtype == object:  # texts with and without an offset the split above missed
        has_offset = np.array([not pd.isna(v) and v.tzinfo is not None for v in naive])
        return _split_offsets(texts, has_offset, fmt, timezone)
    if naive.dt.tz is not None:
        utc = naive.dt.tz_convert("UTC").dt.tz_localize(None).astype("datetime64[ns]")
        return utc, no, no
    local = naive.dt.tz_localize(timezone, ambiguous="NaT", nonexistent="NaT")
    failed = naive.notna() & local.isna()
    gap, twice = no, no
    if failed.any():
        # tell a skipped hour from a repeated one: the repeated one exists once a side is chosen
        chosen = naive.dt.tz_localize(
            timezone, ambiguous=np.ones(len(naive), dtype=bool), nonexistent="NaT"
        )
        gap = failed & chosen.isna()
        twice = failed & ~gap
    return local.dt.tz_convert("UTC").dt.tz_localize(None).astype("datetime64[ns]"), gap, twice


def _split_offsets(
    texts: pd.Series, has_offset: np.ndarray, fmt: str, timezone: str | None
) -> tuple[pd.Series, pd.Series, pd.Series]:
    """`_to_utc` on the texts with an offset and on those without, each part on its own."""
    out = _nat(texts.index)
    gap = pd.Series(False, index=texts.index)
    twice = pd.Series(False, index=texts.index)
    with_offset = _to_utc(texts[has_offset], fmt, None)[0]
    out.loc[with_offset.index] = with_offset
    local, local_gap, local_twice = _to_utc(texts[~has_offset], fmt, timezone)
    out.loc[local.index] = local
    gap.loc[local.index] = local_gap.to_numpy(dtype=bool)
    twice.loc[local.index] = local_twice.to_numpy(dtype=bool)
    return out, gap, twice


def parse_times(
    text: TextArray,
    *,
    formats: tuple[str, ...] = (),
    timezone: str | None = None,
    ordinal: Ordinal | None = None,
    day_only: bool = False,
) -> ParsedTimes:
    """Text -> datetime64[ns] naive UTC. `formats` are tried in order, then ISO 8601.

    `day_only` (date columns) keeps the calendar day as written: a time of day is dropped and
    an offset is ignored, never converted to UTC (`timezone` does not apply), so
    "2024-01-01 00:30:00+02:00" is 2024-01-01."""
    codes, uniques = _distinct(text)
    gap = twice = None
    if ordinal is not None:
        parsed = _parse_ordinal(uniques, ordinal)
    elif day_only:
        parsed, _, _ = _parse_distinct(uniques, formats, None, wall=True)
    else:
        parsed, gap, twice = _parse_distinct(uniques, formats, timezone)
    if day_only:
        parsed = parsed.dt.floor("D")
    n = len(codes)
    values = parsed.to_numpy(dtype="datetime64[ns]")[codes] if n else np.empty(0, "datetime64[ns]")
    empty = (uniques == "").to_numpy()[codes] if n else np.zeros(0, dtype=bool)
    bad = np.isnat(values) & ~empty
    nonexistent, ambiguous = (
        (m.to_numpy(dtype=bool)[codes] if m is not None and n else np.zeros(n, dtype=bool))
        for m in (gap, twice)
    )
    return ParsedTimes(
        values=values, empty=empty, bad=bad, nonexistent=nonexistent, ambiguous=ambiguous
    )


def _parse_ordinal(texts: pd.Series, ordinal: Ordinal) -> pd.Series:
    """Each distinct period number is turned into its date on its own, so a far-out number
    ("period_99999") costs one date, and one past the last storable date (2262) is a bad
    text (NaT), not an error for the whole column."""
    digits = texts.str.extract(r"(\d+)\D*$", expand=False)
    offset = to_offset(ordinal.freq)
    # == ordinal.start: mappings check that it is on freq
    base = pd.Timestamp(offset.rollforward(ordinal.start))
    days: dict[str, pd.Timestamp] = {}
    for number in digits.dropna().unique():
        steps = int(number) - ordinal.first
        if steps < 0:
            continue
        try:
            days[number] = pd.Timestamp(base + steps * offset if steps else base).as_unit("ns")
        except (ValueError, OverflowError):  # OutOfBoundsDatetime is a ValueError
            continue
    if not days:
        return _nat(texts.index)
    return pd.Series(digits.map(days), index=texts.index, dtype="datetime64[ns]")


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
