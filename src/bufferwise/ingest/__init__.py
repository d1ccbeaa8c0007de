"""Ingest: CSV / Excel / Parquet files and mapping files -> canonical tables (`ImportBatch`).

    batch = read_with_mapping("SCMS_Delivery_History_Dataset.csv", "scms_receipts")
    batch = read_canonical("demand.csv", "demand", known_ids={"items": stored_item_ids})
    enforce_policy(batch, "default")      # raises ImportRejected when nothing may be written
    for tables in FileSlices("demand.csv", table="demand"):   # a big file, slice by slice,
        ...                                                     # same rows and problems

Pure I/O and pandas / pyarrow: no database, no CLI. The mapping format is documented in
docs/mapping.md; the checks in `bufferwise.ingest.validate` and `bufferwise.ingest.checks`.
"""

from bufferwise.ingest.codes import PROBLEM_CODES
from bufferwise.ingest.mapping import (
    Mapping,
    load_mapping,
    parse_mapping,
    parse_mapping_text,
    shipped_mappings,
)
from bufferwise.ingest.pipeline import (
    DEFAULT_SLICE_ROWS,
    FileSlices,
    KnownIds,
    read_canonical,
    read_with_mapping,
)
from bufferwise.ingest.policy import MODES, enforce_policy
from bufferwise.ingest.readers import RawTable, read_table

__all__ = [
    "DEFAULT_SLICE_ROWS",
    "MODES",
    "PROBLEM_CODES",
    "FileSlices",
    "KnownIds",
    "Mapping",
    "RawTable",
    "enforce_policy",
    "load_mapping",
    "parse_mapping",
    "parse_mapping_text",
    "read_canonical",
    "read_table",
    "read_with_mapping",
    "shipped_mappings",
]
