"""Every `Problem.code` ingest can produce, with its severity and meaning (one line each).

The CLI and the web app can list them; tests check that docs/mapping.md names each one.
"""

from __future__ import annotations

from bufferwise.model.schema import TABLES

ERROR = "error"
WARNING = "warning"

_CODES: dict[str, tuple[str, str]] = {
    # the mapping itself (raised as MappingError before any data is read)
    "bad_mapping": (ERROR, "a mapping key is unknown or has a wrong value"),
    "bad_toml": (ERROR, "the mapping file is not valid TOML"),
    "unknown_mapping": (ERROR, "neither a mapping file nor a shipped mapping name"),
    # file level
    "empty_file": (ERROR, "the file holds no header and no data"),
    "no_data_rows": (ERROR, "the file has a header but no data rows"),
    "bad_header": (ERROR, "a header cell is empty, or a wide-to-long header is not a period"),
    "duplicate_column": (ERROR, "the same column name appears twice in the header"),
    "missing_column": (ERROR, "a column the mapping or the table needs is not in the file"),
    "unreadable_csv": (ERROR, "the bytes cannot be parsed as CSV in the given encoding"),
    "wrong_field_count": (ERROR, "a row has more or fewer fields than the header"),
    # cells
    "missing_value": (ERROR, "a required cell is empty"),
    "not_a_number": (ERROR, "text in a number column"),
    "not_finite": (ERROR, "inf or nan written in a number column"),
    "huge_number": (ERROR, "a number above 1e12 in absolute value"),
    "not_whole": (ERROR, "a fraction in a whole-number column"),
    "negative_value": (ERROR, "a negative value where the minimum is 0"),
    "below_minimum": (ERROR, "a value below the column's minimum"),
    "above_maximum": (ERROR, "a value above the column's maximum"),
    "bad_date": (ERROR, "text that is not a date in the expected format"),
    "bad_datetime": (ERROR, "text that is not a timestamp in the expected format"),
    "not_allowed": (ERROR, "a value outside the column's allowed set"),
    "unmapped_value": (ERROR, "a value the mapping's value map has no entry for"),
    "zero_divisor": (ERROR, "the divide_by column is zero"),
    # rows
    "duplicate_key": (ERROR, "the row repeats the key of an earlier row"),
    "unknown_id": (ERROR, "an id not found in its parent table (import or stored)"),
    "overlapping_state": (
        ERROR,
        "a machine state record overlaps an earlier accepted record of the same machine",
    ),
    # warnings: the row is kept
    "filtered": (WARNING, "the row was dropped by a mapping filter (counted as rejected)"),
    "unknown_column": (WARNING, "a canonical file has a column the table does not know"),
    "interval_capped": (WARNING, "a snapshot interval was cut at max_gap"),
    "outlier": (WARNING, "demand above median + 10 x MAD of its item"),
    "returns": (WARNING, "returns in the bucket (kept apart, not netted)"),
    "gap": (
        WARNING,
        "an item's series misses buckets (counted as zero demand in profiles and sizing)",
    ),
    "over_delivery": (WARNING, "qty_received above qty_ordered"),
    "performance_above_100": (WARNING, "more units than the ideal cycle time allows"),
}


def _rule_codes() -> dict[str, tuple[str, str]]:
    return {
        rule.code: (rule.severity, f"{t.name}: expected {rule.expected}")
        for t in TABLES.values()
        for rule in t.rules
    }


#: code -> (severity, meaning)
PROBLEM_CODES: dict[str, tuple[str, str]] = {**_CODES, **_rule_codes()}
