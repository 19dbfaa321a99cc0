from tabletop.scoring.milestones import LABELS, find_milestones

from tests.scoring.drills import Drill, strong

ROOT = "gpu-falls-off-bus"


def _injected(d: Drill, t: float, fault: str = ROOT) -> None:
    d.at(t, "fault.injected", fault=fault, kind="gpu_xid", target="node/gpu-serve-2", description="", params={})


def test_milestones_of_a_strong_drill_point_at_their_events() -> None:
    d = strong()
    m = find_milestones(d.events, ROOT)
    by_seq = {e.seq: e for e in d.events}
    expected = {
        "impact_start": "slo.breach_start", "detected": "alert.firing", "paged": "page.triggered",
        "acknowledged": "page.acknowledged", "mitigated": "slo.breach_end", "resolved": "incident.resolved",
    }
    assert [name for name, _ in m.reached()] == list(LABELS)
    for name, kind in expected.items():
        mark = getattr(m, name)
        assert by_seq[mark.seq].kind == kind
        assert by_seq[mark.seq].t == mark.t
    assert m.mitigated.seq == d.key["breach_end"].seq
    assert (m.impact_start.t, m.detected.t, m.paged.t, m.acknowledged.t, m.mitigated.t) == (840, 700, 900, 960, 1740)


def test_mitigated_is_the_last_breach_end_and_none_while_a_breach_is_open() -> None:
    d = Drill()
    _injected(d, 10)
    d.at(20, "slo.breach_start", slo="a")
    d.at(30, "slo.breach_start", slo="b")
    d.at(40, "slo.breach_end", slo="a", bad=1, total=10)
    assert find_milestones(d.events, ROOT).mitigated is None
    last = d.at(50, "slo.breach_end", slo="b", bad=1, total=10)
    assert find_milestones(d.events, ROOT).mitigated.seq == last.seq
    d.at(60, "slo.breach_start", slo="a")
    assert find_milestones(d.events, ROOT).mitigated is None


def test_without_breaches_impact_runs_from_injection_to_the_root_faults_mitigation() -> None:
    d = Drill()
    first = d.at(5, "fault.injected", fault="other", kind="traffic_surge", target="deployment/x", description="", params={})
    _injected(d, 10)
    d.at(20, "fault.mitigated", fault="other", command=None)
    fixed = d.at(30, "fault.mitigated", fault=ROOT, command=None)
    m = find_milestones(d.events, ROOT)
    assert m.impact_start.seq == first.seq
    assert m.mitigated.seq == fixed.seq
    assert m.detected is m.paged is m.acknowledged is m.resolved is None


def test_an_empty_timeline_reaches_no_milestone() -> None:
    assert find_milestones([], ROOT).reached() == []
