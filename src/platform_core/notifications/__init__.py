"""Notifications: mail to people, and later in-app records."""
