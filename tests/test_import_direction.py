"""Apps depend one way (README, Layout): each app under shop/ may use only the apps listed
before it in APP_ORDER. Read from the source with `ast`, so every kind of use counts:
module-level imports, imports inside functions (lazy), Oscar's `get_class`/`get_model` with
one of our forked apps' labels, and dotted names written as strings ("shop.workshop.tasks.x",
a Celery task sent by name). No exceptions list: an upward use or a circle fails.

`python -m tests.test_import_direction` prints the report (used for the issue's figures).
"""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHOP = ROOT / "shop"

# Lowest first; the same list as README's Layout section.
APP_ORDER = [
    "common",
    "dashboard",
    "partner",
    "catalogue",
    "shipping",
    "personalization",
    "basket",
    "payments",
    "order",
    "credit",
    "workshop",
    "checkout",
    "takeback",
    "reports",
    "referrals",
    "lifecycle",
    "growth",
    "experiments",
    "storefront",
    "search",
]

# Oscar's get_class/get_model name apps by label (or module path inside the app): the
# labels of our forks and apps.
LABELS = {name: name for name in APP_ORDER}
DOTTED = re.compile(r"^shop\.([a-z_]+)(?:\.|$)")
OSCAR_LOADERS = {"get_class", "get_classes", "get_model"}


def _app_of(path: Path) -> str:
    return path.relative_to(SHOP).parts[0]


def _used_apps(tree: ast.AST) -> list[tuple[str, int, str]]:
    """(app, line, how) for every use of one of our apps in this module."""
    uses: list[tuple[str, int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                match = DOTTED.match(alias.name)
                if match:
                    uses.append((match.group(1), node.lineno, f"import {alias.name}"))
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            match = DOTTED.match(node.module)
            if match:
                uses.append((match.group(1), node.lineno, f"from {node.module} import"))
            elif node.module == "shop":
                for alias in node.names:
                    uses.append((alias.name, node.lineno, f"from shop import {alias.name}"))
        elif isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name in OSCAR_LOADERS and node.args:
                first = node.args[0]
                if isinstance(first, ast.Constant) and isinstance(first.value, str):
                    label = first.value.split(".")[0]
                    if label in LABELS:
                        uses.append((label, node.lineno, f"{name}({first.value!r})"))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            match = DOTTED.match(node.value)
            if match and " " not in node.value:
                uses.append((match.group(1), node.lineno, f"string {node.value!r}"))
    return uses


def app_dependencies() -> dict[tuple[str, str], list[str]]:
    """(from app, to app) -> where ("shop/x/y.py:12 import ..."), migrations left out
    (they name other apps' migrations, which Django orders itself)."""
    edges: dict[tuple[str, str], list[str]] = defaultdict(list)
    for path in sorted(SHOP.rglob("*.py")):
        if "migrations" in path.parts or path.parent == SHOP:
            continue
        source = _app_of(path)
        tree = ast.parse(path.read_text(), filename=str(path))
        for target, line, how in _used_apps(tree):
            if target != source:
                edges[(source, target)].append(f"{path.relative_to(ROOT)}:{line} {how}")
    return edges


def upward(edges: dict[tuple[str, str], list[str]]) -> dict[tuple[str, str], list[str]]:
    rank = {name: i for i, name in enumerate(APP_ORDER)}
    return {
        (a, b): where
        for (a, b), where in edges.items()
        if b not in rank or a not in rank or rank[b] > rank[a]
    }


def circles(edges: dict[tuple[str, str], list[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one app (Tarjan)."""
    graph: dict[str, set[str]] = defaultdict(set)
    for a, b in edges:
        graph[a].add(b)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                group.append(top)
                if top == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups


def test_every_app_has_its_place_in_the_order():
    apps = {p.parent.name for p in SHOP.glob("*/apps.py")}
    assert apps == set(APP_ORDER)


def test_no_app_uses_an_app_listed_after_it():
    found = upward(app_dependencies())
    assert not found, "\n".join(
        f"{a} -> {b}: {'; '.join(where)}" for (a, b), where in sorted(found.items())
    )


def test_no_import_circle_between_apps():
    assert circles(app_dependencies()) == []


def test_the_checker_sees_lazy_imports_oscar_loaders_and_task_names():
    tree = ast.parse(
        "def f():\n"
        "    from shop.order.services import x\n"
        "    get_model('checkout', 'Thing')\n"
        "    send('shop.workshop.tasks.create_workshop_jobs')\n"
    )
    assert [app for app, _line, _how in _used_apps(tree)] == ["order", "checkout", "workshop"]
    assert circles({("a", "b"): [], ("b", "c"): [], ("c", "a"): []}) == [["a", "b", "c"]]


if __name__ == "__main__":
    edges = app_dependencies()
    found = upward(edges)
    print(f"app-level edges: {len(edges)}; upward: {len(found)}; circles: {circles(edges)}")
    for (a, b), where in sorted(found.items()):
        print(f"  {a} -> {b} ({len(where)}): " + "; ".join(where))
