"""A campaign's corpus: every cause ever seen, in one SQLite file in the campaign folder.

`corpus.sqlite` holds, per cause: first and last seed and engine versions it was seen with, hit and
finding counts, its signatures, its smallest repro (a finding record), whether the registry documents
it, whether it is fixed (its repro stopped reproducing on newer engines) and whether it was exported as
a `.sqltest` case; and per seed done under a spec fingerprint, its counts (so a rerun resumes). Each
seed is merged in one transaction, so a killed client leaves the corpus as it was after the last seed.
Merging is order-free (minimum first seed, maximum last seed, summed counts, smallest repro), so the
same seeds give the same corpus however many workers ran them, in whatever order they finished.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stc_harness.differential.causegroups import CauseGroup, repro_size
from stc_harness.differential.seedtask import finding_record
from stc_harness.errors import UsageError

SCHEMA_VERSION = 1
FILE = "corpus.sqlite"
OPEN, FIXED = "open", "fixed"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS causes (
    id TEXT PRIMARY KEY, backend TEXT NOT NULL, result TEXT NOT NULL, noise INTEGER NOT NULL,
    version_gap INTEGER NOT NULL, documented INTEGER NOT NULL,
    first_seed INTEGER NOT NULL, first_version TEXT NOT NULL,
    last_seed INTEGER NOT NULL, last_version TEXT NOT NULL,
    hits INTEGER NOT NULL, findings INTEGER NOT NULL, seeds INTEGER NOT NULL,
    signatures TEXT NOT NULL, repro TEXT NOT NULL,
    status TEXT NOT NULL, fixed_version TEXT, checked_version TEXT, exported TEXT);
CREATE TABLE IF NOT EXISTS seeds (
    seed INTEGER NOT NULL, fingerprint TEXT NOT NULL, version TEXT NOT NULL,
    cases INTEGER NOT NULL, statements INTEGER NOT NULL, findings INTEGER NOT NULL,
    causes TEXT NOT NULL, truncated INTEGER NOT NULL, seconds REAL NOT NULL, worker TEXT NOT NULL,
    finished REAL NOT NULL, PRIMARY KEY (seed, fingerprint));
"""


class CorpusError(UsageError):
    """A campaign folder that cannot be used; the message names the fix."""


def version_text(versions: dict[str, str]) -> str:
    """Engine versions as one stable string (`sqlean=sqlean.py 3.50.4; turso=pyturso 0.8.3; ...`)."""
    return "; ".join(f"{k}={v}" for k, v in sorted(versions.items()))


@dataclass
class CauseRow:
    """One cause as the corpus holds it."""

    id: str
    backend: str
    result: str
    noise: bool
    version_gap: bool
    documented: bool
    first_seed: int
    first_version: str
    last_seed: int
    last_version: str
    hits: int
    findings: int
    seeds: int
    signatures: list[str]
    repro: dict[str, Any]
    status: str
    fixed_version: str | None
    checked_version: str | None
    exported: str | None


def _file_in_the_way(folder: Path) -> Path | None:
    """The folder itself, or the nearest of its parents, when it exists as something other than a
    folder (a regular file), so the folder cannot be made; None when nothing is in the way."""
    for path in (folder, *folder.parents):
        if path.exists() or path.is_symlink():
            return None if path.is_dir() else path
    return None


