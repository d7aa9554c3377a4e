# Two entry points do all set-up on a fresh machine:
#   make report   run every suite on every backend (SQLite, Turso, libSQL) and write reports/compatibility.{json,md,html}
#   make test     lint, then the harness's own tests and the suites (what .ci/run calls)
#   make matrix   the suites across pyturso versions, merged into reports/matrix/matrix.{md,html,json}
#   make proofs   suites through the drop-in mode on both engines: sqlite-utils, SQLAlchemy, Alembic, Django, sqlitedict, diskcache, huey, ormar, aiosql, persist-queue, requests-cache, SQLObject, coverage.py, beets, Pony, shop
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: report test lint bench bench-backend-cost matrix proofs mutants clean

# The suites' databases go to RAM (/dev/shm, where there is one) unless TMPDIR is set: every commit's
# fsync otherwise waits for the disk, and libsql's fsync holds the GIL (its worker stops meanwhile).
# Verdicts and observations are the same on disk (docs/performance.md#what-libsql-costs-make-report).
RUN_TMP := $(or $(TMPDIR),$(shell [ -d /dev/shm ] && [ -w /dev/shm ] && echo /dev/shm))
report test bench-backend-cost: export TMPDIR := $(RUN_TMP)

$(STAMP): pyproject.toml plugins/libsql/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	# libSQL, a third backend as its own plugin (a wheel, never built here); without one for this machine
	# the plugin installs alone and every run's header says the libsql backend did not load, and why.
	$(PY) -m pip install --quiet --only-binary=libsql -e plugins/libsql || { \
		echo "libsql: no wheel for this machine; the libsql backend is skipped"; \
		$(PY) -m pip install --quiet --no-deps -e plugins/libsql; }
	touch $(STAMP)

# The report files are tracked: the run writes into reports/.run, and `settle` moves them over the tracked
# ones only when the results changed (a rerun that differs in times and durations alone leaves git clean).
report: $(STAMP)
	$(PY) -m pytest suites -n 2 --max-worker-restart=8 --report-dir=reports/.run -q; \
		status=$$?; $(PY) -m stc_harness.report.cli settle reports/.run reports && exit $$status

lint: $(STAMP)
	$(PY) -m ruff check .

# The suites run on every installed backend, libSQL included (its timing-dependent checks were made
# deterministic: docs/adding-a-backend.md); the harness's own tests pin a two-backend default themselves.
test: $(STAMP) lint
	$(PY) -m pytest tests suites -n 2 --max-worker-restart=8 -q

matrix: $(STAMP)
	$(VENV)/bin/nox -s matrix

# The drop-in proofs: the suites of sqlite-utils, Alembic, sqlitedict, diskcache, huey, ormar, aiosql, persist-queue,
# requests-cache, SQLObject, coverage.py, beets, Pony and Django's
# runner (pinned sdists), SQLAlchemy's compliance suite and tests/dropin_apps/shop (pytest and its own runtests.py),
# unchanged, on SQLite and Turso; reports in reports/dropin/. Minutes, not part of `make test`.
proofs: $(STAMP)
	$(VENV)/bin/nox -s dropin_sqlite_utils dropin_sqlalchemy dropin_alembic dropin_django dropin_sqlitedict dropin_diskcache dropin_huey dropin_ormar dropin_pony dropin_shop dropin_aiosql dropin_persist_queue dropin_requests_cache dropin_sqlobject dropin_coverage dropin_beets

# The mutation suite (tests/mutants): every mutant backend against the suites that should see it; prints
# the score and, per mutant, the checks that killed it. Minutes, not part of `make test`.
mutants: $(STAMP)
	PYTHONPATH=tests $(PY) -m mutants.run

bench: $(STAMP)
	$(PY) -m stc_harness bench

# What libSQL adds to `make report`: the same run with and without it, alternated, wall and CPU.
bench-backend-cost: $(STAMP)
	$(PY) scripts/bench_backend_cost.py --backend=libsql --rounds=2

clean:
	rm -rf $(VENV) .nox
