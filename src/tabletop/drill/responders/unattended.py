"""Nobody responds: every fault runs its natural course (what a facilitator's guide shows will
happen, and the baseline against which alert rules are checked)."""

from __future__ import annotations

from tabletop.drill.responders.base import Responder


class Unattended(Responder):
    name = "unattended"
