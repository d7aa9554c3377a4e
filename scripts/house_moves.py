"""The house moves (issue 23, item 3): group harness/'s flat modules by purpose, and the engine suites.

    .venv/bin/python scripts/house_moves.py             move, rewrite, re-sort imports, prove the check ids
    .venv/bin/python scripts/house_moves.py --no-proof  the same without collecting the suites twice

1. harness/'s flat modules move (`git mv`) into three packages by what they are for (`GROUPS`):
   `stc_harness.safety` (a run that cannot hang, leak or lose its report), `stc_harness.adapters` (the
   parts every backend adapter shares) and `stc_harness.toolkit` (what check bodies use). Leaf names
   stay, so `from stc_harness import watchdog` becomes `from stc_harness.safety import watchdog` and
   every `watchdog.X` after it reads as before. `stc_harness`'s public API (`__init__.py`) and
   `stc_harness.backend_api` (the third-party interface) keep their import paths.
2. The engine suites (`suites/test_*.py`) move into `suites/engine/`, beside `driver/` and `client/`.
   A check's id is `<area>.<name>`, its area the module's name (`test_<area>`), never its folder, and
   the registry and the ratchet key on ids: they do not notice. `--proof` (the default) collects the
   suites before and after and fails unless the check ids, areas, layers and origins, and the tests
   (node ids with the new folder), are identical.

Every reference is rewritten by mapping, on whatever tree this runs on: dotted module paths
(`stc_harness.hard_timeout` -> `stc_harness.safety.hard_timeout`, in code, strings, docs and pyproject
entry points), `from stc_harness import <moved>`, file paths (`harness/watchdog.py`,
`suites/test_types.py`), the packages list in pyproject.toml, and paths a moved suite builds from its own
file (`Path(__file__).parent / "discovery_cases"`). Idempotent: a second run changes nothing. It prints
what it could not rewrite for sure (a suite file name without its folder) for a reader to look at.
Standard library only; ruff (if installed) re-sorts the imports it touched.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
import tokenize
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HARNESS = ROOT / "harness"
SUITES = ROOT / "suites"
PACKAGE = "stc_harness"
ENGINE = "engine"
#: ruff's line length (pyproject.toml): comments and docstrings a rewrite made longer are wrapped to it.
LINE_LENGTH = 110

#: Package -> (its docstring, the flat modules it takes).
GROUPS: dict[str, tuple[str, tuple[str, ...]]] = {
    "safety": ("Run-time safety: a check cannot hang the run, kill it, leak a secret or lose its report.",
               ("hard_timeout", "watchdog", "exit_guard", "isolation", "secrets", "output_paths")),
    "adapters": ("What backend adapters share: protocol, capabilities, connections, pools, URLs, selection.",
                 ("protocol", "capabilities", "connection", "driver_thread", "pool", "urls", "options",
                  "backend_registry")),
    "toolkit": ("The toolkit check bodies use: the type codec, migrations, schema introspection, retries.",
                ("codec", "migrations", "schema", "retry")),
}
#: Flat module -> package it moves into.
MOVES = {module: group for group, (_, modules) in GROUPS.items() for module in modules}

#: Where references live: code, entry points, commands and docs (relative globs; README at the top).
GLOBS = ("harness/**/*.py", "backends/**/*.py", "suites/**/*.py", "suites/**/*.toml", "tests/**/*.py",
         "plugins/**/*.py", "plugins/**/*.toml", "plugins/**/*.md", "scripts/**/*.py", "noxfile.py",
         "conftest.py", "pyproject.toml", "Makefile", "README.md", "docs/**/*.md",
         ".github/workflows/*.yml", ".ci/*")
#: Paths never rewritten: this script (it names the old paths), generated data, environments.
SKIP_PARTS = {".venv", ".nox", "__pycache__", "node_modules", "build"}

#: Rewrites of one file's own way of naming the engine suites: (file, pattern, replacement). Each applies
#: only where its pattern is found; what none catches is printed by `leftovers`.
SPECIAL = (
    # tests/mutants/catalog.py: S + "test_types.py"
    ("tests/mutants/catalog.py", r'^S = "suites/"$', 'S = "suites/engine/"'),
    # tests/test_plugin_xdist.py: the quick suites, by file name
    ("tests/test_plugin_xdist.py", r'f"suites/\{n\}"', 'f"suites/engine/{n}"'),
    ("tests/test_plugin_xdist.py", r'ROOT / "suites" / n\b', 'ROOT / "suites" / "engine" / n'),
)


def git(*args: str) -> str:
    """Run git in the repository; its output."""
    return subprocess.run(["git", *args], cwd=ROOT, check=True, capture_output=True, text=True).stdout


# --- the moves ----------------------------------------------------------------------------------------


def move_modules() -> list[str]:
    """`git mv` each flat module into its package (made with a docstring `__init__.py` if new)."""
    done = []
    for group, (doc, modules) in GROUPS.items():
        folder = HARNESS / group
        present = [m for m in modules if (HARNESS / f"{m}.py").exists()]
        if not present:
            continue
        folder.mkdir(exist_ok=True)
        init = folder / "__init__.py"
        if not init.exists():
            init.write_text(f'"""{doc}"""\n', encoding="utf-8")
            git("add", str(init.relative_to(ROOT)))
        for module in present:
            target = folder / f"{module}.py"
            if target.exists():
                raise SystemExit(f"both harness/{module}.py and {target.relative_to(ROOT)} exist: "
                                 "merge them by hand")
            git("mv", f"harness/{module}.py", str(target.relative_to(ROOT)))
            done.append(f"harness/{module}.py -> {target.relative_to(ROOT)}")
    return done


def engine_suites() -> list[str]:
    """The engine suite modules: `suites/engine/test_*.py` and any still at `suites/test_*.py`."""
    names = {p.name for p in SUITES.glob("test_*.py")}
    names |= {p.name for p in (SUITES / ENGINE).glob("test_*.py")}
    return sorted(names)


def move_suites() -> list[str]:
    """`git mv suites/test_*.py suites/engine/`."""
    done = []
    for path in sorted(SUITES.glob("test_*.py")):
        target = SUITES / ENGINE / path.name
        if target.exists():
            raise SystemExit(f"both {path.relative_to(ROOT)} and {target.relative_to(ROOT)} exist")
        target.parent.mkdir(exist_ok=True)
        git("mv", str(path.relative_to(ROOT)), str(target.relative_to(ROOT)))
        done.append(f"{path.relative_to(ROOT)} -> {target.relative_to(ROOT)}")
    return done


# --- the rewrites -------------------------------------------------------------------------------------


def rewrite_from_package_imports(text: str) -> str:
    """`from stc_harness import watchdog, Source` -> `from stc_harness import Source` and
    `from stc_harness.safety import watchdog` (ast finds the statements; lines are replaced whole)."""
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return text
    lines = text.splitlines(keepends=True)
    edits = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.ImportFrom) and node.module == PACKAGE and node.level == 0):
            continue
        moved = [a for a in node.names if a.name in MOVES]
        if not moved:
            continue
        first, last = node.lineno - 1, node.end_lineno or node.lineno
        head = lines[first]
        indent = head[:len(head) - len(head.lstrip())]
        if lines[first].lstrip()[:4] != "from" or ";" in "".join(lines[first:last]):
            continue  # not a statement of its own line(s): left for a reader (reported below)
        kept = [a for a in node.names if a.name not in MOVES]
        out = []
        if kept:
            out.append(f"{indent}from {PACKAGE} import {', '.join(_alias(a) for a in kept)}\n")
        by_group: dict[str, list[ast.alias]] = {}
        for alias in moved:
            by_group.setdefault(MOVES[alias.name], []).append(alias)
        for group, aliases in by_group.items():
            out.append(f"{indent}from {PACKAGE}.{group} import {', '.join(_alias(a) for a in aliases)}\n")
        edits.append((first, last, out))
    for first, last, out in sorted(edits, reverse=True):
        lines[first:last] = out
    return "".join(lines)


def rewrite_from_package_lines(text: str) -> str:
    """The same for one-line statements ast does not see: in strings (a pytester suite) and docs."""
    def split(match: re.Match[str]) -> str:
        indent, names = match["indent"], [n.strip() for n in match["names"].split(",") if n.strip()]
        if not any(n.split(" as ")[0] in MOVES for n in names):
            return match[0]
        kept = [n for n in names if n.split(" as ")[0] not in MOVES]
        out = [f"{indent}from {PACKAGE} import {', '.join(kept)}"] if kept else []
        by_group: dict[str, list[str]] = {}
        for name in names:
            if name.split(" as ")[0] in MOVES:
                by_group.setdefault(MOVES[name.split(" as ")[0]], []).append(name)
        out += [f"{indent}from {PACKAGE}.{group} import {', '.join(ns)}" for group, ns in by_group.items()]
        return "\n".join(out)
    return re.sub(rf"(?m)^(?P<indent>[ \t]*)from {PACKAGE} import (?P<names>[\w ,]+?)[ \t]*$", split, text)


def _alias(alias: ast.alias) -> str:
    return alias.name if alias.asname is None else f"{alias.name} as {alias.asname}"


def rewrite_paths(text: str, suites: list[str]) -> str:
    """Dotted module paths, file paths of moved modules, and paths of moved suites."""
    for module, group in MOVES.items():
        # stc_harness.watchdog[.X] anywhere (imports, strings, docs, entry points); never a longer name
        text = re.sub(rf"(?<![\w.]){PACKAGE}\.{module}(?![\w])", f"{PACKAGE}.{group}.{module}", text)
        # harness/watchdog.py (docs, comments, ruff's per-file-ignores)
        text = re.sub(rf"(?<![\w./-])harness/{module}\.py\b", f"harness/{group}/{module}.py", text)
    for name in suites:
        stem = re.escape(name)
        text = re.sub(rf"(?<![\w./-])suites/{stem}\b", f"suites/{ENGINE}/{name}", text)
        # ROOT / "suites" / "test_types.py" (a path the repository's own code builds)
        text = re.sub(rf'(\bROOT / "suites" / )"{stem}"', rf'\g<1>"{ENGINE}" / "{name}"', text)
    return text


def rewrite_own_paths(text: str) -> str:
    """In a moved suite: `Path(__file__).parent / "discovery_cases"` -> `.parent.parent` when the named
    file or folder stayed in suites/ (the registry, the saved hunt cases, the compat table)."""
    def fix(match: re.Match[str]) -> str:
        name = match["name"]
        if (SUITES / ENGINE / name).exists() or not (SUITES / name).exists():
            return match[0]
        return f'{match["head"]}.parent / "{name}"'
    return re.sub(r'(?P<head>Path\(__file__\)(?:\.resolve\(\))?\.parent) / "(?P<name>[\w.-]+)"', fix, text)


def rewrite_special(rel: str, text: str) -> str:
    """The `SPECIAL` rewrites of this file."""
    for path, pattern, replacement in SPECIAL:
        if path == rel:
            text = re.sub(pattern, replacement, text, flags=re.M)
    return text


def rewrite_packages_list(text: str) -> str:
    """pyproject.toml's `[tool.setuptools] packages = [...]`: every package of the mapped folders."""
    packages = set()
    for init in HARNESS.rglob("__init__.py"):
        if not SKIP_PARTS & set(init.parts):
            packages.add(".".join([PACKAGE, *init.parent.relative_to(HARNESS).parts]))
    found = re.search(r"(?m)^packages = \[([^\]]*)\]$", text)
    if not found:
        return text
    listed = re.findall(r'"([\w.]+)"', found[1])
    merged = sorted({p for p in listed if not p.startswith(PACKAGE)} | packages)
    return text[:found.start(1)] + ", ".join(f'"{p}"' for p in merged) + text[found.end(1):]


