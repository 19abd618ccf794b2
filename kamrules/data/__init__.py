"""Data in and out: reading customer exports (CSV, XLSX, JSON, Parquet) into typed columns, and
writing tables and the atomic output folder."""

from kamrules.data.reader import DataIssue, ReadOptions, ReadResult, load_column_mapping, read_table
from kamrules.data.tables import table_bytes
from kamrules.data.writer import write_outputs

__all__ = ["DataIssue", "ReadOptions", "ReadResult", "load_column_mapping", "read_table", "table_bytes",
           "write_outputs"]
