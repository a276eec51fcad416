"""Self-contained HTML and JSON reports.

>>> import telltale
>>> result = telltale.report("train.parquet", "week.parquet", target="label")  # doctest: +SKIP
>>> result.save_html("report.html"), result.save_json("report.json")  # doctest: +SKIP
"""

import sys
import types
from typing import Any

from telltale.report.build import STEPS, DataReport, report

__all__ = ["STEPS", "DataReport", "report"]


class _CallableModule(types.ModuleType):
    """``telltale.report`` is both this package and the function users call.

    Importing the package (``from telltale.report import ...``) makes Python set the attribute
    ``telltale.report`` to the module, hiding the function; a callable module keeps
    ``telltale.report(...)`` working either way.
    """

    def __call__(self, *args: Any, **kwargs: Any) -> DataReport:
        return report(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
