"""The genealogy of a generator: its ancestors back to generation 0 from the lineage records of
metrics.jsonl, drawn as nested HTML lists (each edge labelled with the operators applied).

A child's lineage record (``{population, uid, slot, parents, ops, gain}``) appears in the row of
the generation it was born in; elites keep their uid; generation 0's individuals are founders.
Ancestries of a crossover population form a graph, not a tree: an ancestor reached twice is
expanded the first time and referred back to after that.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any, Sequence

from evogan.report.runs import finite

MAX_DEPTH = 400
"""Ancestor levels drawn (one per generation at most); older ones are summarised in one line."""


@dataclass
class Ancestor:
    """One individual of a population as its genealogy shows it."""

    uid: int
    born: int
    slot: int | None = None
    quality: float | None = None
    parents: list[int] = field(default_factory=list)
    ops: list[str] = field(default_factory=list)
    gain: float | None = None


def ancestors(rows: Sequence[dict[str, Any]], side: str = "g") -> dict[int, Ancestor]:
    """uid -> :class:`Ancestor` for every member of population ``side`` the run ever had,
    with its quality (FID for G, balanced accuracy for D) when it first appeared."""
    key = "fid" if side == "g" else "d_accuracy"
    found: dict[int, Ancestor] = {}
    for index, row in enumerate(rows):
        generation = row.get("generation", index)
        for member in row.get("individuals", ()):
            if member.get("population") == side and member["uid"] not in found:
                value = member.get(key)
                found[member["uid"]] = Ancestor(member["uid"], generation, member.get("slot"),
                                                value if finite(value) else None)
        for record in row.get("lineage", ()):
            if record.get("population") == side:
                node = found.setdefault(record["uid"], Ancestor(record["uid"], generation, record.get("slot")))
                node.parents, node.ops, node.gain = list(record["parents"]), list(record["ops"]), record.get("gain")
    return found


def best_generator(rows: Sequence[dict[str, Any]]) -> int | None:
    """The uid of the last generation's best generator (lowest fitness FID), else the hall of fame's."""
    if not rows:
        return None
    last = rows[-1]
    population = last.get("population", {})
    uid = population.get("best_g_uid", population.get("best_uid"))
    if uid is None and last.get("hall_of_fame"):
        uid = last["hall_of_fame"][0]["uid"]
    return uid


def edge_label(child: Ancestor, index: int) -> str:
    """What made ``child`` from its ``index``-th parent: the operators, the role, the gain."""
    role = ("first parent", "second parent")[index] if len(child.parents) > 1 else "parent"
    text = f"{' + '.join(child.ops) or 'copy'} ({role}"
    if child.gain is not None and finite(child.gain):
        text += f", child's gain {child.gain:+.3g}"
    return text + ")"


def node_label(node: Ancestor | None, uid: int, metric: str) -> str:
    text = f'<span class="uid">uid {uid}</span>'
    if node is None:
        return text + " (not in metrics.jsonl)"
    where = f"founder, generation {node.born}" if not node.parents else f"born in generation {node.born}"
    if node.slot is not None:
        where += f", slot {node.slot}"
    if node.quality is not None:
        where += f", {html.escape(metric)} {node.quality:.4g}"
    return f"{text} <span class=\"where\">{where}</span>"


def render_tree(nodes: dict[int, Ancestor], root: int, metric: str) -> str:
    """Nested ``<ul>`` of ``root``'s ancestry; every ancestor is expanded once."""
    seen: set[int] = set()

    def item(uid: int, edge: str, depth: int) -> str:
        node = nodes.get(uid)
        label = ((f'<span class="edge">&larr; {html.escape(edge)}</span> ' if edge else "")
                 + node_label(node, uid, metric))
        if uid in seen:
            return f"<li>{label} <em>(ancestry shown above)</em></li>"
        seen.add(uid)
        if node is None or not node.parents:
            return f"<li>{label}</li>"
        if depth >= MAX_DEPTH:
            return f"<li>{label} <em>(older ancestors omitted)</em></li>"
        parents = "".join(item(p, edge_label(node, i), depth + 1) for i, p in enumerate(node.parents))
        return f"<li>{label}<ul>{parents}</ul></li>"

    return f'<ul class="tree">{item(root, "", 0)}</ul>'


def genealogy_html(rows: Sequence[dict[str, Any]], metric: str) -> str:
    """The best generator's genealogy as an HTML fragment ('' when the run has no populations)."""
    uid = best_generator(rows)
    if uid is None or not any("individuals" in row for row in rows):
        return ""
    nodes = ancestors(rows, "g")
    count = _count_ancestors(nodes, uid)
    generation = rows[-1].get("generation", len(rows) - 1)
    intro = (f"<p>Best generator of generation {generation}: <b>uid {uid}</b> "
             f"({count} ancestors back to generation 0). Each line names the operators that made "
             f"the individual above it from this parent.</p>")
    return intro + render_tree(nodes, uid, metric)


def _count_ancestors(nodes: dict[int, Ancestor], uid: int) -> int:
    seen, todo = set(), [uid]
    while todo:
        node = nodes.get(todo.pop())
        for parent in node.parents if node else ():
            if parent not in seen:
                seen.add(parent)
                todo.append(parent)
    return len(seen)
