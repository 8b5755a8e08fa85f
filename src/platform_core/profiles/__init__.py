"""Organizer profiles: the public face of an organizer."""
