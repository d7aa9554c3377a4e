"""Off the happy path (issue 11): xdist absent, interrupts, hangs, bad paths, secrets and small things."""

from __future__ import annotations

import pytest

from conftest import load_report, outcomes, write_suite

ONE = """
@check(title="one", source=SRC)
async def test_fx_one(ctx: CheckContext) -> object:
    return 1
"""


def test_serial_run_with_xdist_disabled(project: pytest.Pytester) -> None:
    write_suite(project, ONE)
    result = project.runpytest_subprocess("-p", "no:xdist", "--backend=sqlite", "--report-dir=out")
    assert result.ret == 0, result.stdout.str() + result.stderr.str()
    assert outcomes(load_report(project.path / "out")) == {("smoke.fx_one", "sqlite"): "same"}
