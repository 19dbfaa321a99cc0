"""The facilitator's guide of a scenario (`tabletop brief`): a Markdown handout generated from
the scenario file and two headless runs of it, so that it never drifts from the YAML."""
