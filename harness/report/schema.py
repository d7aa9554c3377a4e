"""Load a report JSON file and check that it is a report of the schema version this harness reads."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from stc_harness.errors import UsageError
from stc_harness.report.build import READABLE_VERSIONS, SCHEMA_VERSION, add_attribution


class ReportError(UsageError):
    """A file is not a readable report of the expected schema version; the message names the file."""


def upgrade_v1(doc: dict[str, Any]) -> dict[str, Any]:
    """A schema-version-1 report as version 2: no result's attribution is known (it was never measured)."""
    doc = {**doc, "schema_version": SCHEMA_VERSION, "upgraded_from": 1,
           "tracked": {"available": False, "why": "a schema_version 1 report: attribution was not measured",
                       "note": "attribution unavailable"}}
    for row in doc["checks"]:
        for res in row["results"].values():
            res.setdefault("attribution", None)
            res.setdefault("tracked_observed", None)
        if row.get("entry"):
            row["entry"] = {"impact": None, "attribution": None, **row["entry"]}
    return add_attribution(doc)


def validate(doc: Any, name: str) -> dict[str, Any]:
    """Return `doc` if it is a report this harness reads (version 1 upgraded), else raise `ReportError`."""
    want = f"expected a compatibility report with schema_version {SCHEMA_VERSION}"
    if not isinstance(doc, dict) or "schema_version" not in doc:
        raise ReportError(f"{name}: not a compatibility report (no schema_version); {want}")
    version = doc["schema_version"]
    if version not in READABLE_VERSIONS:
        raise ReportError(f"{name}: schema_version {version!r} is not supported; {want} (this harness "
                          f"reads {', '.join(map(str, READABLE_VERSIONS))}; render it with the harness "
                          "version that wrote it)")
    problems = []
    backends = doc.get("backends")
    if not isinstance(backends, list) or not all(isinstance(b, dict) and isinstance(b.get("id"), str)
                                                 for b in backends):
        problems.append("'backends' must be a list of objects with an 'id'")
    checks = doc.get("checks")
    if not isinstance(checks, list):
        problems.append("'checks' must be a list")
    else:
        for i, row in enumerate(checks):
            if not isinstance(row, dict) or not isinstance(row.get("id"), str) \
                    or not isinstance(row.get("area"), str) or not isinstance(row.get("results"), dict):
                problems.append(f"checks[{i}] needs 'id', 'area' and 'results'")
                break
            bad = [b for b, r in row["results"].items() if not isinstance(r, dict) or "outcome" not in r]
            if bad:
                problems.append(f"check {row['id']!r}: result of {bad[0]!r} has no 'outcome'")
                break
    if problems:
        raise ReportError(f"{name}: malformed report: {'; '.join(problems)}; {want}")
    return upgrade_v1(doc) if version == 1 else doc


def load_report(path: Path | str) -> dict[str, Any]:
    """Read and validate one report file; every failure is a `ReportError` naming the file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ReportError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise ReportError(f"{path}: not a compatibility report (not UTF-8 text); expected JSON with "
                          f"schema_version {SCHEMA_VERSION}") from exc
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ReportError(f"{path}: not a compatibility report (not valid JSON: {exc}); expected JSON "
                          f"with schema_version {SCHEMA_VERSION}") from exc
    return validate(doc, str(path))


def refuse_dropin(doc: dict[str, Any], name: str, what: str) -> dict[str, Any]:
    """`doc`, unless it is a drop-in report (a user's own tests, no checks): then a ReportError for `what`."""
    if "dropin" in doc:
        raise ReportError(f"{name} is a drop-in report (your own tests on SQLite and Turso, no checks of the "
                          f"harness); {what} reads compatibility reports (compatibility.json); a drop-in "
                          "report is rendered with `python -m stc_harness render`")
    return doc
