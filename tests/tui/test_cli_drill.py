"""`tabletop drill`: arguments, output folder, resume, and bad input (the console itself is
replaced by a stub that acts like someone who acknowledges the page and quits)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from tabletop.cli import main
from tabletop.drill.timeline_reader import read_timeline
from tabletop.tui.app import TabletopApp

from .conftest import BUNDLED

RAN: list[TabletopApp] = []


@pytest.fixture(autouse=True)
def stub_console(monkeypatch: pytest.MonkeyPatch) -> None:
    def run(app: TabletopApp) -> None:
        RAN.append(app)
        app.session.advance_to(17 * 60)
        app.session.execute(app.acting_as, "ack")

    RAN.clear()
    monkeypatch.setattr(TabletopApp, "run", run)


def drill(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["drill", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def test_a_new_drill_goes_to_its_console_folder_and_can_be_resumed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, _ = drill(str(BUNDLED), "--seed", "3", "--as", "bob", "--speed", "10")
    timeline = Path("out/serving-gpu-node-failure-console-seed3/timeline.jsonl")
    assert code == 0 and f"continue it with: tabletop drill --resume {timeline}" in out
    [app] = RAN
    assert app.acting_as == "bob" and app.session.speed == 10 and app.live_clock
    recorded = read_timeline(timeline)
    assert recorded.header.seed == 3 and recorded.header.responder == "console"
    assert [(e.actor, e.data["line"], e.data["ok"]) for e in recorded.events if e.kind == "command"] == [("bob", "ack", True)]

    code, _, err = drill(str(BUNDLED), "--seed", "3")  # would overwrite an unfinished drill
    assert code == 1 and "has not ended" in err and "--resume" in err

    code, out, err = drill("--resume", str(timeline), "--scenario", str(BUNDLED))
    assert code == 0, err
    resumed = RAN[-1]
    assert resumed.session.out_dir == timeline.parent and resumed.acting_as == "alice"
    commands = [(e.actor, e.data["line"]) for e in read_timeline(timeline).events if e.kind == "command"]
    assert commands == [("bob", "ack"), ("alice", "ack")]


def test_bad_input_gets_a_located_answer_and_exit_1(tmp_path: Path) -> None:
    cases = [
        ([str(tmp_path / "nope.yaml")], "no such scenario file"),
        ([str(BUNDLED), "--as", "zed", "--out", str(tmp_path / "a")], "'zed' is not a participant"),
        ([str(BUNDLED), "--speed", "600", "--out", str(tmp_path / "a")], "--speed"),
        (["--scenario", str(BUNDLED)], "--scenario goes with --resume"),
        (["--resume", str(tmp_path / "none.jsonl")], "no such timeline"),
    ]
    for args, message in cases:
        code, _, err = drill(*args)
        assert code == 1 and message in err and "Traceback" not in err, (args, err)
    assert not (tmp_path / "a").exists()  # nothing was started

    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"kind": "header"}\n')
    code, _, err = drill("--resume", str(broken))
    assert code == 1 and f"{broken}:1:1" in err

    ended = tmp_path / "ended"
    code, _, _ = drill(str(BUNDLED), "--out", str(ended))
    RAN[-1].session.end()
    code, _, err = drill("--resume", str(ended / "timeline.jsonl"), "--scenario", str(BUNDLED))
    assert code == 1 and "has ended" in err
    code, _, err = drill("--resume", str(ended / "timeline.jsonl"), "--seed", "2")
    assert code == 1 and "drop --seed" in err
    code, _, _ = drill(str(BUNDLED), "--out", str(ended))  # an ended drill's folder can be reused
    assert code == 0
