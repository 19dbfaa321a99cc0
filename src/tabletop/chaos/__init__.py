"""Chaos Toolkit bridge: scenario experiments run through chaoslib against the twin or a real
cluster (``runner``, ``child``, ``control``, ``safety``), checked when the scenario loads
(``experiments``); export and import of experiments, and a provider acting on the simulation.

Nothing here is imported by the drill's core unless a scenario has experiments; chaoslib itself
is imported only by ``experiments`` (checks), ``child`` and ``control`` (the subprocess).
"""
