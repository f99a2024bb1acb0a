"""How many pages a process reads at once (issue 19): one per core it may use, and under `intake
worker` each process's share of the host's cores, so that P processes on C cores do not run P x C
page threads, each with its own tesseract engines."""

from __future__ import annotations

import argparse
import subprocess
import sys

from conftest import ROOT


def test_each_worker_process_gets_its_share_of_the_cores():
    from intake.workers.cli import page_threads_per_process

    # Given a host whose `intake worker` may use 2 or 8 cores
    # Then 2 processes on 2 cores read one page at a time each, on 8 cores four each
    assert page_threads_per_process(2, cores=2) == 1
    assert page_threads_per_process(2, cores=8) == 4
    # And one process takes every core; more processes than cores still read one page each
    assert page_threads_per_process(1, cores=2) == 2
    assert page_threads_per_process(4, cores=2) == 1


def test_the_page_pool_follows_intake_page_threads():
    # Given a process told to read three pages at once, whatever its cores
    code = "from intake.pipeline import _page_pool; print(_page_pool()._max_workers)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120,
                         env={"INTAKE_PAGE_THREADS": "3", "PATH": "/usr/bin:/bin"}, check=True)
    # Then its page pool has three threads
    assert out.stdout.split() == ["3"]


def test_intake_worker_gives_its_processes_their_share(monkeypatch, migrated, redis_broker_url):
    from intake.pipeline import usable_cores
    from intake.settings import reset_settings
    from intake.workers import cli, supervisor

    # Given `intake worker --processes 2` on this machine, with no INTAKE_PAGE_THREADS of its own
    monkeypatch.setenv("INTAKE_BROKER_URL", redis_broker_url)
    monkeypatch.delenv("INTAKE_PAGE_THREADS", raising=False)
    reset_settings()
    started = {}

    def fake_supervise(cmds, envs, *args, **kwargs):
        started["envs"] = envs
        return 0

    monkeypatch.setattr(supervisor, "supervise", fake_supervise)
    args = argparse.Namespace(queues="all", threads=1, prefetch=2, poll_ms=250, processes=2, watch=None,
                              metrics_host="127.0.0.1", metrics_port=0)
    # When it starts its processes
    assert cli.cmd_worker(args) == 0
    # Then each is told its share of the cores
    assert [env["INTAKE_PAGE_THREADS"] for env in started["envs"]] == [str(max(1, usable_cores() // 2))] * 2
