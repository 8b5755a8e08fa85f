"""Reserved for the storage adapter; nothing here yet."""