def files() -> list[Path]:
    """Every file the rewrites look at."""
    out: set[Path] = set()
    for pattern in GLOBS:
        out.update(p for p in ROOT.glob(pattern) if p.is_file())
    me = Path(__file__).resolve()
    return sorted(p for p in out if not SKIP_PARTS & set(p.relative_to(ROOT).parts) and p.resolve() != me)


def rewrite_all() -> list[Path]:
    """Rewrite every file; the changed ones."""
    suites = engine_suites()
    moved_suites = {SUITES / ENGINE / n for n in suites}
    changed = []
    for path in files():
        rel = path.relative_to(ROOT).as_posix()
        text = path.read_text(encoding="utf-8")
        new = text
        if path.suffix == ".py":
            new = rewrite_from_package_imports(new)
        new = rewrite_from_package_lines(new)
        new = rewrite_paths(new, suites)
        new = rewrite_special(rel, new)
        if path in moved_suites:
            new = rewrite_own_paths(new)
        if rel == "pyproject.toml":
            new = rewrite_packages_list(new)
        if new != text:
            path.write_text(new, encoding="utf-8")
            changed.append(path)
    return changed


def new_names() -> re.Pattern[str]:
    """What a rewrite puts in a line (a longer path), to tell the lines it lengthened."""
    groups = "|".join(GROUPS)
    return re.compile(rf"{PACKAGE}\.(?:{groups})\.|harness/(?:{groups})/|suites/{ENGINE}/|\"{ENGINE}\" /")


