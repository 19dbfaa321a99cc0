"""The live monitoring stack: a real Prometheus and Alertmanager beside a paced drill.

Prometheus scrapes the drill and evaluates the scenario's rules on wall time (durations scaled
by the drill's speed); Alertmanager routes what fires and notifies the drill's webhook, whose
notifications become pages.
"""
