"""Console widgets: each shows one part of the board and refreshes from a ``Frame``."""
