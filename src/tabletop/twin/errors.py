"""API errors as Kubernetes ``Status`` objects, with the HTTP code and reason the API server uses."""

from __future__ import annotations

import json
from typing import Any

from tabletop.sim.disruption import REFUSED


class ApiError(Exception):
    """A request the twin answers with a failure ``Status``."""

    def __init__(self, code: int, reason: str, message: str, details: dict[str, Any] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details
        self.headers = headers or {}

    def status(self) -> dict[str, Any]:
        status: dict[str, Any] = {
            "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": self.message,
            "reason": self.reason, "code": self.code,
        }
        if self.details:
            status["details"] = self.details
        return status

    def body(self) -> bytes:
        return json.dumps(self.status()).encode()


def _qualified(resource: str, group: str) -> str:
    return f"{resource}.{group}" if group else resource


def bad_request(message: str) -> ApiError:
    return ApiError(400, "BadRequest", message)


def unauthorized() -> ApiError:
    return ApiError(401, "Unauthorized", "Unauthorized")


def forbidden(user: str | None, verb: str, resource: str, group: str, name: str, namespace: str, why: str) -> ApiError:
    who = f'User "{user}"' if user else 'User "system:anonymous"'
    where = f' in the namespace "{namespace}"' if namespace else ""
    return ApiError(403, "Forbidden",
                    f'{_qualified(resource, group)} "{name}" is forbidden: {who} cannot {verb} resource "{resource}" '
                    f'in API group "{group}"{where}: {why}',
                    {"name": name, "group": group or None, "kind": resource})


def not_found(resource: str, group: str, name: str) -> ApiError:
    return ApiError(404, "NotFound", f'{_qualified(resource, group)} "{name}" not found',
                    {"name": name, "group": group or None, "kind": resource})


def no_such_path() -> ApiError:
    return ApiError(404, "NotFound", "the server could not find the requested resource", {})


def method_not_allowed() -> ApiError:
    return ApiError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource", {})


def not_acceptable(what: str) -> ApiError:
    return ApiError(406, "NotAcceptable", f"only the following media types are accepted: {what}")


def conflict(resource: str, group: str, name: str, message: str) -> ApiError:
    return ApiError(409, "Conflict", f'Operation cannot be fulfilled on {_qualified(resource, group)} "{name}": {message}',
                    {"name": name, "group": group or None, "kind": resource})


def stale(resource: str, group: str, name: str) -> ApiError:
    return conflict(resource, group, name, "the object has been modified; please apply your changes to the latest version and try again")


def expired(message: str) -> ApiError:
    return ApiError(410, "Expired", message)


def too_large() -> ApiError:
    return ApiError(413, "RequestEntityTooLarge", "the request body is too large")


def unsupported_media_type(got: str, supported: list[str]) -> ApiError:
    return ApiError(415, "UnsupportedMediaType", f'the body of the request was in an unknown format ("{got}"); '
                    f"accepted media types include: {', '.join(supported)}")


def invalid(kind: str, group: str, name: str, causes: list[tuple[str, str]]) -> ApiError:
    """422: ``causes`` are (field, message) pairs."""
    qualified = f"{kind}.{group}" if group else kind
    text = "; ".join(f"{field}: {message}" if field else message for field, message in causes)
    return ApiError(422, "Invalid", f'{qualified} "{name}" is invalid: {text}', {
        "name": name, "group": group or None, "kind": kind,
        "causes": [{"reason": "FieldValueInvalid", "message": message, "field": field} for field, message in causes],
    })


def disruption_budget(cause: str) -> ApiError:
    """429 for an eviction a PodDisruptionBudget refuses (kubectl drain retries it)."""
    return ApiError(429, "TooManyRequests", REFUSED, {"causes": [{"reason": "DisruptionBudget", "message": cause}]})


def internal(message: str) -> ApiError:
    return ApiError(500, "InternalError", f"an error on the server has prevented the request from succeeding: {message}")


def unavailable(message: str) -> ApiError:
    return ApiError(503, "ServiceUnavailable", message)


def timeout(message: str) -> ApiError:
    return ApiError(504, "Timeout", message)
