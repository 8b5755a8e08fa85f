"""Reserved for the zoom adapter; nothing here yet."""
