"""The tabletop control API: the drill's own verbs beside the Kubernetes API, under /tabletop/v1.

Chaos Toolkit runs experiments in a process of its own; its tabletop provider
(``tabletop.chaos.sim``) reaches the running drill here, over the twin's server (same address,
same bearer token, 127.0.0.1 unless told otherwise)::

    GET  /tabletop/v1/clock             {"scenario", "now" (drill seconds), "ended"}
    GET  /tabletop/v1/faults            {"items": [fault]}  the scenario's faults and those injected since
    GET  /tabletop/v1/faults/ID         fault: {"id", "kind", "target", "description", "status"}
    POST /tabletop/v1/faults            {"kind", "target", "parameters"?, "duration"?, "id"?, "description"?}
                                        → 201 fault (status "active", "injected_at")
    GET  /tabletop/v1/slos              {"items": [slo]}
    GET  /tabletop/v1/slos/ID           slo: {"id", "deployment", "objective" (ratio), "good_ratio" (last 5m),
                                        "in_breach", "budget_burned_percent", "good", "total"}
    GET  /tabletop/v1/alerts?state=S    {"items": [alert]} pending and firing alerts (S: pending|firing)
    GET  /tabletop/v1/query?query=Q     {"resultType", "result"} as Prometheus' instant query answers
    POST /tabletop/v1/query             {"query": Q} likewise
    POST /tabletop/v1/mitigations       {"action", "target", "parameters"?} → {"ok", "message", "commands"}

Everything runs in the drill's thread (``Twin.call``), so it sees and changes the drill between
two steps of its clock. Writes are recorded on the timeline in the caller's name: the
``Impersonate-User`` header, else the twin's actor; a fault may also be injected by the
``facilitator`` (the default when the twin has no actor). An injected fault is a
``fault.injected`` event with the caller as its actor; a mitigation is the responder command
``mitigate ACTION TARGET k=v`` (a target with shell wildcards runs it on every matching object;
for pods, only those crash-looping or on a node that is not Ready). Failures are Kubernetes
``Status`` objects: 422 for a fault or mitigation that cannot be (every problem in
``details.causes``, field by field), 409 when the drill has ended or refuses the command (the
refusal is recorded like any command), 404 for unknown faults and SLOs, 400 for a bad query.
"""

from __future__ import annotations

import fnmatch
import json
import math
import shlex
from typing import TYPE_CHECKING, Any

from tabletop.drill.command_line import FACILITATOR, CommandSyntaxError, parse_command
from tabletop.drill.commands import fault_command, fault_ids
from tabletop.faults.runtime import FaultRequestError, runtime_fault
from tabletop.sim.pod import PodState
from tabletop.twin import errors
from tabletop.twin.server import Request, Response

if TYPE_CHECKING:
    from tabletop.drill.engine import Drill
    from tabletop.signals.slo import SloState
    from tabletop.twin.twin import Twin

PREFIX = "/tabletop/v1"
_WILDCARD = frozenset("*?[")


def _json(obj: Any, status: int = 200) -> Response:
    return Response(status, json.dumps(obj).encode())


