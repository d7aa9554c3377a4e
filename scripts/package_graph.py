"""Draw the packages and who imports whom, from the code, into docs/architecture.md (a Mermaid diagram).

    python scripts/package_graph.py            # rewrite the block between the package-graph markers
    python scripts/package_graph.py --check    # exit 1 when the block is not what the code gives

A node is a package folder (`harness/` and each subpackage of it, `backends/`, the libSQL plugin) or a suite
folder; an edge A -> B says a module of A imports from B. Imports read with `ast`, relative ones resolved;
an edge made only by imports inside functions is drawn dotted (such an import often dodges a circle).
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "architecture.md"
START, END = "<!-- package-graph:start -->", "<!-- package-graph:end -->"
#: Import name -> folder: the installed names and the folder names (both may appear in the code).
PACKAGES = {"stc_harness": "harness", "harness": "harness",
            "stc_backends": "backends", "backends": "backends",
            "conformance_libsql": "plugins/libsql/conformance_libsql"}
#: Folders of check modules (not packages): one node each, the engine layer being what is left of suites/.
SUITE_FOLDERS = ("suites/driver", "suites/client", "suites/engine", "suites")
#: What a folder without a package docstring is (suite folders are not packages).
SUMMARIES = {"suites": "the engine layer's suites (`test_<area>.py`): SQL semantics through the protocol",
             "suites/engine": "the engine layer's suites: SQL semantics through the protocol",
             "suites/driver": "the driver layer's suites: `sqlite3`/`aiosqlite` against `turso`/`turso.aio`",
             "suites/client": "the client layer's suites: SQLAlchemy and Alembic on each engine"}


@dataclass
class Node:
    """One box of the picture: a folder, its modules and lines, what it imports."""

    folder: str
    modules: int = 0
    lines: int = 0
    summary: str = ""
    imports: set[str] = field(default_factory=set)
    lazy: set[str] = field(default_factory=set)


def node_of_folder(folder: Path) -> str:
    """The node a module's folder belongs to: its own package folder, or the suite folder holding it."""
    rel = folder.relative_to(ROOT).as_posix()
    for suite in SUITE_FOLDERS:
        if rel == suite or rel.startswith(suite + "/"):
            return suite
    return rel


def node_of_import(dotted: str) -> str | None:
    """The node an absolute import name points at (the deepest package folder that exists), or None."""
    parts = dotted.split(".")
    if parts[0] not in PACKAGES:
        return None
    folder = ROOT / PACKAGES[parts[0]]
    for part in parts[1:]:
        if not (folder / part / "__init__.py").is_file():
            break
        folder = folder / part
    return folder.relative_to(ROOT).as_posix()


def package_name(path: Path) -> str:
    """The dotted import name of the package holding `path` (for resolving relative imports)."""
    rel = path.parent.relative_to(ROOT).as_posix()
    for name, folder in PACKAGES.items():
        if rel == folder or rel.startswith(folder + "/"):
            return ".".join([name, *Path(rel).relative_to(folder).parts])
    return ""


def targets(tree: ast.AST, path: Path) -> tuple[set[str], set[str]]:
    """(names imported at module level, names imported only inside functions) of one module."""
    top: set[str] = set()
    inner: set[str] = set()

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            nested = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            names: list[str] = []
            if isinstance(child, ast.Import):
                names = [a.name for a in child.names]
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    pkg = package_name(path).split(".")
                    base = ".".join([*pkg[: len(pkg) - child.level + 1], *([base] if base else [])])
                names = [f"{base}.{a.name}" for a in child.names] + [base]
            (inner if nested else top).update(n for n in names if n)
            visit(child, nested)

    visit(tree, False)
    return top, inner - top


def collect() -> dict[str, Node]:
    """Every node with its modules, lines, summary and the nodes it imports."""
    nodes: dict[str, Node] = {}
    folders = [ROOT / f for f in {*PACKAGES.values(), "suites"}]
    for base in folders:
        for path in sorted(base.rglob("*.py")):
            if "__pycache__" in path.parts or ".egg-info" in path.as_posix():
                continue
            name = node_of_folder(path.parent)
            node = nodes.setdefault(name, Node(name, summary=SUMMARIES.get(name, "")))
            text = path.read_text(encoding="utf-8")
            node.modules += 1
            node.lines += text.count("\n")
            tree = ast.parse(text, str(path))
            doc = (ast.get_docstring(tree) or "").strip()
            if doc and name not in SUMMARIES and (path.name == "__init__.py" or not node.summary):
                node.summary = doc.splitlines()[0]
            top, inner = targets(tree, path)
            node.imports |= {t for t in map(node_of_import, top) if t and t != name}
            node.lazy |= {t for t in map(node_of_import, inner) if t and t != name}
    for node in nodes.values():
        node.lazy -= node.imports
    return nodes


def ident(folder: str) -> str:
    """A Mermaid node id for a folder."""
    return re.sub(r"\W", "_", folder)


def render(nodes: dict[str, Node]) -> str:
    """The Markdown block: the Mermaid diagram and a table of the nodes."""
    order = sorted(nodes, key=lambda f: (not f.startswith("harness"), f))
    lines = ["```mermaid", "flowchart LR"]
    for folder in order:
        n = nodes[folder]
        count = f"{n.modules} module{'s' if n.modules != 1 else ''}"
        lines.append(f'    {ident(folder)}["{folder}/<br/>{count}, {n.lines:,} lines"]')
    for folder in order:
        for dep in sorted(nodes[folder].imports & nodes.keys()):
            lines.append(f"    {ident(folder)} --> {ident(dep)}")
        for dep in sorted(nodes[folder].lazy & nodes.keys()):
            lines.append(f"    {ident(folder)} -.-> {ident(dep)}")
    lines += ["```", "", "| folder | modules | lines | imports from | what it is |",
              "|---|---:|---:|---|---|"]
    for folder in order:
        n = nodes[folder]
        deps = ", ".join(f"`{d}`" for d in sorted(n.imports & nodes.keys()))
        lazy = ", ".join(f"`{d}`" for d in sorted(n.lazy & nodes.keys()))
        deps = "; ".join(x for x in (deps, f"inside functions only: {lazy}" if lazy else "") if x)
        lines.append(f"| `{folder}/` | {n.modules} | {n.lines:,} | {deps or '-'} | {n.summary} |")
    return "\n".join(lines)


def _without_sizes(text: str) -> str:
    text = re.sub(r", [\d,]+ lines", "", text)
    return re.sub(r"(\| \d+ \| )[\d,]+ \|", r"\1 |", text)


def main(argv: list[str]) -> int:
    """Rewrite (or, with --check, compare) the block in docs/architecture.md."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="exit 1 when the block is out of date")
    args = parser.parse_args(argv)
    text = DOC.read_text(encoding="utf-8")
    if START not in text or END not in text:
        print(f"{DOC} has no package-graph markers", file=sys.stderr)
        return 1
    block = f"{START}\n{render(collect())}\n{END}"
    new = re.sub(re.escape(START) + r".*?" + re.escape(END), lambda m: block, text, flags=re.S)
    if args.check:
        # sizes drift with every edit: the check is about the folders, their modules and their imports
        if _without_sizes(new) != _without_sizes(text):
            print(f"{DOC.relative_to(ROOT)} is out of date: run python scripts/package_graph.py",
                  file=sys.stderr)
            return 1
        return 0
    DOC.write_text(new, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
