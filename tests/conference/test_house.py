"""The house: each app its room, imports pointing one way, no circles (DESIGN.md, "The house").

Every import counts, at the top of a module or inside a function: a circle broken only by
an import deferred into a function is still a circle."""

import ast
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APPS = ("conference", "accounts", "outbox", "agenda", "registration", "checkin", "meetings", "voting")
# What each app may import of ours, besides itself. Every app may use accounts and outbox;
# outbox imports none of ours; agenda never imports registration; the project package
# imports the apps only in its urls.py (and, like every app, accounts and outbox).
SHARED = {"accounts", "outbox", "conference"}
ALLOWED = {
    "outbox": {"conference"},
    "accounts": {"outbox", "conference"},
    "conference": {"accounts", "outbox"},
    "agenda": SHARED,
    "registration": SHARED | {"agenda"},
    "checkin": SHARED | {"agenda", "registration"},
    "meetings": SHARED | {"agenda", "registration"},
    "voting": SHARED | {"agenda", "registration"},
}


def modules() -> dict[str, Path]:
    """Every module of the apps that ships (tests, benchmarks and migrations aside)."""
    found = {}
    for app in APPS:
        for path in (ROOT / app).rglob("*.py") if (ROOT / app).is_dir() else []:
            if "migrations" in path.parts:
                continue
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
            found[name] = path
    return found


def imports_of(path: Path, name: str, known: set[str]) -> set[str]:
    """The modules of ours that the module `name` imports."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    targets = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, base] if base else parent)
            targets.add(base)
            targets.update(f"{base}.{alias.name}" for alias in node.names)
    return {target for target in targets if target in known}


def graph() -> dict[str, set[str]]:
    found = modules()
    return {name: imports_of(path, name, set(found)) - {name} for name, path in found.items()}


def app_of(module: str) -> str:
    return module.split(".")[0]


def test_every_app_imports_only_what_it_may():
    wrong = sorted(
        f"{module} imports {target}"
        for module, targets in graph().items()
        for target in targets
        if app_of(target) != app_of(module)
        and app_of(target) not in ALLOWED[app_of(module)]
        and module != "conference.urls"
    )

    assert wrong == []


def circles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The groups of modules that import each other round a circle (Tarjan's strongly
    connected components of more than one module)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in edges.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_no_module_imports_itself_round_a_circle():
    assert circles(graph()) == []


def test_the_check_finds_a_circle_of_three():
    edges = {"a.emails": {"a.tasks"}, "a.tasks": {"a.notify"}, "a.notify": {"a.emails"}, "a.models": set()}

    assert circles(edges) == [["a.emails", "a.notify", "a.tasks"]]


def test_the_check_sees_imports_inside_functions_and_relative_ones(tmp_path):
    module = tmp_path / "services.py"
    module.write_text("def f():\n    from outbox import emails\n\nfrom . import models\n")

    found = imports_of(module, "registration.services", {"outbox.emails", "registration.models", "outbox"})

    assert found == {"outbox", "outbox.emails", "registration.models"}


def test_one_definition_of_seats_left_and_of_the_registration_window():
    definitions = defaultdict(list)
    for name, path in modules().items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef):
                definitions[node.name].append(name)

    assert definitions["free"] == ["registration.selectors"]
    assert definitions["registration_state"] == ["agenda.models"]
    assert "window_message" not in definitions
    assert "is_registration_open" not in definitions


def test_every_status_field_is_checked_by_the_database_against_its_choices():
    from django.apps import apps
    from django.db.models import CheckConstraint

    checked = {}
    for model in apps.get_models():
        for constraint in model._meta.constraints:
            if isinstance(constraint, CheckConstraint):
                for child in constraint.condition.children:
                    if isinstance(child, tuple) and child[0].endswith("__in") and isinstance(child[1], list):
                        checked[(model._meta.label, child[0].removesuffix("__in"))] = sorted(child[1])
    ours = [model for model in apps.get_models() if app_of(model.__module__) in APPS]
    with_choices = {
        (model._meta.label, field.name): sorted(value for value, _label in field.choices)
        for model in ours
        for field in model._meta.fields
        if field.choices and field.name in {"status", "state", "kind", "action", "role"}
    }

    assert with_choices
    assert {key: checked.get(key) for key in with_choices} == with_choices
