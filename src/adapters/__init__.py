"""Adapters: everything that talks to the outside world on the core's behalf."""
