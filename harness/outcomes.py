"""The harness's one vocabulary: outcomes, layers, attributions, impacts and reference roles, with labels.

Every module that names one of these imports it from here (this module imports nothing), so a record,
the judge, the report and the registry cannot drift apart on a spelling or an order.
"""

from __future__ import annotations

# --- outcomes: what one check did on one backend ----------------------------------------------------

#: The backend observed what the baseline observed.
SAME = "same"
#: It differs, and a registry entry documents exactly what it observes.
DOCUMENTED = "documented-difference"
#: A registry entry no longer matches what the backend does (changed, gone, or attributed wrongly).
DRIFT = "drift"
#: It differs from the baseline and nothing documents it.
UNDOCUMENTED = "undocumented-difference"
#: The check could not run there: a capability is missing (the reason is recorded).
UNSUPPORTED = "unsupported"
#: The check itself failed to complete (a bug in the check, or no baseline).
ERROR = "error"
#: The driver or its process died (a Rust panic, an abort, a segfault).
CRASH = "crash"
#: The check did not finish within its timeout.
TIMEOUT = "timeout"
#: Every outcome, in the order reports list them.
OUTCOMES = (SAME, DOCUMENTED, DRIFT, UNDOCUMENTED, UNSUPPORTED, ERROR, CRASH, TIMEOUT)
#: Outcomes that fail the run and are shown loudly: something changed, or a check could not complete.
LOUD = (DRIFT, UNDOCUMENTED, ERROR, CRASH, TIMEOUT)
#: Outcomes of a check that could not be judged: it did not complete on that backend.
BROKEN = (ERROR, CRASH, TIMEOUT)
#: Outcomes whose result differs from the reference (documented, undocumented, or an entry gone stale).
DIFFERS = (DOCUMENTED, UNDOCUMENTED, DRIFT)
#: A report cell for a check a backend has no record of (a merged or partial report).
NOT_RUN = "not-run"
#: Outcomes of a check that did not run on a backend (nothing was measured).
NOT_RUN_OUTCOMES = (UNSUPPORTED, NOT_RUN)
#: A run's status before it is judged: the body returned an observation (else one of the outcomes above).
OK = "ok"

# --- layers: what a check measures ------------------------------------------------------------------

#: SQL semantics through the harness's protocol.
ENGINE = "engine"
#: The Python driver modules called directly.
DRIVER = "driver"
#: Real client code (SQLAlchemy, Alembic, a user's suite) on top of the driver.
CLIENT = "client"
#: Every layer, bottom up.
LAYERS = (ENGINE, DRIVER, CLIENT)

# --- attributions: whose difference it is -----------------------------------------------------------

#: Turso's own: the SQLite release Turso tracks does not observe the same.
TURSO_OWN = "turso"
#: A SQLite version gap: the SQLite release Turso tracks observes what Turso does.
VERSION_GAP = "sqlite-version"
#: Not measurable here (no tracked SQLite, or the check could not complete on it).
UNAVAILABLE = "unavailable"
#: Every attribution a run can measure.
ATTRIBUTIONS = (TURSO_OWN, VERSION_GAP, UNAVAILABLE)
#: What an attribution means, as a registry entry states it (only these two can be documented).
ATTRIBUTION_MEANING = {
    TURSO_OWN: "Turso's own: the SQLite release Turso tracks behaves like the old SQLite",
    VERSION_GAP: "SQLite version gap: the SQLite release Turso tracks behaves like Turso",
}
#: Labels of the attributions, as a reader says them ("" : the run did not say).
ATTRIBUTION_LABELS = {TURSO_OWN: "Turso's own", VERSION_GAP: "SQLite version gap",
                      UNAVAILABLE: "unattributed", "": "unattributed"}
#: Attributions in the order a decision lists them (Turso's own first).
ATTRIBUTION_ORDER = (TURSO_OWN, UNAVAILABLE, "", VERSION_GAP)

# --- impacts: how bad a difference is for an application --------------------------------------------

#: The impact of a difference no registry entry classifies (an undocumented difference).
UNKNOWN_IMPACT = "unknown"
#: A value stored or read differently, no error.
SILENT_DATA_CHANGE = "silent-data-change"
#: Writes lost, or writes that should not happen.
LOST_OR_EXTRA_WRITES = "lost-or-extra-writes"
#: An error where there was none, or none where there was one.
ERROR_APPEARS_OR_DISAPPEARS = "error-appears-or-disappears"
#: A different error class or kind.
DIFFERENT_ERROR = "different-error"
#: A missing API or a refused feature.
MISSING_API = "missing-api"
#: Messages and other details nobody should depend on.
COSMETIC = "cosmetic"
#: Impact classes a registry entry can state, worst first, with what each means.
IMPACTS = {
    SILENT_DATA_CHANGE: "a value stored or read differently, no error",
    LOST_OR_EXTRA_WRITES: "writes lost, or writes that should not happen",
    ERROR_APPEARS_OR_DISAPPEARS: "an error where there was none, or none where there was one",
    DIFFERENT_ERROR: "a different error class or kind (code that catches by class breaks)",
    MISSING_API: "a missing API or a refused feature (fails loudly)",
    COSMETIC: "messages and other details nobody should depend on",
}
#: Impact classes in the order a decision lists them: unknown first (nobody has judged it yet).
IMPACT_ORDER = (UNKNOWN_IMPACT, *IMPACTS)
#: Labels of the impact classes, as a reader says them.
IMPACT_LABELS = {UNKNOWN_IMPACT: "impact unknown", **{k: k.replace("-", " ") for k in IMPACTS},
                 MISSING_API: "missing API"}
#: Impact classes that change or lose data without an error.
DATA_IMPACTS = (SILENT_DATA_CHANGE, LOST_OR_EXTRA_WRITES)

# --- reference roles: the backends others are compared with -----------------------------------------

#: The backend whose observations are every other backend's baseline (`--reference`).
REFERENCE = "reference"
#: The SQLite release Turso tracks, run where a backend differs to attribute the difference.
TRACKED = "tracked"
#: A check's own stated expectation (`@check(expect=...)`), the baseline when there is one.
EXPECT = "expect"
#: What each role is, as a reader says it.
ROLE_LABELS = {
    REFERENCE: "the reference (the baseline every backend is compared with)",
    TRACKED: "the tracked SQLite (the release Turso tracks: attributes each difference)",
    EXPECT: "the check's own expectation",
}

# --- backend ids that play a role by default ---------------------------------------------------------

#: The backend that plays the tracked role unless `--tracked-reference` (or the hunt's `--reference`)
#: names another. Backend ids name implementations, as `sqlite` (the stdlib sqlite3) and `turso`
#: (pyturso) do: this one is sqlean.py's SQLite, the tracked SQLite at its pinned release and a point of
#: the SQLite-version axis at any other (docs/attribution.md, "Names: the role and its implementation").
TRACKED_BACKEND = "sqlean"
#: Backends that are SQLite itself, one release each (the stdlib's, and sqlean.py's): lanes a hunt runs
#: beside its subjects, and the points of the version matrix's SQLite axis.
SQLITE_BACKENDS = ("sqlite", TRACKED_BACKEND)
#: How a reader names the tracked SQLite, before its implementation: "tracked SQLite (sqlean.py 3.50.4)".
TRACKED_LABEL = "tracked SQLite"
