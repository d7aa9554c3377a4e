"""What one process keeps between checks: the backends, the registry, and the runs made once per process."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stc_harness.adapters import backend_registry
from stc_harness.adapters.backend_registry import Selected
from stc_harness.checks import Body, CheckSpec, Run, execute
from stc_harness.differences import Registry
from stc_harness.errors import UsageError
from stc_harness.observe import canonical
from stc_harness.outcomes import TIMEOUT, TRACKED_BACKEND
from stc_harness.safety import watchdog
from stc_harness.safety.hard_timeout import HardTimeout, run_on_own_thread
from stc_harness.safety.isolation import job_for, run_isolated
from stc_harness.variants import VariantSettings

#: Seconds a check may take beyond its timeout to close what it opened before its thread is abandoned.
CLEANUP_GRACE = 2.0


@dataclass
class CheckSession:
    """The backends a run chose (fixed at configure time) and the runs each process makes only once."""

    selected: dict[str, Selected]
    reference: Selected
    registry: Registry
    tracked: Selected | None = None
    tracked_why: str = ""
    isolate: bool = False
    variants: VariantSettings = field(default_factory=VariantSettings)
    #: The tracked SQLite's and the reference's runs, by check id.
    tracked_runs: dict[str, Run] = field(default_factory=dict)
    reference_runs: dict[str, Run] = field(default_factory=dict)
    #: Outcomes of single variants, by (backend name, check id, case), run once per process.
    variant_runs: dict[tuple[str, str, str], Any] = field(default_factory=dict)
    #: SQLite's runs, by check id, when another backend is the reference (see `reference_view`).
    sqlite_runs: dict[str, Run] = field(default_factory=dict)

    @property
    def tracked_name(self) -> str:
        """The tracked SQLite's backend name (the default one's when attribution is off)."""
        return self.tracked.backend.name if self.tracked is not None else TRACKED_BACKEND

    async def run_on(self, spec: CheckSpec, body: Body, key: str | None, sel: Selected, folder: Path) -> Run:
        """Run the check on one backend, in this process or (isolated) in a child process."""
        if spec.isolated or self.isolate:
            job = job_for(body, key, sel.target, sel.options, folder)
            return await asyncio.to_thread(run_isolated, job, spec.timeout)
        start = time.perf_counter()
        try:
            with watchdog.watching(f"{spec.id} on {sel.id}", spec.timeout + CLEANUP_GRACE):
                return await run_on_own_thread(lambda: execute(spec, body, sel.backend, folder, sel.options),
                                               spec.timeout + CLEANUP_GRACE, f"{spec.id} on {sel.id}")
        except HardTimeout as exc:
            return Run(TIMEOUT, message=f"did not finish within {spec.timeout:g}s: {exc}",
                       duration=time.perf_counter() - start)

    async def run_case(self, spec: CheckSpec, body: Body, case: Any, sel: Selected, folder: Path) -> Any:
        """One variant of a check on one backend (once per process): its observation, or its status."""
        key = (sel.backend.name, spec.id, json.dumps(canonical(case), sort_keys=True))
        if key not in self.variant_runs:
            one = dataclasses.replace(spec, param=case, isolated=False)
            n = len(self.variant_runs)
            try:
                with watchdog.watching(f"{spec.id} variant on {sel.id}", spec.timeout + CLEANUP_GRACE):
                    run = await run_on_own_thread(
                        lambda: execute(one, body, sel.backend, folder / f"v{n}", sel.options),
                        spec.timeout + CLEANUP_GRACE, f"{spec.id} variant on {sel.id}")
            except HardTimeout:
                run = Run(TIMEOUT)
            self.variant_runs[key] = run.observation if run.status == "ok" else {"status": run.status}
        return self.variant_runs[key]


def tracked_backend(name: str, selected: dict[str, Selected]) -> tuple[Selected | None, str]:
    """The tracked SQLite backend, or None and why (then attribution is unavailable; never an error)."""
    if name == "none":
        return None, "switched off (--tracked-reference=none)"
    if name in selected:
        return selected[name], ""
    try:
        return backend_registry.select([name])[0][0], ""
    except UsageError as exc:
        return None, str(exc)
