"""flowc's linter: rules over the compiler's facts about futures, maps and task calls.

from flowc.lint import lint_source
for finding in lint_source(source, "flow.py").findings:
    print(finding.format())   # flow.py:9:5: FC001 future of 'add' is never resolved: ...
"""

from __future__ import annotations

from flowc.lint.engine import LintResult, lint_source
from flowc.lint.model import Edit, Finding, Fix

__all__ = ["Edit", "Finding", "Fix", "LintResult", "lint_source"]
