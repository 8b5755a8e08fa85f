"""The identity context: accounts, credentials, email verification and sessions."""
