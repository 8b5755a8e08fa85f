"""Notifications: mail to people, and the in-app records they read."""
