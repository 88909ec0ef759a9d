"""Handing in with `serve --collect`, tokens from a roster, and the limits that keep a lab server usable:
nothing a student saves is ever lost or overwritten by another client, `grade DIR` grades one file per
student, saves are rate-, count- and size-limited, slow bodies time out, and a short reading is never
stuck behind heavy checks."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import threading
import time

import httpx
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from examcheck.answers import load_sheet, sheet_from_text
from examcheck.cli import main
from examcheck.limits import Limits
from examcheck.web.app import Admission, Bodies, create_app
from examcheck.web.collecting import (
    CollectLimits,
    Collector,
    RateLimit,
    RosterError,
    issue_tokens,
    load_roster,
)
from examcheck.web.service import ExamService, check_student

EXAM = "seed000-quiz"


@pytest.fixture(scope="module")
def service():
    from examcheck.loader import load_sets
    from tests.conftest import PROBLEMS

    problem_set = next(s for s in load_sets([PROBLEMS]) if s.exam == EXAM)
    return ExamService(problem_set, "feedback", Limits(seconds=2.0))


def _roster(tmp_path, text: str):
    path = tmp_path / "roster.csv"
    path.write_text(text, encoding="utf-8")
    return path


def _save(c, student, answers, **extra):
    return c.post("/api/save", json={"student": student, "answers": answers, **extra})


def _unlimited() -> RateLimit:
    return RateLimit(burst=10_000, every=0.001)


# ----------------------------------------------------------------------------- never overwrite


_STUDENTS = st.sampled_from(["alice", "bob", "c.d-1", "history", "E_9"])
_TEXTS = st.sampled_from(["7600", "7500", "", "7,600", "x'\\frac{1}{2}#:", "a\nb"])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(_STUDENTS, _TEXTS), min_size=1, max_size=12))
def test_every_save_is_kept_and_id_yaml_is_the_latest(service, tmp_path_factory, saves):
    folder = tmp_path_factory.mktemp("collect")
    c = TestClient(create_app(service, workers=1, collector=Collector(folder), save_rate=_unlimited()))
    latest: dict[str, dict] = {}
    history: dict[str, list] = {}
    for student, text in saves:
        answers = {"q3": {"a": text}} if text else {}
        body = _save(c, student, answers).json()
        history.setdefault(student, []).append(answers)
        latest[student] = answers
        assert body["collected"] == f"{student}.yaml" and body["version"] == len(history[student])
    for student, answers in latest.items():
        assert {k: v.value for k, v in load_sheet(folder / f"{student}.yaml").problem_values.items()} == answers
        kept = sorted((folder / "history" / student).iterdir())
        assert [{k: v.value for k, v in load_sheet(p).problem_values.items()} for p in kept] == history[student]
        assert all(p.stat().st_mode & 0o077 == 0 for p in kept)
    assert sorted(p.stem for p in folder.glob("*.yaml")) == sorted(latest)


def test_grade_dir_grades_one_file_per_student_the_latest(service, tmp_path):
    c = TestClient(create_app(service, workers=1, collect_dir=tmp_path, save_rate=_unlimited()))
    for student, text in [("alice", "7500"), ("bob", "1"), ("alice", "7600"), ("history", "2"), ("bob", "7600")]:
        _save(c, student, {"q3": {"a": text}})
    result = CliRunner().invoke(main, ["grade", str(tmp_path), "--format", "json"])
    reports = json.loads(result.stdout)
    assert sorted(r["student"] for r in reports) == ["alice", "bob", "history"]  # no history version graded
    status = {r["student"]: next(p for q in r["problems"] for p in q["parts"] if (q["id"], p["id"]) == ("q3", "a"))
              for r in reports}
    assert status["alice"]["status"] == "correct" and status["bob"]["status"] == "correct"


def test_a_saved_version_records_when_and_from_where(service, tmp_path):
    c = TestClient(create_app(service, workers=1, collect_dir=tmp_path))
    _save(c, "ann", {"q3": {"a": "1"}})
    (kept,) = (tmp_path / "history" / "ann").iterdir()
    first = kept.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("# handed in 20") and first.endswith("from testclient")
    assert kept.name.endswith(".yaml.saved") and len(kept.name.split("-")) == 3
    again = Collector(tmp_path)  # a restarted server goes on numbering, never reuses a name
    assert again.store("ann", "answers: {}\n", "10.0.0.9")["version"] == 2


# ----------------------------------------------------------------------------- tokens


def test_with_a_roster_only_the_right_token_saves(service, tmp_path):
    path = _roster(tmp_path, "student,token\nalice,abcd2345ef\nbob,zzzz9999yy\n")
    roster = load_roster(path, check_student)
    folder = tmp_path / "in"
    c = TestClient(create_app(service, workers=1, collect_dir=folder, roster=roster, save_rate=_unlimited(),
                              guess_rate=_unlimited()))
    assert 'id="token"' in c.get("/").text and 'type="password"' in c.get("/").text
    ok = _save(c, "alice", {"q3": {"a": "7600"}}, token="ABCD2345EF ")  # case and spaces as typed
    assert ok.status_code == 200 and ok.json()["collected"] == "alice.yaml"
    for student, token in [("alice", "zzzz9999yy"), ("alice", None), ("alice", ""), ("bob", "abcd2345ef"),
                           ("mallory", "abcd2345ef"), ("alice", 12345678), ("alice", "abcd2345e")]:
        refused = _save(c, student, {}, token=token)
        assert refused.status_code == 403 and "token" in refused.json()["error"], (student, token)
    assert sorted(p.name for p in folder.glob("*.yaml")) == ["alice.yaml"]
    assert load_sheet(folder / "alice.yaml").problem_values["q3"].value == {"a": "7600"}


def test_wrong_tokens_are_throttled_per_address_without_blocking_right_tokens(service, tmp_path):
    roster = load_roster(_roster(tmp_path, "student,token\nalice,abcd2345ef\nbob,zzzz9999yy\n"), check_student)
    c = TestClient(create_app(service, workers=1, roster=roster, save_rate=RateLimit(burst=3, every=60),
                              guess_rate=RateLimit(burst=3, every=60)))
    codes = [_save(c, "alice", {}, token=f"guess{i:05d}").status_code for i in range(5)]
    assert codes == [403, 403, 403, 429, 429]  # past the burst the token is not even compared
    late = _save(c, "alice", {}, token=f"guess{99:05d}")
    assert late.status_code == 429 and int(late.headers["retry-after"]) >= 1
    # the same address (a lab behind NAT or a proxy): right tokens still save, each student on their own limit
    assert [_save(c, "bob", {}, token="zzzz9999yy").status_code for _ in range(4)] == [200, 200, 200, 429]
    assert [_save(c, "alice", {}, token="abcd2345ef").status_code for _ in range(4)] == [200, 200, 200, 429]


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(["s01", "s02", "s03", "s04", "s05", "s06"]), min_size=1, max_size=30))
def test_with_a_roster_the_save_limit_is_per_student_not_per_address(service, tmp_path_factory, order):
    tmp_path = tmp_path_factory.mktemp("r")
    lines = "".join(f"s{i:02d},tok{i:02d}abcdef\n" for i in range(1, 7))
    roster = load_roster(_roster(tmp_path, "student,token\n" + lines), check_student)
    c = TestClient(create_app(service, workers=1, roster=roster, save_rate=RateLimit(burst=2, every=3600)))
    seen: dict[str, int] = {}
    for who in order:
        seen[who] = seen.get(who, 0) + 1
        code = _save(c, who, {}, token=f"tok{who[1:]}abcdef").status_code
        assert code == (200 if seen[who] <= 2 else 429), (who, seen[who])


@settings(max_examples=40, deadline=None)
@given(st.dictionaries(st.sampled_from(["q1", "q2", "q3"]),
                       st.dictionaries(st.sampled_from(["a", "i", "ii"]), st.text(max_size=40), min_size=1, max_size=3),
                       max_size=3))
def test_the_file_the_browser_builds_when_the_server_sends_none_is_read_by_grade(answers):
    """app.js localFile(): a comment line, then ASCII JSON (which is YAML) of {student, exam, answers}."""
    body = json.dumps({"student": "ann", "exam": EXAM, "answers": answers}, indent=2, ensure_ascii=False)
    body = re.sub(r"[^\x00-\x7e]", lambda m: f"\\U{ord(m[0]):08x}" if ord(m[0]) > 0xFFFF else f"\\u{ord(m[0]):04x}", body)
    text = "# Saved by examcheck serve (in the browser)\n" + body + "\n"
    sheet = sheet_from_text(text, "ann.yaml")
    assert sheet.student == "ann" and sheet.exam == EXAM
    assert {p: v.value for p, v in sheet.problem_values.items()} == answers


def test_a_refused_save_still_carries_the_file_to_download(service, tmp_path):
    answers = {"q3": {"a": "7600"}, "q4": {"b": "line one\nline two"}}

    def assert_downloadable(reply, status):
        assert reply.status_code == status, reply.text
        data = reply.json()
        assert data["error"] and data["filename"] == "ann.yaml" and data["collected"] is None
        sheet = sheet_from_text(data["yaml"], "ann.yaml")
        assert {p: v.value for p, v in sheet.problem_values.items()} == answers

    versions = Collector(tmp_path / "a", CollectLimits(versions_per_student=1))
    c = TestClient(create_app(service, workers=1, collector=versions, save_rate=_unlimited()))
    assert _save(c, "ann", answers).status_code == 200
    assert_downloadable(_save(c, "ann", answers), 429)  # --max-versions
    rate = TestClient(create_app(service, workers=1, collect_dir=tmp_path / "b", save_rate=RateLimit(burst=1, every=60)))
    assert _save(rate, "ann", answers).status_code == 200
    assert_downloadable(_save(rate, "ann", answers), 429)  # the rate limit
    full = TestClient(create_app(service, workers=1, collector=Collector(tmp_path / "c", CollectLimits(total_bytes=100)),
                                 save_rate=_unlimited()))
    assert_downloadable(_save(full, "ann", answers), 507)  # a full folder
    roster = load_roster(_roster(tmp_path, "student,token\nann,abcd2345ef\n"), check_student)
    tokens = TestClient(create_app(service, workers=1, roster=roster, save_rate=_unlimited()))
    assert_downloadable(_save(tokens, "ann", answers, token="wrongtoken"), 403)


@pytest.mark.parametrize("text,where", [
    ("name,token\nalice,x\n", ":1:"), ("student,token\n../x,abcdefgh\n", ":2:"),
    ("student,token\nalice,abcdefgh\nalice,abcdefgi\n", ":3:"), ("student,token\nalice,ab\n", ":2:"),
    ("student,token\n", "no student"), ("student,token\nbob,ab cd ef\n", ":2:"),
])
def test_a_bad_roster_names_file_and_line(tmp_path, text, where):
    with pytest.raises(RosterError, match=where):
        load_roster(_roster(tmp_path, text), check_student)


def test_issue_tokens_fills_in_missing_tokens_only(tmp_path):
    path = _roster(tmp_path, "student,token\nalice,keepthis1\nbob,\ncy\n")
    roster = load_roster(path, check_student)
    assert issue_tokens(roster) == 2
    again = load_roster(path, check_student)
    assert again.tokens["alice"] == "keepthis1"
    assert len({again.tokens["bob"], again.tokens["cy"]}) == 2 and all(len(again.tokens[s]) == 10 for s in ("bob", "cy"))
    assert path.stat().st_mode & 0o077 == 0
    assert issue_tokens(again) == 0 and load_roster(path, check_student).tokens == again.tokens


def test_serve_issue_tokens_command_and_a_roster_without_tokens(tmp_path):
    path = _roster(tmp_path, "student\nalice\nbob\n")
    runner = CliRunner()
    refused = runner.invoke(main, ["serve", EXAM, "--roster", str(path)])
    assert refused.exit_code == 2 and "--issue-tokens" in refused.output
    issued = runner.invoke(main, ["serve", EXAM, "--roster", str(path), "--issue-tokens"])
    assert issued.exit_code == 0 and "issued 2 new token(s)" in issued.output
    assert all(load_roster(path, check_student).tokens.values())
    assert runner.invoke(main, ["serve", EXAM, "--issue-tokens"]).exit_code == 2
    bad = _roster(tmp_path, "student,token\n../x,abcdefgh\n")
    result = runner.invoke(main, ["serve", EXAM, "--roster", str(bad)])
    assert result.exit_code == 2 and "roster.csv:2:" in result.output


# ----------------------------------------------------------------------------- limits on saving


def test_saves_are_rate_limited_per_client_with_a_clear_429(service, tmp_path):
    now = [0.0]
    rate = RateLimit(burst=3, every=10, clock=lambda: now[0])
    c = TestClient(create_app(service, workers=1, collect_dir=tmp_path, save_rate=rate))
    codes = [_save(c, f"s{i}", {}).status_code for i in range(5)]
    assert codes == [200, 200, 200, 429, 429]
    refused = _save(c, "s9", {})
    assert int(refused.headers["retry-after"]) >= 1 and "too many saves" in refused.json()["error"]
    assert refused.headers["x-frame-options"] == "DENY" and "frame-ancestors" in refused.headers["content-security-policy"]
    now[0] += 10.5
    assert _save(c, "s9", {}).status_code == 200
    assert rate.take("another-computer") == 0  # per client


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.sampled_from("abc"), st.floats(0, 30)), max_size=40),
       st.integers(1, 5), st.floats(0.5, 20))
def test_a_client_never_saves_more_than_its_bucket_allows(events, burst, every):
    now = [0.0]
    rate = RateLimit(burst=burst, every=every, clock=lambda: now[0])
    allowed: dict[str, int] = {}
    for client, gap in events:
        now[0] += gap
        if rate.take(client) == 0:
            allowed[client] = allowed.get(client, 0) + 1
    for count in allowed.values():
        assert count <= burst + now[0] / every + 1e-9


def test_version_cap_and_folder_size_cap(service, tmp_path):
    collector = Collector(tmp_path / "a", CollectLimits(versions_per_student=2))
    c = TestClient(create_app(service, workers=1, collector=collector, save_rate=_unlimited()))
    assert [_save(c, "ann", {}).status_code for _ in range(3)] == [200, 200, 429]
    assert "2 versions" in _save(c, "ann", {}).json()["error"]
    assert _save(c, "bo", {}).status_code == 200  # the cap is per student

    small = Collector(tmp_path / "b", CollectLimits(total_bytes=4000))
    c = TestClient(create_app(service, workers=1, collector=small, save_rate=_unlimited()))
    codes = [_save(c, f"s{i}", {"q3": {"a": "7" * 300}}).status_code for i in range(10)]
    assert codes[0] == 200 and codes[-1] == 507
    assert "full" in _save(c, "late", {}).json()["error"]
    used = sum(p.stat().st_size for p in (tmp_path / "b").rglob("*") if p.is_file())
    assert used <= 4000

    few = Collector(tmp_path / "c", CollectLimits(students=2))
    c = TestClient(create_app(service, workers=1, collector=few, save_rate=_unlimited()))
    assert [_save(c, s, {}).status_code for s in ("a1", "a2", "a3", "a1")] == [200, 200, 507, 200]


def test_page_shows_refusals_from_the_server():
    from tests.conftest import ROOT

    script = (ROOT / "examcheck" / "web" / "static" / "app.js").read_text(encoding="utf-8")
    assert "data.error ||" in script and "Not handed in: " in script  # 403/429/507 messages reach the student
    assert "localFile(" in script and "download(given.filename, given.yaml)" in script  # and the file is downloaded


# ----------------------------------------------------------------------------- slow bodies, disconnects


async def _trickle(app, path="/api/read", pieces=3, pause=0.5, client=("10.0.0.1", 5)):
    """An ASGI request whose body arrives in pieces with pauses in between (what a slowloris sends)."""
    sent = []
    chunks = [b'{"problem": "q1", "part": "i", ', b'"text": "z", ', b'"seq": 1}'][:pieces]

    async def receive():
        if chunks:
            await asyncio.sleep(pause)
            chunk = chunks.pop(0)
            return {"type": "http.request", "body": chunk, "more_body": bool(chunks) or pieces < 3}
        await asyncio.sleep(3600)

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": path, "raw_path": path.encode(), "query_string": b"",
             "headers": [(b"content-type", b"application/json")], "client": client, "server": ("t", 80),
             "scheme": "http", "http_version": "1.1", "root_path": ""}
    await app(scope, receive, send)
    return next(m["status"] for m in sent if m["type"] == "http.response.start")


def test_many_quick_bodies_from_one_address_are_never_refused(service):
    """A lab behind NAT: one address, many students; only slow bodies count against the caps."""
    async def scenario():
        app = create_app(service, workers=2, bodies=Bodies(total=2, per_client=1, grace=0.5))
        return await asyncio.gather(*[_trickle(app, pause=0.01) for _ in range(12)])

    assert asyncio.run(scenario()) == [200] * 12


def test_a_slow_body_is_cut_off_with_408(service):
    app = create_app(service, workers=1, bodies=Bodies(seconds=0.3))
    started = time.monotonic()
    assert asyncio.run(_trickle(app, pause=0.2)) == 408
    assert time.monotonic() - started < 2
    fast = create_app(service, workers=1, bodies=Bodies(seconds=5))
    assert asyncio.run(_trickle(fast, pause=0.01)) == 200


async def _timed(coro):
    started = time.monotonic()
    status = await coro
    return status, time.monotonic() - started


def test_slow_bodies_are_capped_without_refusing_ordinary_requests(service):
    """Slow bodies past the per-address or total cap are cut (408) as they turn slow; a complete request
    from the same address is still answered (a class behind NAT is not locked out by one student)."""
    async def scenario(bodies, clients, head):
        app = create_app(service, workers=1, bodies=bodies)
        first = [asyncio.create_task(_timed(_trickle(app, pieces=2, pause=0.05, client=(c, 1)))) for c in clients[:head]]
        await asyncio.sleep(0.3)  # these are slow by now
        later = [asyncio.create_task(_timed(_trickle(app, pieces=2, pause=0.05, client=(c, 1)))) for c in clients[head:]]
        await asyncio.sleep(0.3)  # the later ones have turned slow (and were cut) by now
        ordinary = [await _trickle(app, pause=0.001, client=(c, 2)) for c in sorted(set(clients))]
        return await asyncio.gather(*first, *later), ordinary

    slow = dict(seconds=2.0, grace=0.1)
    results, ordinary = asyncio.run(scenario(Bodies(total=50, per_client=2, **slow), ["10.0.0.1"] * 4 + ["10.0.0.2"], 2))
    assert ordinary == [200, 200]
    assert all(status == 408 for status, _ in results)
    assert [seconds < 1.0 for _, seconds in results] == [False, False, True, True, False]  # only the extra ones cut early
    results, ordinary = asyncio.run(scenario(Bodies(total=3, per_client=10, **slow), [f"10.0.0.{i}" for i in range(5)], 3))
    assert ordinary == [200] * 5
    assert [seconds < 1.0 for _, seconds in results] == [False, False, False, True, True]


def test_a_client_that_leaves_is_one_quiet_log_line(service, monkeypatch, tmp_path, caplog):
    monkeypatch.setenv("EXAMCHECK_BUG_DIR", str(tmp_path))
    app = create_app(service, workers=1)
    sent = []

    async def receive():
        return {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/api/check", "raw_path": b"/api/check", "query_string": b"",
             "headers": [(b"content-type", b"application/json")], "client": ("10.0.0.7", 1), "server": ("t", 80),
             "scheme": "http", "http_version": "1.1", "root_path": ""}
    with caplog.at_level(logging.DEBUG):
        asyncio.run(app(scope, receive, send))
    assert list(tmp_path.iterdir()) == []  # not recorded as a bug
    lines = [r for r in caplog.records if "10.0.0.7" in r.getMessage()]
    assert len(lines) == 1 and lines[0].exc_info is None and "\n" not in lines[0].getMessage()
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


# ----------------------------------------------------------------------------- admission


def test_a_short_reading_is_not_stuck_behind_heavy_work():
    """All workers busy with slow checks and long readings queued: a one-symbol reading still runs at once."""
    admission = Admission(workers=2, waiting=100, express=1)
    order = []

    def work(name, seconds):
        time.sleep(seconds)
        order.append(name)
        return name

    async def scenario():
        heavy = [asyncio.create_task(admission.run("check", work, f"check{i}", 0.3)) for i in range(4)]
        heavy += [asyncio.create_task(admission.run("read", work, f"long{i}", 0.3)) for i in range(4)]
        await asyncio.sleep(0.05)
        started = time.monotonic()
        await admission.run("light", work, "z", 0)
        light_wait = time.monotonic() - started
        await asyncio.gather(*heavy)
        return light_wait

    light_wait = asyncio.run(scenario())
    admission.close()
    assert light_wait < 0.25  # the express worker took it; a check takes 0.3 s
    assert order.index("z") < 2
    # waiting long readings run before waiting checks
    assert max(order.index(f"long{i}") for i in range(4)) < max(order.index(f"check{i}") for i in range(2, 4))


def test_readings_and_checks_are_admitted_separately():
    admission = Admission(workers=1, waiting=2, express=0)

    async def scenario():
        checks = [asyncio.create_task(admission.run("check", time.sleep, 0.2)) for _ in range(2)]
        await asyncio.sleep(0.02)
        from examcheck.web.app import Busy

        with pytest.raises(Busy):
            await admission.run("check", time.sleep, 0)
        reading = await admission.run("read", lambda: "read")  # the checks' full queue does not refuse it
        await asyncio.gather(*checks)
        return reading

    assert asyncio.run(scenario()) == "read"
    admission.close()


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["light", "read", "check"]), st.booleans()), min_size=1, max_size=12),
       st.integers(1, 3), st.integers(0, 2))
def test_admission_never_exceeds_its_workers_and_frees_every_slot(jobs, workers, express):
    admission = Admission(workers=workers, waiting=100, express=express)
    running = [0]
    peak = {"light": 0, "other": 0}
    lock = threading.Lock()

    def job(lane):
        with lock:
            running[0] += 1
            key = "light" if lane == "light" else "other"
            peak[key] = max(peak[key], running[0])
        time.sleep(0.005)
        with lock:
            running[0] -= 1

    async def scenario():
        tasks = [asyncio.create_task(admission.run(lane, job, lane)) for lane, _ in jobs]
        await asyncio.sleep(0)
        for task, (_lane, cancel) in zip(tasks, jobs, strict=True):
            if cancel:
                task.cancel()  # a client that left while waiting
        await asyncio.gather(*tasks, return_exceptions=True)

    asyncio.run(scenario())
    admission.close()
    assert admission.busy == 0 and admission.waiting == {"read": 0, "check": 0}
    assert peak["other"] <= workers + express and peak["light"] <= workers + express


def test_one_symbol_reading_stays_fast_under_a_burst_of_checks(service):
    """End to end over HTTP: 12 whole-sheet checks in flight, then a reading of `z`."""
    app = create_app(service, workers=1)
    sheet = {"q1": {"i": "sigma(z)*(1-sigma(z))*x_i"}, "q3": {"a": "7600", "b": "180200"}}

    async def scenario():
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
            checks = [asyncio.create_task(c.post("/api/check", json={"answers": sheet})) for _ in range(12)]
            await asyncio.sleep(0.05)
            r = await c.post("/api/read", json={"problem": "q1", "part": "i", "text": "z", "seq": 3})
            pending = sum(not task.done() for task in checks)  # checks still queued when the reading came back
            done = await asyncio.gather(*checks)
            return r, pending, done

    r, pending, done = asyncio.run(scenario())
    assert r.status_code == 200 and r.json()["ok"] and all(d.status_code == 200 for d in done)
    assert pending > 0  # the reading did not wait for the queue of checks (an order, not a clock)


def test_which_readings_are_light():
    from examcheck.web.app import is_light_reading

    assert all(is_light_reading(t) for t in ["z", "x_i sigma(z)(1 - sigma(z))", "x^2", "3!", "[1, 2]"])
    assert not any(is_light_reading(t) for t in ["9^9^9", "2**3**4", "x^2 + y^2", "10!!", "z" * 65, None, 5])


def test_issuing_tokens_keeps_every_other_column(tmp_path):
    """A roster exported from a course system (student_id, name, email): tokens are added, nothing lost."""
    path = _roster(tmp_path, 'student_id,name,email\ns01,"Byron, Ada",ada@example.org\ns02,Alan Turing,\n')
    assert issue_tokens(load_roster(path, check_student)) == 2
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "student_id,name,email,token"
    assert lines[1].startswith('s01,"Byron, Ada",ada@example.org,') and lines[2].startswith("s02,Alan Turing,,")
    assert set(load_roster(path, check_student).tokens) == {"s01", "s02"}


@pytest.mark.parametrize("a,b,same", [
    ("2001:db8::1", "2001:db8::ffff:1234", True), ("2001:db8:0:1::1", "2001:db8:0:2::1", False),
    ("10.0.0.1", "10.0.0.2", False), ("::ffff:10.0.0.1", "10.0.0.1", True), ("testclient", "testclient", True)])
def test_per_address_limits_count_an_ipv6_64_as_one_address(a, b, same):
    from examcheck.web.app import limit_key

    assert (limit_key(a) == limit_key(b)) is same
