from seqrnn.inference import deadline
from seqrnn.inference.deadline import deadline_after, passed


def test_a_deadline_passes_when_the_clock_reaches_it(monkeypatch):
    now = [100.0]
    monkeypatch.setattr(deadline, "clock", lambda: now[0])
    limit = deadline_after(2.5)
    assert limit == 102.5 and not passed(limit)
    now[0] = 102.4
    assert not passed(limit)
    now[0] = 102.5
    assert passed(limit)


def test_no_limit_never_passes(monkeypatch):
    monkeypatch.setattr(deadline, "clock", lambda: float("inf"))
    assert deadline_after(None) is None and not passed(None)


def test_the_clock_is_monotonic_time():
    import time

    assert deadline.clock is time.monotonic
