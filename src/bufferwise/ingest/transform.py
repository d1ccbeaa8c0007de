"""Apply a mapping's structural steps to raw text: filters, wide-to-long, column selection,
constants and value maps. The result (`Staged`) is still text, one row per future canonical
row, each carrying the source data row it came from; `validate` parses and checks it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from bufferwise.errors import MappingError, Problem
from bufferwise.ingest.mapping import ColumnSpec, FilterSpec, Mapping, MeltSpec, TableMapping
from bufferwise.ingest.readers import RawTable
from bufferwise.model.schema import Table


@dataclass(frozen=True, slots=True)
class CellNames:
    """The column header of each wide-to-long row's value cell, kept as small integers."""

    headers: tuple[str, ...]
    index: np.ndarray  # int32 position in `headers`, one per long row

    def __getitem__(self, position: int) -> str:
        return self.headers[int(self.index[position])]

    def __len__(self) -> int:
        return len(self.index)


@dataclass(slots=True)
class StagedColumn:
    """Text for one canonical column. `source` names the source column in messages; for the
    value of a wide-to-long cell the header of that cell is used instead (`Staged.cell_names`)."""

    name: str
    text: pa.ChunkedArray
    source: str
    spec: ColumnSpec
    divisor: pa.ChunkedArray | None = None
    unmapped: np.ndarray | None = None  # bool: a value the value map has no entry for
    from_cell: bool = False  # the text is the value of a wide-to-long cell


@dataclass(slots=True)
class Staged:
    mapping: TableMapping
    rows: np.ndarray  # source data row (1-based) of each staged row
    columns: dict[str, StagedColumn]
    cell_names: CellNames | None = None  # wide-to-long: the header of each row's value cell

    @property
    def schema(self) -> Table:
        return self.mapping.schema

    def __len__(self) -> int:
        return len(self.rows)


def check_source_columns(raw: RawTable, mapping: Mapping) -> None:
    """Raise `MappingError` when the mapping names a column the file does not have."""
    if not raw.columns:  # an empty / unreadable file is reported by the reader
        return
    present = set(raw.columns)
    missing = [c for c in mapping.source_columns() if c not in present]
    if not missing:
        return
    listed = ", ".join(raw.columns)
    problems = [
        Problem(
            raw.file,
            0,
            col,
            None,
            f"is named by mapping {mapping.name} but is not a column of the file "
            f"(columns in the file: {listed})",
            code="missing_column",
        )
        for col in missing
    ]
    raise MappingError("; ".join(p.message() for p in problems), problems)


def apply_filters(
    raw: RawTable, filters: tuple[FilterSpec, ...]
) -> tuple[np.ndarray, list[Problem]]:
    """(mask of rows kept, one "filtered" problem per dropped row, naming the reason)."""
    keep = np.ones(raw.table.num_rows, dtype=bool)
    problems: list[Problem] = []
    for spec in filters:
        text = raw.table.column(spec.column)
        if spec.equals is not None:
            hit = pc.equal(text, spec.equals)
        elif spec.one_of is not None:
            hit = pc.is_in(text, value_set=pa.array(spec.one_of, pa.string()))
        elif spec.matches is not None:
            hit = pc.match_substring_regex(text, f"^(?:{spec.matches})$")
        else:
            hit = pc.equal(text, "")
        dropped = np.asarray(hit.to_numpy(zero_copy_only=False), dtype=bool) & keep
        keep &= ~dropped
        positions = np.flatnonzero(dropped)
        values = text.take(pa.array(positions)).to_pylist() if len(positions) else []
        expected = f"row dropped by the mapping's filter ({spec.describe()}): {spec.reason}"
        problems.extend(
            Problem(
                raw.file,
                int(raw.row_numbers[p]),
                spec.column,
                v,
                expected,
                severity="warning",
                code="filtered",
            )
            for p, v in zip(positions, values, strict=True)
        )
    return keep, problems


def melt(
    table: pa.Table, rows: np.ndarray, spec: MeltSpec
) -> tuple[pa.Table, np.ndarray, CellNames]:
    """Wide -> long: (long table of id columns + header_to + value_to, source rows, cell headers).
    Cells are taken row by row, left to right, so long rows stay in source order. Everything
    stays in Arrow: no Python object per cell."""
    value_columns = list(spec.value_columns) or [
        c for c in table.column_names if c not in spec.id_columns
    ]
    n, k = table.num_rows, len(value_columns)
    if k == 0:
        expected = "has no columns to unpivot besides melt.id_columns (expected period columns)"
        problem = Problem("<file>", 0, None, None, expected, code="missing_column")
        raise MappingError(f"the file {expected}", [problem])
    stacked = pa.concat_arrays([table.column(c).combine_chunks() for c in value_columns])
    row_major = np.arange(n * k, dtype=np.int64).reshape(k, n).T.ravel()
    values = stacked.take(pa.array(row_major))
    source_index = np.repeat(np.arange(n, dtype=np.int64), k)
    header_index = np.tile(np.arange(k, dtype=np.int32), n)
    empty = pc.equal(values, "")
    if spec.empty_cells == "missing":
        keep = pc.invert(empty)
        values = values.filter(keep)
        keep_np = np.asarray(keep.to_numpy(zero_copy_only=False), dtype=bool)
        source_index, header_index = source_index[keep_np], header_index[keep_np]
    elif spec.empty_cells == "zero":
        values = pc.if_else(empty, "0", values)
    headers = pa.DictionaryArray.from_arrays(
        pa.array(header_index, pa.int32()), pa.array(value_columns, pa.string())
    ).cast(pa.string())
    take = pa.array(source_index)
    out = {c: table.column(c).take(take) for c in spec.id_columns}
    out[spec.header_to] = pa.chunked_array([headers])
    out[spec.value_to] = pa.chunked_array([values])
    return pa.table(out), rows[source_index], CellNames(tuple(value_columns), header_index)


