"""The events context: events, sessions and the public catalogue."""
