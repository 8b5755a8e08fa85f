"""Stored files: the `FileStorage` and `ImageChecker` ports and uploaded images."""
