"""What a test session's RabbitMQ sweep may delete: never what another live suite is using."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.brokers import _sweepable, event_prefix


def _ended_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_live_suites_names_are_left_alone_and_an_ended_ones_go() -> None:
    ours, other_live, ended = str(os.getpid()), os.getppid(), _ended_pid()
    assert _sweepable(f"mvtest.p{ours}.ab12cd34.users.create-profiles", own_run=ours)
    assert not _sweepable(f"mvtest.p{other_live}.ab12cd34.users.create-profiles", own_run=ours)
    assert _sweepable(f"mvtest.p{ended}.ab12cd34.users.create-profiles", own_run=ours)
    # Names with no session (benches, older runs) go; names that are not throwaway never do.
    assert _sweepable("mvtest.ab12cd34.users.create-profiles", own_run=ours)
    assert _sweepable("mvbench.x.queue", own_run=None)
    assert not _sweepable("movieverse.users.create-profiles", own_run=ours)


def test_a_tests_prefix_names_its_session() -> None:
    """The controlling process names the session; its workers inherit the name."""
    run = os.environ["MOVIEVERSE_TEST_RUN_PID"]
    if os.environ.get("PYTEST_XDIST_WORKER"):
        assert run != str(os.getpid())
    prefix = event_prefix()
    assert prefix.startswith(f"mvtest.p{run}.")
    assert _sweepable(prefix + "users.create-profiles", own_run=run)
    assert prefix != event_prefix()