def _number(value: float) -> str:
    """A sample value as Prometheus writes it in JSON."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(float(value)).removesuffix(".0") if float(value).is_integer() else repr(float(value))


class ControlApi:
    def __init__(self, twin: "Twin") -> None:
        self.twin = twin

    @staticmethod
    def handles(path: str) -> bool:
        return path == "/tabletop" or path.startswith("/tabletop/")

    def handle(self, request: Request, path: str) -> Response:
        parts = path[len(PREFIX):].strip("/").split("/") if path == PREFIX or path.startswith(PREFIX + "/") else None
        if parts is None or len(parts) > 2:
            raise errors.no_such_path()
        resource, name = parts[0], (parts[1] if len(parts) > 1 else "")
        method = "GET" if request.method == "HEAD" else request.method
        routes = {
            ("clock", "GET", False): self._clock,
            ("faults", "GET", False): self._faults,
            ("faults", "GET", True): self._fault,
            ("faults", "POST", False): self._inject,
            ("slos", "GET", False): self._slos,
            ("slos", "GET", True): self._slo,
            ("alerts", "GET", False): self._alerts,
            ("query", "GET", False): self._query,
            ("query", "POST", False): self._query,
            ("mitigations", "POST", False): self._mitigate,
        }
        route = routes.get((resource, method, bool(name)))
        if route is None:
            if any(r == resource and named == bool(name) for r, _, named in routes):
                raise errors.method_not_allowed()
            raise errors.no_such_path()
        return route(request, name)

    # helpers -------------------------------------------------------------------------------------
    def _call(self, action: Any) -> Any:
        drill = self.twin.drill
        return self.twin.call(lambda: action(drill))

    def _caller(self, request: Request, *, may_facilitate: bool) -> str:
        identity = self.twin.identity(request.headers)
        if identity is not None:
            return identity
        actor = request.headers.get("impersonate-user") or self.twin.actor
        if actor is None and may_facilitate:
            return FACILITATOR
        participants = self.twin.participants
        allowed = participants | {FACILITATOR} if may_facilitate else participants
        if actor is None:
            raise errors.ApiError(403, "Forbidden", "mitigations are a participant's commands: start the twin with --as PARTICIPANT "
                                  "or send Impersonate-User: PARTICIPANT (configuration tabletop_actor)")
        if actor not in allowed:
            raise errors.ApiError(403, "Forbidden", f"{actor!r} is not a participant of this drill (participants: "
                                  f"{', '.join(sorted(participants))}" + (f"; or {FACILITATOR})" if may_facilitate else ")"))
        return actor

    @staticmethod
    def _body(request: Request) -> Any:
        if not request.body.strip():
            raise errors.bad_request("the request needs a JSON body")
        try:
            return json.loads(request.body)
        except (ValueError, UnicodeDecodeError) as error:
            raise errors.bad_request(f"the body is not valid JSON: {error}") from None

    # clock ---------------------------------------------------------------------------------------
    def _clock(self, request: Request, name: str) -> Response:
        return _json(self._call(lambda d: {"scenario": d.scenario.metadata.id, "now": d.now, "ended": d.ended}))

    # faults --------------------------------------------------------------------------------------
    def _faults(self, request: Request, name: str) -> Response:
        return _json({"items": self._call(_faults)})

    def _fault(self, request: Request, name: str) -> Response:
        found = next((f for f in self._call(_faults) if f["id"] == name), None)
        if found is None:
            raise errors.ApiError(404, "NotFound", f'fault "{name}" not found', {"name": name, "kind": "faults"})
        return _json(found)

    def _inject(self, request: Request, name: str) -> Response:
        actor = self._caller(request, may_facilitate=True)
        body = self._body(request)

        def inject(drill: "Drill") -> dict[str, Any]:
            if drill.ended:
                raise errors.ApiError(409, "Conflict", "the drill has ended")
            try:
                spec = runtime_fault(body, drill.fleet, fault_ids(drill))
            except FaultRequestError as error:
                raise _invalid(f"the fault {_what(body)} cannot be injected", error.causes) from None
            result = drill.execute(actor, fault_command(spec).line())  # a command: replay and resume redo it
            self.twin.store.sync(force=True)
            if not result.ok:
                raise errors.ApiError(409, "Conflict", result.message)
            return {**_fault_json(drill, spec), "injected_at": drill.now, "by": actor}

        return _json(self._call(inject), 201)

    # signals -------------------------------------------------------------------------------------
    def _slos(self, request: Request, name: str) -> Response:
        return _json({"items": self._call(lambda d: [_slo_json(s) for s in d.slo.states])})

    def _slo(self, request: Request, name: str) -> Response:
        found = self._call(lambda d: [_slo_json(s) for s in d.slo.states if s.slo.id == name])
        if not found:
            known = self._call(lambda d: [s.slo.id for s in d.slo.states])
            raise errors.ApiError(404, "NotFound", f'SLO "{name}" not found (SLOs: {", ".join(known) or "none"})',
                                  {"name": name, "kind": "slos"})
        return _json(found[0])

    def _alerts(self, request: Request, name: str) -> Response:
        state = request.query.get("state")
        if state not in (None, "", "pending", "firing"):
            raise errors.bad_request(f"state must be pending or firing, not {state!r}")
        alerts = self._call(lambda d: [{
            "alertname": a.alertname, "state": a.state, "labels": a.labels, "annotations": a.annotations,
            "value": a.value, "active_since": a.active_since, "fired_at": a.fired_at, "group": a.group,
        } for a in d.rules.active_alerts()])
        return _json({"items": [a for a in alerts if not state or a["state"] == state]})

    def _query(self, request: Request, name: str) -> Response:
        expr = request.query.get("query")
        if request.method == "POST":
            body = self._body(request)
            expr = body.get("query") if isinstance(body, dict) else None
        if not isinstance(expr, str) or not expr.strip():
            raise errors.bad_request("give the PromQL expression as query (?query=... or {\"query\": ...})")
        from tabletop.signals.promql import PromQLError

        def run(drill: "Drill") -> dict[str, Any]:
            try:
                result = drill.query(expr).instant(drill.store, drill.now)
            except PromQLError as error:
                raise errors.bad_request(f"bad query {expr!r}: {error}") from None
            now = drill.now
            if isinstance(result, list):
                return {"resultType": "vector", "result": [
                    {"metric": dict(s.labels), "value": [now, _number(s.value)]} for s in result]}
            value = getattr(result, "value", result)
            if isinstance(value, str):
                return {"resultType": "string", "result": [now, value]}
            return {"resultType": "scalar", "result": [now, _number(value)]}

        return _json(self._call(run))

    # mitigations ---------------------------------------------------------------------------------
    def _mitigate(self, request: Request, name: str) -> Response:
        actor = self._caller(request, may_facilitate=False)
        body = self._body(request)
        if not isinstance(body, dict):
            raise errors.bad_request("expected a JSON object with action, target and optionally parameters")
        action, target, params = body.get("action"), body.get("target"), body.get("parameters") or {}
        causes = [(key, "required") for key in ("action", "target") if not isinstance(body.get(key), str) or not body[key]]
        causes += [(key, "unknown field; a mitigation has action, target, parameters")
                   for key in body if key not in ("action", "target", "parameters")]
        if not isinstance(params, dict):
            causes.append(("parameters", "expected an object"))
        if causes:
            raise _invalid("the mitigation is invalid", causes)

        def mitigate(drill: "Drill") -> dict[str, Any]:
            if drill.ended:
                raise errors.ApiError(409, "Conflict", "the drill has ended")
            targets = _expand(drill, target) if _WILDCARD & set(target) else [target]
            lines = []
            for each in targets:
                line = " ".join(["mitigate", shlex.quote(action), shlex.quote(each)]
                                + [shlex.quote(f"{k}={v}") for k, v in params.items()])
                try:
                    parse_command(line)
                except CommandSyntaxError as error:
                    raise _invalid(f"mitigate {action} {each} is invalid", [("", str(error))]) from None
                lines.append(line)
            messages = []
            for line in lines:
                result = drill.execute(actor, line)
                if not result.ok:
                    self.twin.store.sync(force=True)
                    raise errors.ApiError(409, "Conflict", f"{line}: refused: {result.message}")
                messages.append(result.message)
            self.twin.store.sync(force=True)
            if not lines:
                return {"ok": True, "message": f"nothing to do: no {_describe_match(target)} matches {target}", "commands": []}
            return {"ok": True, "message": "; ".join(messages), "commands": lines}

        return _json(self._call(mitigate))


def _invalid(what: str, causes: list[tuple[str, str]]) -> errors.ApiError:
    """422 naming every problem, field by field (as Kubernetes' Invalid status does)."""
    text = "; ".join(f"{field}: {message}" if field else message for field, message in causes)
    return errors.ApiError(422, "Invalid", f"{what}: {text}", {"causes": [
        {"reason": "FieldValueInvalid", "message": message, "field": field} for field, message in causes]})


def _what(body: Any) -> str:
    if not isinstance(body, dict):
        return "request"
    named = [f"{body[key]}" for key in ("kind", "target") if isinstance(body.get(key), str)]
    return (repr(body["id"]) + " " if isinstance(body.get("id"), str) else "") + (" on ".join(named) if named else "request")


def _fault_json(drill: "Drill", spec: Any) -> dict[str, Any]:
    return {"id": spec.id, "kind": spec.kind, "target": spec.target, "description": spec.description,
            "status": drill.injector.status(spec.id) or "scheduled"}


def _faults(drill: "Drill") -> list[dict[str, Any]]:
    """The scenario's faults, then every fault injected that is not one of them (background, runtime)."""
    faults = [_fault_json(drill, spec) for spec in drill.scenario.faults]
    known = {f["id"] for f in faults}
    faults += [_fault_json(drill, f.spec) for f in drill.injector.active if f.spec.id not in known]
    return faults


def _slo_json(state: "SloState") -> dict[str, Any]:
    return {"id": state.slo.id, "deployment": state.slo.deployment, "objective": state.slo.objective / 100,
            "good_ratio": state.window_ratio(), "in_breach": state.in_breach,
            "budget_burned_percent": state.burned_percent(), "good": state.good, "total": state.total}


def _expand(drill: "Drill", pattern: str) -> list[str]:
    """Targets matching a wildcard ``kind/name-*``; pods only when crash-looping or on a node that is not Ready."""
    kind, _, name = pattern.partition("/")
    fleet = drill.fleet
    if kind == "pod":
        pods = [p for p in fleet.pods.values() if p.alive and fnmatch.fnmatchcase(p.name, name)
                and (p.state is PodState.BACKOFF or (p.node is not None and p.node.ready_condition != "True"))]
        return [f"pod/{p.name}" for p in sorted(pods, key=lambda p: p.name)]
    table = {"node": fleet.nodes, "deployment": fleet.deployments, "job": fleet.jobs,
             "featurestore": fleet.stores, "pipeline": fleet.pipelines}.get(kind, {})
    return [f"{kind}/{n}" for n in sorted(table) if fnmatch.fnmatchcase(n, name)]


def _describe_match(pattern: str) -> str:
    kind = pattern.partition("/")[0]
    return "crash-looping pod (or pod on a node that is not Ready)" if kind == "pod" else kind or "object"
