"""Checks: one async body run per backend, its observation judged against the baseline and registry."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import time
import traceback
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stc_harness.adapters.connection import PASS_THROUGH
from stc_harness.differences import Entry, Registry
from stc_harness.errors import DatabaseError, ErrorKind, Unsupported, exception_chain
from stc_harness.observe import canonical, unplain

# The vocabulary; its sets re-exported `as` themselves for modules that still import them from here.
from stc_harness.outcomes import ATTRIBUTIONS as ATTRIBUTIONS
from stc_harness.outcomes import (
    CRASH,
    DOCUMENTED,
    DRIFT,
    ENGINE,
    ERROR,
    EXPECT,
    OK,
    SAME,
    TIMEOUT,
    TURSO_OWN,
    UNAVAILABLE,
    UNDOCUMENTED,
    UNSUPPORTED,
    VERSION_GAP,
)
from stc_harness.outcomes import LAYERS as LAYERS
from stc_harness.outcomes import LOUD as LOUD
from stc_harness.outcomes import OUTCOMES as OUTCOMES
from stc_harness.sources import Source

#: The sentinel of a check without `expect` or `param` (None is a value a check can state).
MISSING: Any = object()

#: Every check defined by an imported suite module, by id.
DEFINED: dict[str, CheckSpec] = {}


@dataclass(frozen=True)
class CheckSpec:
    """A check's identity and needs: id (`area.name`), title, source, capabilities, timeout, isolation."""

    id: str
    area: str
    title: str
    source: Source
    requires: tuple[str, ...] = ()
    timeout: float = 15.0
    expect: Any = MISSING
    param: Any = MISSING
    isolated: bool = False
    origin: str = field(default="", compare=False)
    layer: str = ENGINE
    #: A Hypothesis strategy of further cases like `param` (see `stc_harness.variants`), or None.
    variants: Any = field(default=None, compare=False)

    @property
    def has_expect(self) -> bool:
        """Whether the check states its own expected observation (else: the reference's)."""
        return self.expect is not MISSING


@dataclass
class Run:
    """What happened when one backend ran one check."""

    status: str  # OK, UNSUPPORTED, ERROR, CRASH, TIMEOUT
    observation: Any = None
    message: str = ""
    notes: dict[str, Any] = field(default_factory=dict)
    duration: float = 0.0


