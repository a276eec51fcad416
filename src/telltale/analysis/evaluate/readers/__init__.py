"""Readers of the evaluation input formats: CoNLL, TSV, one record per line, JSON layouts, tables.

Each reader turns a file into plain Python columns and raises
:class:`~telltale.errors.DataError` naming the file, the line (or record, or sentence) and the
fix; the tasks decide which fields they need.
"""

from .conll import ConllDocument, ConllSentence, read_conll
from .delimited import read_record_lines, read_tsv
from .explainaboard_json import JsonRecords, read_json_records
from .table import read_table_columns

__all__ = [
    "ConllDocument",
    "ConllSentence",
    "JsonRecords",
    "read_conll",
    "read_json_records",
    "read_record_lines",
    "read_table_columns",
    "read_tsv",
]
