"""The compatibility workflow (.github/workflows/compat.yml) passes actionlint and matches the noxfile."""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW = ROOT / ".github" / "workflows" / "compat.yml"
NOXFILE = ROOT / "noxfile.py"
INSTALL_HINT = ("actionlint is not installed: `pip install -e '.[dev]'` installs it "
                "(or put an `actionlint` executable on PATH)")


def find_actionlint() -> str | None:
    """The actionlint executable beside this interpreter (a pip-installed one), else on PATH."""
    beside = Path(sys.executable).with_name("actionlint")
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which("actionlint")


def run_actionlint(path: Path) -> subprocess.CompletedProcess[str]:
    """actionlint on `path`, with its optional shellcheck/pyflakes passes off (same result everywhere)."""
    exe = find_actionlint()
    if exe is None:
        pytest.fail(INSTALL_HINT, pytrace=False)  # a missing linter is a failure, never a skip
    return subprocess.run([exe, "-no-color", "-shellcheck=", "-pyflakes=", str(path)], capture_output=True,
                          text=True, timeout=120, check=False)


def noxfile_default(name: str) -> list[str]:
    """The default list the noxfile gives `_listed(name, [...])`, read without importing nox."""
    for node in ast.walk(ast.parse(NOXFILE.read_text())):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "_listed" \
                and isinstance(node.args[0], ast.Constant) and node.args[0].value == name:
            return list(ast.literal_eval(node.args[1]))
    raise AssertionError(f"noxfile.py has no _listed({name!r}, ...)")


def matrix_axis(text: str, axis: str) -> list[str]:
    """The values of one `strategy.matrix` axis written as a flow list (`axis: [a, "b"]`)."""
    match = re.search(rf"^\s+{axis}:\s*\[(.*)\]\s*$", text, re.MULTILINE)
    assert match, f"compat.yml has no matrix axis {axis!r}"
    return [v.strip().strip("'\"") for v in match.group(1).split(",")]


def test_actionlint_passes() -> None:
    result = run_actionlint(WORKFLOW)
    assert result.returncode == 0, f"actionlint found problems:\n{result.stdout}{result.stderr}"


def test_actionlint_catches_a_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / ".github" / "workflows" / "compat.yml"
    broken.parent.mkdir(parents=True)
    broken.write_text(WORKFLOW.read_text().replace("needs: [suites,", "needs: [suite,", 1))
    result = run_actionlint(broken)
    assert result.returncode != 0
    assert "suite" in result.stdout


def test_matrix_axes() -> None:
    text = WORKFLOW.read_text()
    assert matrix_axis(text, "python") == ["3.10", "3.11", "3.12", "3.13"]
    # quoted, or YAML reads 3.10 as the number 3.1
    assert re.search(r'python: \["3\.10",', text)
    assert matrix_axis(text, "pyturso") == noxfile_default("PYTURSO_VERSIONS")
    assert matrix_axis(text, "backend") == noxfile_default("MATRIX_BACKENDS")


def test_every_job_uploads_its_report_and_the_merge_writes_the_summary() -> None:
    text = WORKFLOW.read_text()
    assert "reports/matrix/${{ env.LABEL }}/compatibility.json" in text
    assert "LABEL: py${{ matrix.python }}-pyturso${{ matrix.pyturso }}-${{ matrix.backend }}" in text
    # the noxfile writes to the same folder name
    assert 'return f"py{python}-pyturso{pyturso}-{backend}"' in NOXFILE.read_text()
    assert "python -m stc_harness matrix" in text
    assert '>> "$GITHUB_STEP_SUMMARY"' in text
    assert "reports/matrix/matrix.html" in text
    assert "UV_PYTHON_DOWNLOADS: never" in text


def test_the_sqlite_and_sqlalchemy_axes_run_and_the_report_and_matrices_are_published() -> None:
    text = WORKFLOW.read_text()
    assert matrix_axis(text, "sqlean") == noxfile_default("SQLEAN_VERSIONS")
    assert matrix_axis(text, "sqlalchemy") == noxfile_default("SQLALCHEMY_VERSIONS")
    assert "run: nox -s sqlite_axis" in text
    assert "run: nox -s clients" in text
    # the SQLite points use the noxfile's folder names, and the merge reads them with the pyturso ones
    assert "LABEL: py3.12-sqlean${{ matrix.sqlean }}-sqlean" in text
    assert 'return f"py{python}-sqlean{sqlean}-sqlean"' in NOXFILE.read_text()
    assert "needs: [suites, sqlite-axis, clients]" in text
    assert "reports/matrix/py3.*/" in text
    assert "reports/clients/sqlalchemy-*/" in text
    # the report of the commit: HTML, summary, details and JSON, and the decision in the job summary
    for path in ("reports/ci/compatibility.html", "reports/ci/compatibility.md",
                 "reports/ci/compatibility-details/", "reports/ci/compatibility.json",
                 "reports/clients/matrix.html"):
        assert path in text, path
    assert 'cat reports/ci/compatibility.md >> "$GITHUB_STEP_SUMMARY"' in text
