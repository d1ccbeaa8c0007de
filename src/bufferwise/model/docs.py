"""Render the canonical tables of `schema.py` as the Markdown reference in docs/data-model.md."""

from __future__ import annotations

from bufferwise.model.schema import TABLES, Table

BEGIN = "<!-- BEGIN GENERATED: tables (python -m bufferwise.model.docs) -->"
END = "<!-- END GENERATED: tables -->"


def render_table(t: Table) -> str:
    lines = [f"### `{t.name}`", "", t.description, ""]
    lines.append(f"Key: `{', '.join(t.key)}` (one row per key; re-imports update by key).")
    if t.references:
        refs = ", ".join(f"`{c}` -> `{r}`" for c, r in t.references.items())
        lines.append(f"References: {refs}.")
    for r in t.rules:
        lines.append(f"Rule `{r.code}` ({r.severity}): {r.expected}.")
    lines += ["", "| column | kind | unit | required | default | constraint | meaning |"]
    lines.append("|---|---|---|---|---|---|---|")
    for c in t.columns:
        constraint = []
        if c.minimum is not None:
            constraint.append(f">= {c.minimum:g}")
        if c.maximum is not None:
            constraint.append(f"<= {c.maximum:g}")
        if c.allowed:
            constraint.append("one of " + ", ".join(f"`{a}`" for a in c.allowed))
        default = "" if c.default is None else ("empty" if c.default == "" else f"`{c.default}`")
        req = "yes" if c.required and c.default is None else "no"
        lines.append(
            f"| `{c.name}` | {c.kind} | {c.unit} | {req} | {default} | {'; '.join(constraint)} "
            f"| {c.description} |"
        )
    return "\n".join(lines)


def render_tables() -> str:
    body = "\n\n".join(render_table(t) for t in TABLES.values())
    return f"{BEGIN}\n\n{body}\n\n{END}"


if __name__ == "__main__":  # pragma: no cover - maintenance entry point
    print(render_tables())
