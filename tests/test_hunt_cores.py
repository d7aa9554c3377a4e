"""Campaign workers' cores (`cores.plan`, `cores.confine`) and the `hunt-bench-campaign` command line,
without a cluster."""

from __future__ import annotations

import os
import threading
from typing import Any

import pytest

from stc_harness import __main__ as entry
from stc_harness.differential import campaign_bench, cli
from stc_harness.differential.cores import Seat, can_pin, confine, current, plan, usable


def test_one_core_per_thread_disjoint_while_the_machine_has_enough() -> None:
    two = (0, 1)
    assert plan([Seat("1", "h", 1, two), Seat("0", "h", 1, two)]) == {"0": [0], "1": [1]}
    assert plan([Seat("0", "h", 2, two)]) == {"0": [0, 1]}
    assert plan([Seat("0", "h", 4, two)]) == {"0": [0, 1]}  # no more cores than the machine has
    # more threads than cores: the shares wrap round (each worker still gets one core per thread)
    assert plan([Seat(str(i), "h", 1, two) for i in range(3)]) == {"0": [0], "1": [1], "2": [0]}
    # machines are planned apart; the cores are the machine's own (here: 4 and 5 only)
    assert plan([Seat("a", "x", 1, (4, 5)), Seat("b", "y", 1, (4, 5))]) == {"a": [4], "b": [4]}


@pytest.mark.skipif(not can_pin(), reason="this platform cannot choose a process's cores")
def test_confine_moves_every_thread_and_later_threads_inherit_it() -> None:
    before = current()
    mine = [usable()[0]]
    seen: list[Any] = []
    started = threading.Event()
    go_on = threading.Event()

    def early() -> None:  # a thread that exists before confine
        started.set()
        go_on.wait(30)
        seen.append(sorted(os.sched_getaffinity(0)))

    t = threading.Thread(target=early)
    t.start()
    assert started.wait(30)
    try:
        assert confine(mine)
        assert current() == mine
        go_on.set()
        t.join(30)
        late = threading.Thread(target=lambda: seen.append(sorted(os.sched_getaffinity(0))))
        late.start()
        late.join(30)
        assert seen == [mine, mine]
        assert usable() == before  # what the machine gave, not the share
    finally:
        go_on.set()
        confine(before)
    assert current() == before


def test_hunt_bench_campaign_is_a_command_and_hunt_bench_campaign_its_alias(capsys: Any) -> None:
    assert entry.main(["--help"]) == 0
    assert "hunt-bench-campaign" in capsys.readouterr().out
    with pytest.raises(SystemExit) as stop:
        entry.main(["hunt-bench-campaign", "--runs", "0"])
    assert stop.value.code == 2
    assert "hunt-bench-campaign: error: --runs must be at least 1" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(["hunt", "--bench-campaign", "--runs", "0"])  # the same parser answers
    assert "hunt-bench-campaign: error: --runs must be at least 1" in capsys.readouterr().err
    args = campaign_bench.parse_args(["--seeds", "3", "--no-pin", "--no-stdlib-lane"])
    assert (args.seeds, args.no_pin, args.runs) == (3, True, 1)