class Corpus:
    """The corpus of one campaign folder (opened with `Corpus.open`)."""

    def __init__(self, folder: Path, conn: sqlite3.Connection) -> None:
        self.folder = folder
        self.conn = conn

    @classmethod
    def open(cls, folder: Path) -> Corpus:
        """Open (or create) the corpus; a folder that cannot be written or a corpus of a newer schema
        is a `CorpusError` naming the fix, raised before any work starts."""
        blocker = _file_in_the_way(folder)
        if blocker is not None:
            what = "is a file" if blocker == folder else f"cannot be created: {blocker} is a file"
            raise CorpusError(f"the campaign folder {folder} {what}, not a folder: choose a writable "
                              "--campaign folder (or move the file away)")
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise CorpusError(f"cannot create the campaign folder {folder} ({exc.strerror}): "
                              "choose a writable --campaign folder") from None
        path = folder / FILE
        if not os.access(folder, os.W_OK | os.X_OK) or (path.exists() and not os.access(path, os.W_OK)):
            raise CorpusError(f"the campaign folder {folder} is read-only: make it writable "
                              "(chmod u+w), or copy it and pass the copy to --campaign")
        try:
            conn = sqlite3.connect(path, isolation_level=None, timeout=0)
            conn.execute("PRAGMA busy_timeout = 0")
            version = cls._schema_version(conn, path)
            if version is None:
                conn.execute("BEGIN IMMEDIATE")
                for statement in filter(str.strip, _SCHEMA.split(";")):
                    conn.execute(statement)
                conn.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)",
                             (str(SCHEMA_VERSION),))
                conn.execute("INSERT OR IGNORE INTO meta VALUES ('created', ?)", (str(time.time()),))
                conn.execute("COMMIT")
            else:
                conn.execute("BEGIN IMMEDIATE")  # proves it can be written (and nobody else holds it)
                conn.execute("ROLLBACK")
        except sqlite3.OperationalError as exc:
            text = str(exc)
            if "locked" in text or "busy" in text:
                raise CorpusError(f"{path} is in use by another campaign: wait for it to finish, "
                                  "or use another --campaign folder") from None
            raise CorpusError(f"cannot write {path} ({text}): make the campaign folder writable "
                              "or choose another --campaign folder") from None
        except sqlite3.DatabaseError as exc:
            raise CorpusError(f"{path} is not a campaign corpus ({exc}): move it away or choose "
                              "another --campaign folder") from None
        return cls(folder, conn)

    @staticmethod
    def _schema_version(conn: sqlite3.Connection, path: Path) -> int | None:
        """The corpus's schema version (None for a new file); newer than this harness reads: an error."""
        has_meta = conn.execute("SELECT 1 FROM sqlite_schema WHERE name = 'meta'").fetchone()
        if not has_meta:
            return None
        row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        version = int(row[0]) if row else 0
        if version > SCHEMA_VERSION:
            raise CorpusError(f"{path} has corpus schema version {version}, newer than this harness reads "
                              f"({SCHEMA_VERSION}): upgrade sqlite-turso-conformance "
                              "(pip install -U 'sqlite-turso-conformance[campaign]'), or use another "
                              "--campaign folder")
        if version < SCHEMA_VERSION:
            raise CorpusError(f"{path} has corpus schema version {version}, which this harness does not "
                              "read: move it away and start a new campaign")
        return version

    def close(self) -> None:
        """Close the database."""
        self.conn.close()

    # --- reading -------------------------------------------------------------------------------------

    def causes(self) -> dict[str, CauseRow]:
        """Every cause, by id."""
        rows = self.conn.execute("SELECT * FROM causes ORDER BY id").fetchall()
        names = [d[0] for d in self.conn.execute("SELECT * FROM causes LIMIT 0").description]
        out = {}
        for row in rows:
            data = dict(zip(names, row, strict=True))
            for flag in ("noise", "version_gap", "documented"):
                data[flag] = bool(data[flag])
            data["signatures"] = json.loads(data["signatures"])
            data["repro"] = json.loads(data["repro"])
            out[data["id"]] = CauseRow(**data)
        return out

    def done_seeds(self, fingerprint: str) -> set[int]:
        """Seeds already merged under this spec fingerprint."""
        rows = self.conn.execute("SELECT seed FROM seeds WHERE fingerprint = ?", (fingerprint,))
        return {int(r[0]) for r in rows}

    def seed_rows(self, fingerprint: str) -> list[dict[str, Any]]:
        """The merged seeds of a fingerprint, by seed: counts and cause ids."""
        cur = self.conn.execute("SELECT seed, cases, statements, findings, causes, truncated, seconds "
                                "FROM seeds WHERE fingerprint = ? ORDER BY seed", (fingerprint,))
        return [{"seed": r[0], "cases": r[1], "statements": r[2], "findings": r[3],
                 "causes": json.loads(r[4]), "truncated": bool(r[5]), "seconds": r[6]} for r in cur]

    # --- writing -------------------------------------------------------------------------------------

    def merge_seed(self, seed: int, fingerprint: str, result: dict[str, Any], groups: Iterable[CauseGroup],
                   documented: dict[str, bool]) -> None:
        """Add one seed's causes (one transaction; a seed already merged under the fingerprint: nothing).
        `documented`: for every signature of the groups, whether the registry documents it now."""
        version = version_text(result["versions"])
        groups = list(groups)
        conn = self.conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            if conn.execute("SELECT 1 FROM seeds WHERE seed = ? AND fingerprint = ?",
                            (seed, fingerprint)).fetchone():
                conn.execute("ROLLBACK")
                return
            for g in groups:
                self._merge_cause(seed, version, g, documented)
            conn.execute("INSERT INTO seeds VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                         (seed, fingerprint, version, result["cases"], result["statements"],
                          len(result["findings"]), json.dumps([g.id for g in groups]),
                          int(result["truncated"]), result["seconds"], result.get("worker", ""), time.time()))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def _merge_cause(self, seed: int, version: str, g: CauseGroup, documented: dict[str, bool]) -> None:
        # the repro without what belongs to one seed (its hits, where it was found), so equal repros are
        # equal whichever seed gave them
        repro = {k: v for k, v in finding_record(g.repro).items() if k not in ("hits", "first_case")}
        row = self.conn.execute("SELECT first_seed, first_version, last_seed, last_version, signatures, "
                                "repro FROM causes WHERE id = ?", (g.id,)).fetchone()
        if row is None:
            sigs = g.signatures
            self.conn.execute(
                "INSERT INTO causes VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, NULL, NULL, "
                "NULL)",
                (g.id, g.key.backend, g.key.result, int(g.key.noise), int(g.version_gap),
                 int(all(documented.get(s, False) for s in sigs)), seed, version, seed, version,
                 g.hits, len(sigs), json.dumps(sigs), json.dumps(repro), OPEN))
            return
        first_seed, first_version, last_seed, last_version, sigs_text, repro_text = row
        sigs = sorted(set(json.loads(sigs_text)) | set(g.signatures))
        old = json.loads(repro_text)
        if _record_size(repro) < _record_size(old):
            old = repro
        if first_version == version and seed < first_seed:
            first_seed = seed
        if last_version != version or seed > last_seed:
            last_seed, last_version = seed, version
        self.conn.execute(
            "UPDATE causes SET first_seed = ?, last_seed = ?, last_version = ?, hits = hits + ?, "
            "findings = ?, seeds = seeds + 1, signatures = ?, repro = ?, documented = ?, "
            "status = ?, fixed_version = NULL WHERE id = ?",
            (first_seed, last_seed, last_version, g.hits, len(sigs), json.dumps(sigs), json.dumps(old),
             int(all(documented.get(s, False) for s in sigs)), OPEN, g.id))

    def mark_checked(self, results: dict[str, str | None], version: str) -> tuple[list[str], list[str]]:
        """Record a recheck of open causes on `version` (cause id -> the id its repro files under now, or
        None when the backends agree): the ones now fixed, and those whose repro moved to another cause."""
        fixed, moved = [], []
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            for cause_id, now in sorted(results.items()):
                if now == cause_id:
                    self.conn.execute("UPDATE causes SET checked_version = ? WHERE id = ?",
                                      (version, cause_id))
                    continue
                (fixed if now is None else moved).append(cause_id)
                self.conn.execute("UPDATE causes SET status = ?, fixed_version = ?, checked_version = ? "
                                  "WHERE id = ?", (FIXED, version, version, cause_id))
            self.conn.execute("COMMIT")
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        return fixed, moved

    def mark_exported(self, cause_id: str, path: str) -> None:
        """Record that a cause was exported as a `.sqltest` case (so it is exported once)."""
        self.conn.execute("UPDATE causes SET exported = ? WHERE id = ?", (path, cause_id))


def _record_size(record: dict[str, Any]) -> tuple[tuple[int, int, str], str]:
    sqls = [s["sql"] for s in record["statements"][: record["index"] + 1]]
    return repro_size(sqls), record["signature"]
