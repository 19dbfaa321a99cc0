"""A Kubernetes API over a live drill's simulated fleet, for real kubectl and Chaos Toolkit.

``run_twin`` (``tabletop.twin.runner``) runs a paced drill with its twin; ``Twin``
(``tabletop.twin.twin``) serves any drill whose owner thread calls ``Twin.serve``. Standard
library only: the core never needs the Kubernetes client.
"""
