"""Reliability of a large training fleet, over many simulated runs.

A fleet file (``kind: ReliabilityFleet``) describes one training job on N GPUs in nodes of 8, the
failure classes that interrupt it with their published rates, planned interruptions, and the
job's recovery policy (checkpoint interval and write time, detection, restart overhead, spare
nodes). ``run.simulate_fleet`` plays one run of it in virtual time: the failure processes of all
nodes are superposed (one merged Poisson stream, never one process per GPU), so a 54-day,
16,384-GPU run costs a few hundred events. ``tabletop reliability`` runs it many times and reports
interruptions by cause, job MTTF, goodput and ETTR with their spread, beside the closed forms.

Modules: ``fleet`` (the file format), ``sim`` (one run), ``run`` (the entry points), ``theory``
(closed forms), ``report`` (Markdown and JSON, with ``tabletop.stats`` for the spread).
"""