def wrap_long_lines(path: Path) -> list[str]:
    """Wrap the comments and docstring lines a rewrite made longer than the limit; the rest, named."""
    text = path.read_text(encoding="utf-8")
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return []
    docstrings = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr) \
                and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
            docstrings.update(range(body[0].lineno, (body[0].end_lineno or body[0].lineno) + 1))
    marker = new_names()
    lines, out, unwrapped = text.splitlines(keepends=True), [], []
    for number, line in enumerate(lines, 1):
        bare = line.rstrip("\n")
        if len(bare) <= LINE_LENGTH or not marker.search(bare):
            out.append(line)
            continue
        indent = bare[:len(bare) - len(bare.lstrip())]
        if bare.lstrip().startswith("#"):
            prefix = indent + re.match(r"#\s*", bare.lstrip())[0]  # type: ignore[index]
            words = bare.lstrip()[len(prefix) - len(indent):]
            out.extend(f"{w}\n" for w in textwrap.wrap(words, LINE_LENGTH, initial_indent=prefix,
                                                       subsequent_indent=prefix, break_on_hyphens=False))
        elif number in docstrings:
            out.extend(f"{w}\n" for w in textwrap.wrap(bare.lstrip(), LINE_LENGTH, initial_indent=indent,
                                                       subsequent_indent=indent, break_on_hyphens=False,
                                                       break_long_words=False))
        elif (split := split_at_comma(bare)) is not None:
            out.extend(f"{part}\n" for part in split)
        else:
            out.append(line)
            unwrapped.append(f"{path.relative_to(ROOT)}:{number}")
    new = "".join(out)
    if new != text:
        path.write_text(new, encoding="utf-8")
    return unwrapped