class CheckContext:
    """What a check body gets: its backend, a private folder, and tracked connections and pools."""

    def __init__(self, backend: Any, folder: Path, default_options: Mapping[str, Any] | None = None) -> None:
        self.backend = backend
        self.name: str = backend.name
        self.folder = folder
        self.default_options = dict(default_options or {})
        self.notes: dict[str, Any] = {}
        self._closers: list[Callable[[], Awaitable[None]]] = []
        self._counter = 0

    def url(self, stem: str | None = None, *, memory: bool = False) -> str:
        """A fresh database URL of this backend: a new file in the check's folder, or `:memory:`."""
        if memory:
            return f"{self.name}::memory:"
        self._counter += 1
        self.folder.mkdir(parents=True, exist_ok=True)
        return f"{self.name}:{self.folder / (stem or f'db{self._counter}')}.db"

    async def connect(self, url: str | None = None, **options: Any) -> Any:
        """Open a tracked connection (closed when the check ends) on `url` or a fresh file database."""
        conn = await self.backend.connect(url or self.url(), **{**self.default_options, **options})
        self._closers.append(conn.close)
        return conn

    def pool(self, url: str | None = None, **kwargs: Any) -> Any:
        """A tracked pool (closed when the check ends) on `url` or a fresh file database."""
        pool = self.backend.pool(url or self.url(), **{**self.default_options, **kwargs})
        self._closers.append(pool.close)
        return pool

    def on_close(self, closer: Callable[[], Awaitable[None]]) -> None:
        """Run `closer` when the check ends."""
        self._closers.append(closer)

    async def require(self, *capabilities: str) -> None:
        """Raise `Unsupported` naming the first missing capability."""
        for name, reason in await self.backend.capabilities.missing(capabilities):
            raise Unsupported(name, reason)

    def sync_module(self) -> Any:
        """The backend's blocking DB-API module (its `sync_module`), or `Unsupported` naming why not."""
        import importlib

        name = getattr(self.backend, "sync_module", None)
        if not name:
            raise Unsupported("sync_api", f"backend {self.name!r} names no blocking DB-API module "
                                          "(set `sync_module` on the backend class)")
        return importlib.import_module(name)

    def async_module(self) -> Any:
        """The backend's async driver module (its `async_module`), or `Unsupported` naming why not."""
        import importlib

        name = getattr(self.backend, "async_module", None)
        if not name:
            raise Unsupported("async_driver", f"backend {self.name!r} names no async driver module "
                                              "(set `async_module` on the backend class)")
        return importlib.import_module(name)

    def note(self, **details: Any) -> None:
        """Record details for the report that are shown but never compared (raw messages, timings)."""
        self.notes.update({k: canonical(v) for k, v in details.items()})

    async def attempt(self, awaitable: Awaitable[Any], label: str | None = None) -> Any:
        """Await; return `{"ok": value}` or `{"error": KIND}`, noting the raw class and message.

        A Rust panic is not an error an application can handle: it propagates, and the check is a `crash`.
        """
        try:
            return {"ok": canonical(await awaitable)}
        except DatabaseError as exc:
            if _is_panic(exc):
                raise
            if label:
                self.notes[label] = exc.raw.as_dict()
            return {"error": exc.kind.value}

    async def aclose(self) -> None:
        """Close everything the check opened, newest first; failures here are noted, not raised."""
        for closer in reversed(self._closers):
            try:
                await asyncio.wait_for(closer(), 5)
            except PASS_THROUGH:
                raise
            except BaseException as exc:  # noqa: BLE001
                self.notes.setdefault("cleanup_errors", []).append(f"{type(exc).__name__}: {exc}")
        self._closers.clear()


Body = Callable[..., Awaitable[Any]]


def _is_panic(exc: BaseException) -> bool:
    """Whether `exc` is, or was caused by, a Rust panic (pyo3's `PanicException`, a BaseException)."""
    return any(type(node).__name__ == "PanicException"
               or (isinstance(node, DatabaseError) and node.kind is ErrorKind.PANIC)
               for node in exception_chain(exc))


async def execute(spec: CheckSpec, body: Body, backend: Any, folder: Path,
                  default_options: Mapping[str, Any] | None = None) -> Run:
    """Run a check body on one backend and capture everything, panics and hangs included."""
    ctx = CheckContext(backend, folder, default_options)
    start = time.perf_counter()
    args = () if spec.param is MISSING else (spec.param,)
    try:
        missing = await backend.capabilities.missing(spec.requires)
        if missing:
            return Run(UNSUPPORTED, message="; ".join(f"needs {n}: {r}" for n, r in missing))
        obs = await asyncio.wait_for(body(ctx, *args), spec.timeout)
        bad = unplain(obs)
        run = Run(OK, canonical(obs)) if bad is None else Run(ERROR, message=(
            f"the check returned a non-plain object at {bad}; return plain data (dict, list, str, int, "
            "float, bool, None, bytes) or use stc_harness.rows()/sql_value(); "
            "put anything else in ctx.note()"))
    except Unsupported as exc:
        run = Run(UNSUPPORTED, message=f"needs {exc.capability}: {exc.reason}")
    except asyncio.TimeoutError:
        run = Run(TIMEOUT, message=f"did not finish within {spec.timeout:g}s")
    except PASS_THROUGH:
        raise
    except BaseException as exc:  # noqa: BLE001 - every failure is recorded for this check only
        if _is_panic(exc):
            run = Run(CRASH, message=f"driver panicked: {type(exc).__name__}: {exc}")
        elif isinstance(exc, DatabaseError):
            # An error the body did not expect is still an observation: compared like any other.
            ctx.notes["uncaught"] = exc.raw.as_dict()
            run = Run(OK, {"uncaught_error": exc.kind.value})
        else:
            tb = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__, limit=-6))
            run = Run(ERROR, message=f"{type(exc).__name__}: {exc}\n{tb}")
    finally:
        with contextlib.suppress(asyncio.TimeoutError):
            await ctx.aclose()
    run.notes.update(ctx.notes)
    run.duration = time.perf_counter() - start
    return run