def _normalise_key(text: str) -> str:
    """Numbers compare by value in value maps ("2", "2.0" and "02" are the same key)."""
    try:
        number = float(text)
    except ValueError:
        return text
    return repr(number) if np.isfinite(number) else text


def apply_value_map(
    text: pa.ChunkedArray, value_map: dict[str, str]
) -> tuple[pa.ChunkedArray, np.ndarray]:
    """(mapped text, mask of non-empty values with no entry). Each distinct value is looked up
    once, so this stays fast on millions of rows."""
    encoded = pc.dictionary_encode(text.combine_chunks())
    uniques = encoded.dictionary.to_pylist()
    lookup = {_normalise_key(k): v for k, v in value_map.items()}
    mapped: list[str] = []
    unmapped_codes: list[int] = []
    for i, value in enumerate(uniques):
        hit = value_map.get(value)
        if hit is None:
            hit = lookup.get(_normalise_key(value))
        if hit is None:
            if value != "":
                unmapped_codes.append(i)
            hit = "" if value == "" else value
        mapped.append(hit)
    indices = encoded.indices
    out = pa.array(mapped, pa.string()).take(indices)
    unmapped = np.isin(
        indices.to_numpy(zero_copy_only=False), np.array(unmapped_codes, dtype=np.int64)
    )
    return pa.chunked_array([out]), unmapped


def stage_table(raw_table: pa.Table, rows: np.ndarray, mapping: TableMapping) -> Staged:
    """Text for every canonical column `mapping` fills, one row per future canonical row."""
    table: pa.Table = raw_table
    cell_names: CellNames | None = None
    value_source: str | None = None
    if mapping.melt is not None:
        table, rows, cell_names = melt(raw_table, rows, mapping.melt)
        value_source = mapping.melt.value_to
    n = table.num_rows
    columns: dict[str, StagedColumn] = {}
    for name, spec in mapping.columns.items():
        if spec.constant is not None:
            text = pa.chunked_array(
                [pa.array(np.full(n, spec.constant, dtype=object), pa.string())]
            )
            source = name
        else:
            assert spec.column is not None
            text = table.column(spec.column)
            source = spec.column
        unmapped = None
        if spec.map is not None:
            text, unmapped = apply_value_map(text, spec.map)
        divisor = table.column(spec.divide_by) if spec.divide_by is not None else None
        columns[name] = StagedColumn(
            name=name,
            text=text,
            source=source,
            spec=spec,
            divisor=divisor,
            unmapped=unmapped,
            from_cell=value_source is not None and spec.column == value_source,
        )
    return Staged(mapping=mapping, rows=rows, columns=columns, cell_names=cell_names)


def canonical_mapping(raw: RawTable, schema: Table) -> tuple[TableMapping, list[Problem]]:
    """A mapping for a file already in canonical shape: each schema column the file has is
    read as is. Returns problems for missing required columns (errors) and for columns the
    schema does not know (warnings: they are ignored)."""
    present = set(raw.columns)
    problems: list[Problem] = []
    if raw.columns:
        listed = ", ".join(raw.columns)
        for col in schema.required_columns:
            if col not in present:
                problems.append(
                    Problem(
                        raw.file,
                        0,
                        col,
                        None,
                        f"is a required {schema.name} column but is not in the file "
                        f"(columns in the file: {listed})",
                        code="missing_column",
                    )
                )
        for col in raw.columns:
            if col not in schema.column_names:
                problems.append(
                    Problem(
                        raw.file,
                        0,
                        col,
                        None,
                        f"is not a {schema.name} column and is ignored "
                        f"(known columns: {', '.join(schema.column_names)})",
                        severity="warning",
                        code="unknown_column",
                    )
                )
    columns = {c: ColumnSpec(column=c) for c in schema.column_names if c in present}
    return TableMapping(table=schema.name, columns=columns), problems


def describe_unmapped(spec: ColumnSpec) -> str:
    keys = list((spec.map or {}).keys())
    shown = ", ".join(keys[:12]) + (", ..." if len(keys) > 12 else "")
    return f"has no entry in the mapping's value map (expected one of {shown})"


def frame_of(columns: dict[str, np.ndarray | pa.ChunkedArray]) -> pd.DataFrame:
    """A DataFrame from numpy arrays and Arrow string arrays (strings stay Arrow-backed)."""
    data: dict[str, object] = {}
    for name, values in columns.items():
        if isinstance(values, pa.ChunkedArray):
            data[name] = pd.arrays.ArrowStringArray(
                values if values.num_chunks else pa.chunked_array([], pa.string())
            )
        else:
            data[name] = values
    return pd.DataFrame(data)
