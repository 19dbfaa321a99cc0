"""Differential tests: tabletop's PromQL and rule evaluation against real promtool."""
