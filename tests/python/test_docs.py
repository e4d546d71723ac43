"""The docs say what the code does: the models of docs/development.md's run-order table are every model of
models/, each listed once, and each reads (by `ref()`) only models of earlier steps."""

from __future__ import annotations

import re

from conftest import PROJECT_DIR

REF = re.compile(r"""ref\(\s*['"]([A-Za-z0-9_]+)['"]\s*\)""")
ROW = re.compile(r"^\| (\d+) \| (.+?) \| .+ \|$")


def run_order() -> dict[str, int]:
    text = (PROJECT_DIR / "docs" / "development.md").read_text(encoding="utf-8")
    section = text.split("## The models in run order", 1)[1].split("\n## ", 1)[0]
    steps: dict[str, int] = {}
    for line in section.splitlines():
        row = ROW.match(line)
        if row:
            for name in re.findall(r"`([A-Za-z0-9_]+)`", row.group(2)):
                assert name not in steps, f"{name} is listed twice"
                steps[name] = int(row.group(1))
    return steps


def test_the_run_order_table_lists_every_model_after_what_it_reads() -> None:
    steps = run_order()
    models = {path.stem: path for path in (PROJECT_DIR / "models").rglob("*.sql")}
    assert set(steps) == set(models), "the table and models/ disagree"
    for name, path in models.items():
        for read in set(REF.findall(path.read_text(encoding="utf-8"))) - {name}:
            assert steps[read] < steps[name], f"{name} (step {steps[name]}) reads {read} (step {steps[read]})"
