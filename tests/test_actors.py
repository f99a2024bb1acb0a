"""The actors in process: a message that fails for good is recorded with its exception type (what
Dramatiq actually passes to `record_failure`), and the actors are declared only on the broker an
entry point chose."""

from __future__ import annotations

import io

from conftest import FIXTURES, base_declared

PIECE = (FIXTURES / "sample" / "piece1.png").read_bytes()


def _forget_in_process_messages() -> None:
    """The in-process broker lives as long as the test process: retries of the broken work still
    waiting, and its dead letter, must not reach the next test (a join there would raise them)."""
    from intake.workers.broker import configure

    broker = configure()
    broker.flush_all()
    for letters in getattr(broker, "dead_letters_by_queue", {}).values():
        letters.clear()


def test_a_failed_read_records_its_exception_type(migrated, monkeypatch, request):
    """A read that fails for good (not a transient error) is marked failed with the exception type
    Dramatiq reports, and its dossier is still checked."""
    import dramatiq

    from intake import service, units
    from intake.db import session_scope
    from intake.dossier import parse_declared
    from intake.workers.outbox import send_pending
    from models import Upload

    class BrokenScan(RuntimeError):
        pass

    def broken(upload_id, force=False, trigger="upload"):
        raise BrokenScan("the reader crashed")

    # Given the in-process worker, and a reader that fails on every file
    service.start_workers()
    monkeypatch.setattr(units, "read_and_record_upload", broken)
    request.addfinalizer(_forget_in_process_messages)
    dossier_id = units.create_dossier(parse_declared(base_declared()))
    upload_id = units.add_upload(dossier_id, "scan.png", io.BytesIO(PIECE))
    # When the upload is sent to be read
    send_pending(dossier_id)
    run = service.wait_for_check(dossier_id, timeout=60)
    # Then the upload is failed with the exception's type, and the dossier got its check
    with session_scope() as session:
        upload = session.get(Upload, upload_id)
        assert (upload.state, upload.error) == ("failed", "BrokenScan")
    assert run is not None and run.state == "done"
    assert "check_failed" in {f["code"] for f in run.result["findings"]}
    assert isinstance(dramatiq.get_broker(), dramatiq.Broker)


def test_a_failed_check_records_its_exception_type_and_fails_the_dossier(migrated, monkeypatch, request):
    """A check that fails for good leaves a failed check run naming the exception type, and the
    dossier failed (never pending forever)."""
    from intake import service, units
    from intake.db import session_scope
    from intake.dossier import parse_declared
    from intake.workers.outbox import send_pending
    from models import Dossier

    class BrokenRule(ValueError):
        pass

    def broken(dossier_id, trigger="upload", today=None):
        raise BrokenRule("a rule crashed")

    # Given the in-process worker, and a check that fails on every dossier
    service.start_workers()
    monkeypatch.setattr(units, "run_check", broken)
    request.addfinalizer(_forget_in_process_messages)
    dossier_id = units.create_dossier(parse_declared(base_declared()))
    # When its check is sent
    send_pending(dossier_id)
    run = service.wait_for_check(dossier_id, timeout=60)
    # Then the check run is failed with the exception's type, and so is the dossier
    assert run is not None and (run.state, run.error) == ("failed", "BrokenRule")
    with session_scope() as session:
        assert session.get(Dossier, dossier_id).status == "failed"


def test_the_actors_are_declared_once_on_the_broker_given_with_their_queues():
    # Given a broker of its own (not the one the entry points install)
    from dramatiq.brokers.stub import StubBroker

    from intake.workers.actors import declare
    from intake.workers.broker import QUEUE_CHECKS, QUEUE_OCR

    broker = StubBroker()
    # When the actors are declared on it, twice
    first = declare(broker)
    second = declare(broker)
    # Then each is there once, on its queue, and a read or a check that fails for good goes to record_failure
    assert first == second == broker.actors
    assert {name: actor.queue_name for name, actor in broker.actors.items()} == {
        "read_upload": QUEUE_OCR, "check_dossier": QUEUE_CHECKS, "record_failure": QUEUE_CHECKS}
    for name in ("read_upload", "check_dossier"):
        assert broker.actors[name].options["on_retry_exhausted"] == "record_failure"
