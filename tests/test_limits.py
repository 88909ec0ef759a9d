import threading
import time

import pytest

from examcheck.limits import LimitExceeded, Limits, run_bounded


def _spin():
    while True:
        pass


def _hog():
    return len(bytearray(4 * 1024 ** 3))


def _answer():
    return 42


def test_result_comes_back():
    assert run_bounded(_answer) == 42


def test_time_limit_kills_a_runaway_check():
    start = time.monotonic()
    with pytest.raises(LimitExceeded) as info:
        run_bounded(_spin, limits=Limits(seconds=0.3))
    assert info.value.what == "time"
    assert time.monotonic() - start < 2


def test_memory_limit():
    with pytest.raises(LimitExceeded) as info:
        run_bounded(_hog, limits=Limits(seconds=10, memory_mb=256))
    assert info.value.what == "memory"


def test_limits_hold_in_a_worker_thread():
    outcome = {}

    def work():
        try:
            run_bounded(_spin, limits=Limits(seconds=0.3))
        except LimitExceeded as exc:
            outcome["what"] = exc.what

    thread = threading.Thread(target=work)
    thread.start()
    thread.join(5)
    assert outcome == {"what": "time"}


def _boom():
    raise ValueError("bad input")


def test_the_worker_is_replaced_after_a_kill():
    with pytest.raises(LimitExceeded):
        run_bounded(_spin, limits=Limits(seconds=0.2))
    assert run_bounded(_answer) == 42
    with pytest.raises(LimitExceeded):
        run_bounded(_hog, limits=Limits(seconds=10, memory_mb=256))
    assert run_bounded(_answer, limits=Limits(memory_mb=256)) == 42


def test_errors_cross_the_boundary_as_check_failed():
    from examcheck.limits import CheckFailed

    with pytest.raises(CheckFailed, match="ValueError: bad input"):
        run_bounded(_boom)
    assert run_bounded(_answer) == 42
