"""Shared kernel: ids, money, clock, pagination, errors and domain messages."""