def split_at_comma(line: str) -> list[str] | None:
    """A code line inside brackets split after its last comma before the limit, the rest aligned under
    the bracket's first item (`args = ["suites/engine/test_errors.py", "-k", ...` -> two lines); None when
    the line has no such comma (a string too long on its own)."""
    tokens = []
    with contextlib.suppress(tokenize.TokenError, SyntaxError):  # the bracket closes on a later line
        for tok in tokenize.generate_tokens(iter([line + "\n"]).__next__):
            tokens.append(tok)
    opened: list[int] = []
    best: tuple[int, int] | None = None
    for tok in tokens:
        if tok.type != tokenize.OP:
            continue
        if tok.string in "([{":
            opened.append(tok.end[1])
        elif tok.string in ")]}" and opened:
            opened.pop()
        elif tok.string == "," and opened and tok.end[1] <= LINE_LENGTH:
            best = (tok.end[1], opened[-1])
    if best is None:
        return None
    cut, column = best
    return [line[:cut].rstrip(), " " * column + line[cut:].strip()]


def resort(paths: list[Path]) -> None:
    """Re-sort the imports of the rewritten Python files with ruff, when it is installed."""
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    py = [str(p) for p in paths if p.suffix == ".py" and p.exists()]
    if ruff and py:
        subprocess.run([ruff, "check", "--fix", "--select", "I", "--quiet", *py], cwd=ROOT, check=False)
    elif py:
        print("ruff not found: run `ruff check --fix --select I .` to re-sort the rewritten imports")


def leftovers(suites: list[str]) -> list[str]:
    """References the rewrites may have missed: an old module path, or a suite named without its folder."""
    names = "|".join(MOVES)
    old = re.compile(rf"(?<![\w.]){PACKAGE}\.(?:{names})\b|(?<![\w./-])harness/(?:{names})\.py")
    bare = re.compile(rf"(?<![\w/])(?:{'|'.join(re.escape(n) for n in suites)})\b") if suites else None
    out = []
    for path in files():
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            where = f"{path.relative_to(ROOT)}:{number}: {line.strip()[:100]}"
            if old.search(line):
                out.append(f"old module path: {where}")
            elif bare and bare.search(line) and "suites" in line and f"{ENGINE}/" not in line \
                    and f'"{ENGINE}"' not in line:
                out.append(f"suite without its folder: {where}")
    return out


