"""tabletop: incident tabletop and chaos simulation engine for ML-infrastructure on-call."""

__version__ = "0.1.0"
