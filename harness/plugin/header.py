"""The run's header: which backends run, with versions, the reference, the registry and the tracked SQLite."""

from __future__ import annotations

import pytest

from stc_harness.core.session import CheckSession
from stc_harness.plugin.state import state_of
from stc_harness.safety.secrets import redact


def tracked_line(session: CheckSession) -> str:
    """One line saying which SQLite attributes the differences, or that attribution is unavailable."""
    if session.tracked is None:
        return f"attribution unavailable: no tracked SQLite ({session.tracked_why})"
    info = session.tracked.backend.info
    purpose = info.extra.get("purpose", "the SQLite release Turso tracks (attribution reference)")
    return (f"tracked SQLite: {session.tracked.id}: {info.driver} {info.driver_version}, "
            f"engine {info.engine_version}: {purpose}")


def pytest_report_header(config: pytest.Config) -> list[str]:
    """Say which backends run, with driver and engine versions, and which is the reference."""
    st = state_of(config)
    lines = []
    for sel in st.session.selected.values():
        info = sel.backend.info
        opts = f" options {sel.options}" if sel.options else ""
        lines.append(f"backend {sel.id}: {info.driver} {info.driver_version}, "
                     f"engine {info.engine_version}{opts}")
    for name, why in st.broken.items():
        lines.append(f"backend {name}: not installed ({why})")
    total = len(st.session.registry.entries)
    lines.append(f"reference: {st.session.reference.id}; registry: {total} documented differences "
                 f"({len(st.builtin_ids)} built in, {total - len(st.builtin_ids)} yours)")
    lines.append(tracked_line(st.session))
    return redact(lines)
