"""Modal dialogs: each asks for what one command needs and returns the values (never runs it)."""
