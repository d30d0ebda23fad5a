"""Progress as log lines: what a line says, that lines keep coming, and where they appear
(a command whose output is not a terminal, a job's worker)."""

import threading
import time

import pytest
from click.testing import CliRunner

from textlatent import jobs
from textlatent.cli import cli
from textlatent.errors import Cancelled
from textlatent.progress import ProgressLog

from .conftest import SAMPLE, upload_news


def test_a_line_has_the_count_share_rate_and_time_left():
    now, written = [100.0], []
    p = ProgressLog("job 3 (lda news)", write=written.append, clock=lambda: now[0])
    assert p.line() is None
    p(0, 400, "LDA pass 1 of 2")
    now[0] += 10
    p(100, 400, "LDA pass 1 of 2: 100 of 200 documents")
    line = p.line()
    assert "job 3 (lda news): LDA pass 1 of 2: 100 of 200 documents" in line
    assert "[100/400, 25%, 10/s, ETA 30 s]" in line
    # a new phase (another total) starts its own rate
    p(0, 50, "topic mixtures of documents")
    now[0] += 5
    p(25, 50, "topic mixtures of documents")
    assert "[25/50, 50%, 5.0/s, ETA 5 s]" in p.line()
    p(7, 0, "coherence")             # no total: no share, no estimate
    assert p.line().rstrip().endswith("[7]")
    # each phase's start was written at once (the thread never started)...
    assert [line.split(": ", 1)[1] for line in written] == [
        "LDA pass 1 of 2 [0/400, 0%]\n", "topic mixtures of documents [0/50, 0%]\n", "coherence [7]\n"]
    # ...but for one that comes less than a second after the line before it
    now[0] += 0.5
    p(0, 9, "views")
    assert len(written) == 3


def test_calls_are_handed_on_and_a_cancel_goes_through():
    seen = []

    def forward(done, total, message):
        seen.append(done)
        if done == 2:
            raise Cancelled("cancelled")
    p = ProgressLog("x", forward=forward, write=lambda line: None)
    p(1, 5, "a")
    with pytest.raises(Cancelled):
        p(2, 5, "b")
    assert seen == [1, 2]


def _await(condition, seconds=30):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


def test_lines_keep_coming_while_nothing_calls_and_one_ends_them():
    lines, lock = [], threading.Lock()

    def write(line):
        with lock:
            lines.append(line)
    with ProgressLog("train word2vec news", every=0.05, write=write) as p:
        p(1, 5, "Word2Vec epoch 2 of 5")          # then a long epoch: no calls
        _await(lambda: len(lines) >= 3)
        n = len(lines)
    assert len(lines) == n + 1 and all("Word2Vec epoch 2 of 5 [1/5, 20%" in line for line in lines)


def test_a_command_whose_output_is_not_a_terminal_writes_progress_lines(tmp_path):
    r = CliRunner().invoke(cli, ["--home", str(tmp_path / "h"), "ingest", str(SAMPLE / "inaugural"), "--corpus", "inaug"],
                           catch_exceptions=False)
    assert r.exit_code == 0, r.output
    progress = [line for line in r.stderr.splitlines() if " progress ingest inaug: " in line]
    assert progress and "tokens/s" in r.stderr and "59 documents added" in r.stdout


@pytest.mark.slow
def test_a_job_logs_its_progress_with_an_estimate(config, tmp_path, capfd):
    job = upload_news(config, tmp_path, per_group=30)
    assert job["params"]["documents"] == 120
    jobs.run_job(config, job["id"])
    err = capfd.readouterr().err
    lines = [line for line in err.splitlines() if f"progress job {job['id']} (ingest news): " in line]
    assert lines and any("/120" in line for line in lines), err[-2000:]
