"""A Chaos Toolkit extension for tabletop's simulated fleet: python providers for actions
(``tabletop.chaos.sim.actions``) and probes (``tabletop.chaos.sim.probes``).

Chaos Toolkit runs an experiment in a process of its own, so these functions reach the running
drill over HTTP, through the control API the drill serves beside its Kubernetes twin
(``tabletop.twin.control_api``, paths under ``/tabletop/v1``). Where the drill is:

- ``configuration: {tabletop_url: ...}`` in the experiment (usually ``{type: env, key:
  TABLETOP_URL, default: ""}``), else the environment variable ``TABLETOP_URL``: the twin's URL,
  e.g. ``http://127.0.0.1:38211`` (``tabletop twin`` prints it; a scenario's experiments get it
  set by tabletop's runner);
- ``tabletop_token`` (configuration or the experiment's secrets), else ``TABLETOP_TOKEN``: the
  twin's bearer token, if it has one;
- ``tabletop_ca_file``, else ``TABLETOP_CA_FILE``: the PEM certificate to trust when the twin
  speaks HTTPS (a twin started with a token uses a self-signed one; its kubeconfig holds it);
- ``tabletop_actor``, else ``TABLETOP_ACTOR``: the participant (or ``facilitator``) the
  experiment's writes are recorded as on the timeline (default: the twin's ``--as``).

Times are drill seconds (virtual time since the drill started); where a duration is taken,
``90``, ``"90s"``, ``"5m"`` and ``"1h30m"`` all work.
"""