def same_observation(a: Any, b: Any) -> bool:
    """Exact, type-strict equality of two canonical observations: `True`, `1` and `1.0` all differ."""
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


@dataclass
class Verdict:
    """The outcome of one check on one backend, with everything the report shows about it."""

    outcome: str
    message: str
    baseline: Any = None
    baseline_from: str | None = None
    entry: Entry | None = None
    gone: bool = False
    attribution: str | None = None
    tracked_observed: Any = None

    @property
    def differs(self) -> bool:
        """Whether the backend's observation differs from the baseline (what attribution is asked for)."""
        return self.outcome in (DOCUMENTED, UNDOCUMENTED) or (self.outcome == DRIFT and not self.gone)


def attribute(run: Run, tracked: Run | None) -> str:
    """Whose difference `run` shows, by what the tracked SQLite observed on the same check.

    Same observation: a SQLite version gap. A different one, or the feature absent there (`unsupported`
    is a measurement: SQLite 3.50.4 does not do what Turso does): Turso's own. Not run, or the check
    could not complete on it: unavailable, never counted as Turso's own.
    """
    if tracked is None or tracked.status in (ERROR, CRASH, TIMEOUT):
        return UNAVAILABLE
    if tracked.status == UNSUPPORTED:
        return TURSO_OWN
    return VERSION_GAP if same_observation(run.observation, tracked.observation) else TURSO_OWN


def with_attribution(verdict: Verdict, run: Run, tracked: Run | None, tracked_id: str) -> Verdict:
    """`verdict` with its attribution measured; an entry whose attribution the measurement contradicts drifts.

    `tracked` is the tracked SQLite's run of the same check (None: it could not be run here).
    """
    attribution = attribute(run, tracked)
    seen = tracked.observation if tracked is not None and tracked.status == OK else None
    out = dataclasses.replace(verdict, attribution=attribution, tracked_observed=seen)
    entry = verdict.entry
    if verdict.outcome != DOCUMENTED or entry is None or entry.attribution is None \
            or attribution in (UNAVAILABLE, entry.attribution):
        return out
    if attribution == VERSION_GAP:
        what = f"exactly what this backend observed ({run.observation!r})"
    elif tracked is not None and tracked.status == UNSUPPORTED:
        what = f"nothing: it is unsupported there ({tracked.message})"
    else:
        what = f"{seen!r}, not what this backend observed"
    return dataclasses.replace(out, outcome=DRIFT, message=(
        f"registry entry {entry.id!r} ({entry.origin}) says attribution {entry.attribution!r} but the "
        f"tracked SQLite ({tracked_id}) observed {what}: set attribution = {attribution!r}"))


def driver_attribution(verdict: Verdict) -> Verdict:
    """`verdict` of a driver- or client-layer check that differs: Turso's own, by rule, not by measurement.

    These layers compare pyturso's Python modules (and what runs on them) with the stdlib's. The tracked
    SQLite's module (sqlean.py) is not the stdlib's: it lacks what Python 3.11+ added (`blobopen`,
    `serialize`, the newer constants), so its observation would confuse the module's age with SQLite's.
    A driver or client difference is the driver's; an entry calling one a SQLite version gap drifts.
    """
    entry = verdict.entry
    if verdict.outcome == DOCUMENTED and entry is not None and entry.attribution == VERSION_GAP:
        return dataclasses.replace(verdict, attribution=TURSO_OWN, outcome=DRIFT, message=(
            f"registry entry {entry.id!r} ({entry.origin}) says attribution {VERSION_GAP!r}, but a "
            "driver- or client-layer difference is the driver's (the tracked SQLite cannot measure these "
            f"layers through the stdlib module): set attribution = {TURSO_OWN!r}"))
    return dataclasses.replace(verdict, attribution=TURSO_OWN)


