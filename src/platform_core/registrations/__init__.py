"""Registrations: who holds a seat, who waits for one, and what they paid."""
