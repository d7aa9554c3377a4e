"""`python -m stc_harness compat-update --from <turso checkout>`: rebuild the compat table from COMPAT.md."""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

from stc_harness.compat.registry import write, write_pragmas
from stc_harness.compat.table import DEFAULT_PATH, Source, dump, parse
from stc_harness.errors import UsageError


def _git(repo: Path, *args: str) -> str:
    git_dir = repo if (repo / "HEAD").is_file() and not (repo / ".git").exists() else repo / ".git"
    try:
        return subprocess.run(["git", f"--git-dir={git_dir}", *args], check=True, capture_output=True,
                              text=True).stdout
    except (OSError, subprocess.CalledProcessError) as exc:
        detail = getattr(exc, "stderr", "") or exc
        raise UsageError(f"git {' '.join(args)} failed in {repo}: {detail}".strip()) from exc


def _pyturso_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("pyturso")
    except PackageNotFoundError:
        return "not installed"


def read_source(repo: Path, rev: str) -> tuple[str, str, str, str]:
    """COMPAT.md at `rev` of a turso checkout or bare git dir: its text, full commit, date, crate version."""
    commit = _git(repo, "rev-parse", f"{rev}^{{commit}}").strip()
    text = _git(repo, "show", f"{commit}:COMPAT.md")
    date = _git(repo, "show", "-s", "--format=%cs", commit).strip()
    cargo = _git(repo, "show", f"{commit}:Cargo.toml")
    found = re.search(r'^\[workspace\.package\][^\[]*?^version\s*=\s*"([^"]+)"', cargo, re.M | re.S)
    found = found or re.search(r'^version\s*=\s*"([^"]+)"', cargo, re.M)
    return text, commit, date, found.group(1) if found else "unknown"


def main(argv: list[str]) -> int:
    """Entry point: `argv[0]` is "compat-update"."""
    p = argparse.ArgumentParser(prog="python -m stc_harness compat-update",
                                description="Rebuild suites/compat/turso_compat.toml from COMPAT.md of a "
                                            "tursodatabase/turso checkout (or bare git dir) at a revision.")
    p.add_argument("--registry", default=None, metavar="REPORT_JSON",
                   help="instead: add measured registry entries (suites/differences/compat.toml) for the "
                        "compat rows where Turso differs in this report")
    p.add_argument("--from", dest="repo", default=None, metavar="PATH",
                   help="a turso git checkout or bare git directory (e.g. what `fetch` mirrors)")
    p.add_argument("--commit", default="HEAD", metavar="REV", help="revision to read (default HEAD)")
    p.add_argument("--pyturso", default=None, metavar="VERSION",
                   help="the pyturso release measured against it (default: the installed one)")
    p.add_argument("--out", default=str(DEFAULT_PATH), metavar="PATH", help="where to write the table")
    p.add_argument("--pragmas-registry", default=None, metavar="REPORT_JSON",
                   help="instead: add measured registry entries (suites/differences/pragmas.toml) for the "
                        "PRAGMAs where Turso differs in this report")
    args = p.parse_args(argv[1:])
    if args.pragmas_registry:
        target = Path(__file__).resolve().parents[2] / "suites" / "differences" / "pragmas.toml"
        added, kept = write_pragmas(Path(args.pragmas_registry), target)
        print(f"compat-update: {added} entries added to {target} ({kept} kept)")
        return 0
    if args.registry:
        target = Path(__file__).resolve().parents[2] / "suites" / "differences" / "compat.toml"
        added, kept = write(Path(args.registry), target)
        print(f"compat-update: {added} entries added to {target} ({kept} kept)")
        return 0
    if not args.repo:
        p.error("--from PATH is required (a turso checkout or bare git dir)")
    try:
        text, commit, date, crate = read_source(Path(args.repo), args.commit)
        rows = parse(text)
        if not rows:
            raise UsageError(f"COMPAT.md at {commit} has no table rows: is this the turso repository?")
    except UsageError as exc:
        print(f"compat-update: {exc}", file=sys.stderr)
        return 2
    measured_with = args.pyturso or _pyturso_version()
    source = Source("tursodatabase/turso", "COMPAT.md", commit, date, crate, measured_with)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(dump(source, rows), encoding="utf-8")
    counts = {c: sum(r.claim == c for r in rows) for c in dict.fromkeys(r.claim for r in rows)}
    print(f"compat-update: {len(rows)} rows from {source.cite()} -> {out} "
          f"({', '.join(f'{k} {v}' for k, v in counts.items())})")
    return 0