def judge(spec: CheckSpec, backend: str, run: Run, reference: str, ref_run: Run | None,
          registry: Registry, tracked: str | None = None) -> Verdict:
    """Compare a run with the baseline (the check's `expect`, else the reference's run) and the registry.

    `tracked` names the tracked SQLite backend: judged itself, its difference is covered by a
    `sqlite-version` entry when it observes what that entry expects of another backend.
    """
    entry = registry.for_check(spec.id, backend)
    if run.status != OK:
        # A crash or hang of the driver itself (a Rust panic, an interpreter frozen in a busy wait) can be
        # what a backend does: an entry expecting `{"crash": message}` or `{"timeout": message}` documents it.
        stopped = {run.status: run.message}
        if run.status in (CRASH, TIMEOUT) and entry is not None and backend in entry.expect \
                and same_observation(stopped, canonical(entry.expect[backend])):
            return Verdict(DOCUMENTED, f"{run.status} documented by {entry.id} ({entry.source})", entry=entry)
        return Verdict(run.status, run.message, entry=entry)
    if spec.has_expect:
        baseline, base_from = canonical(spec.expect), EXPECT
    elif backend == reference:
        baseline, base_from = run.observation, reference
    elif ref_run is not None and ref_run.status == OK:
        baseline, base_from = ref_run.observation, reference
    else:
        why = ref_run.message if ref_run else "the reference was not run"
        return Verdict(ERROR, f"no baseline: the reference {reference!r} could not run this check ({why}) "
                              "and the check states no expect", entry=entry)
    if entry is not None and backend in entry.expect:
        documented = canonical(entry.expect[backend])
        if same_observation(run.observation, documented):
            if backend != reference and same_observation(documented, baseline):
                why = (f"registry entry {entry.id!r} ({entry.origin}) expects {backend} to observe exactly "
                       f"the baseline ({base_from}): it documents no difference here; remove the "
                       "expectation or make the check tell the backends apart")
                return Verdict(DRIFT, why, baseline, base_from, entry, gone=True)
            outcome = SAME if backend == reference else DOCUMENTED
            return Verdict(outcome, f"as documented by {entry.id} ({entry.source})", baseline, base_from,
                           entry)
        gone = backend != reference and same_observation(run.observation, baseline)
        hint = (f"the difference is gone: remove the {backend!r} expectation of entry {entry.id!r}"
                if gone else f"update entry {entry.id!r} or find out why {backend} changed")
        return Verdict(DRIFT, f"registry entry {entry.id!r} ({entry.origin}) expects {backend} to observe "
                              f"{documented!r} but it observed {run.observation!r}: {hint}",
                       baseline, base_from, entry, gone)
    if same_observation(run.observation, baseline):
        return Verdict(SAME, "", baseline, base_from, entry)
    for gap in registry.all_for_check(spec.id) if backend == tracked else ():
        if gap.attribution != VERSION_GAP:
            continue
        for other, documented in sorted(gap.expect.items()):
            if other != reference and same_observation(run.observation, canonical(documented)):
                return Verdict(DOCUMENTED, f"SQLite version gap documented by {gap.id} ({gap.source}): "
                                           f"{backend} observes what {other} does",
                               baseline, base_from, gap, attribution=VERSION_GAP)
    return Verdict(UNDOCUMENTED, f"{backend} observed {run.observation!r}, {base_from} {baseline!r}; "
                                 "no registry entry documents this",
                   baseline, base_from, entry)
