"""Console screens: the drill (main), the facilitator's, the end of the drill, and help."""