# --- the proof: the same checks before and after --------------------------------------------------------

PROBE = '''
import json, os


def pytest_collection_finish(session):
    from stc_harness.checks import DEFINED

    out = {"checks": {cid: [s.area, s.layer, s.origin] for cid, s in sorted(DEFINED.items())},
           "tests": sorted(item.nodeid for item in session.items)}
    with open(os.environ["HOUSE_PROOF_OUT"], "w", encoding="utf-8") as fh:
        json.dump(out, fh, indent=0, sort_keys=True)
'''


def collect() -> dict[str, object]:
    """The check ids (with area, layer, origin) and test node ids of `pytest suites --co`."""
    with tempfile.TemporaryDirectory(prefix="house-proof-") as tmp:
        (Path(tmp) / "house_proof_probe.py").write_text(PROBE, encoding="utf-8")
        out = Path(tmp) / "out.json"
        env = {**os.environ, "HOUSE_PROOF_OUT": str(out),
               "PYTHONPATH": os.pathsep.join([tmp, os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)}
        command = [sys.executable, "-m", "pytest", "suites", "--co", "-q", "-p", "house_proof_probe",
                   "-p", "no:cacheprovider", "-n", "0"]
        proc = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
        if not out.exists():
            raise SystemExit(f"collecting the suites failed (exit {proc.returncode}):\n{proc.stdout[-3000:]}"
                             f"\n{proc.stderr[-3000:]}")
        return json.loads(out.read_text(encoding="utf-8"))


def moved_nodeid(nodeid: str, suites: list[str]) -> str:
    """A node id as it reads after the suites moved."""
    for name in suites:
        if nodeid.startswith(f"suites/{name}::"):
            return f"suites/{ENGINE}/{nodeid[len('suites/'):]}"
    return nodeid


def prove(before: dict[str, object], after: dict[str, object], suites: list[str]) -> list[str]:
    """Differences between the two collections (none: the registry and the ratchet cannot notice)."""
    problems = []
    if before["checks"] != after["checks"]:
        b, a = before["checks"], after["checks"]
        assert isinstance(b, dict)
        assert isinstance(a, dict)
        problems += [f"check gone: {c}" for c in sorted(set(b) - set(a))]
        problems += [f"check new: {c}" for c in sorted(set(a) - set(b))]
        problems += [f"check changed: {c}: {b[c]} -> {a[c]}" for c in sorted(set(a) & set(b)) if a[c] != b[c]]
    tests_before = {moved_nodeid(n, suites) for n in before["tests"]}  # type: ignore[attr-defined]
    tests_after = set(after["tests"])  # type: ignore[arg-type]
    problems += [f"test gone: {n}" for n in sorted(tests_before - tests_after)]
    problems += [f"test new: {n}" for n in sorted(tests_after - tests_before)]
    return problems


def main(argv: list[str] | None = None) -> int:
    """Move, rewrite, re-sort; with the proof, fail unless the collected checks are the same."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-proof", action="store_true", help="skip collecting the suites before and after")
    args = parser.parse_args(argv)
    before = None if args.no_proof else collect()
    moved = move_modules() + move_suites()
    changed = rewrite_all()
    resort(changed)
    long = [where for path in changed if path.suffix == ".py" for where in wrap_long_lines(path)]
    for line in moved:
        print(f"moved {line}")
    for path in changed:
        print(f"rewrote {path.relative_to(ROOT)}")
    suites = engine_suites()
    for line in leftovers(suites):
        print(f"look at: {line}")
    for where in long:
        print(f"wrap by hand (longer than {LINE_LENGTH} after the rewrite): {where}")
    if not moved and not changed:
        print("nothing to do: the moves are in place")
    if before is not None:
        after = collect()
        problems = prove(before, after, suites)
        checks = after["checks"]
        assert isinstance(checks, dict)
        if problems:
            print("the suites collect differently after the moves:", *problems[:50], sep="\n  ")
            return 1
        print(f"proof: the same {len(checks)} check ids (area, layer, origin) and "
              f"{len(after['tests'])} tests (node ids with the new folder) before and after")  # type: ignore[arg-type]
    return 0


if __name__ == "__main__":
    sys.exit(main())
