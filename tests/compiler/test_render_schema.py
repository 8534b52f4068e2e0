"""``docs/plan.schema.json`` is the Plan's JSON Schema as the code defines it, not a stale copy.

Regenerate it with ``.venv/bin/python tests/compiler/test_render_schema.py --write``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from flowc.plan import SCHEMA, Plan

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "docs" / "plan.schema.json"
REGENERATE = ".venv/bin/python tests/compiler/test_render_schema.py --write"


def schema_text() -> str:
    return json.dumps(Plan.json_schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def test_committed_schema_is_fresh() -> None:
    committed = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    assert committed == Plan.json_schema(), (
        f"{SCHEMA_FILE} is stale: flowc/plan.py changed. Regenerate it with: {REGENERATE}"
    )
    assert SCHEMA_FILE.read_text(encoding="utf-8") == schema_text(), f"reformat: {REGENERATE}"


def test_the_plan_format_doc_names_the_schema_version() -> None:
    doc = (SCHEMA_FILE.parent / "plan-format.md").read_text(encoding="utf-8")
    assert f'"schema": "{SCHEMA}"' in doc
    for field in Plan.json_schema()["$defs"]["Node"]["properties"]:
        assert f"`{field}`" in doc, f"docs/plan-format.md does not describe Node.{field}"


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        sys.exit(f"usage: {REGENERATE}")
    SCHEMA_FILE.write_text(schema_text(), encoding="utf-8")
    print(f"wrote {SCHEMA_FILE}")
