"""Reserved for the stripe adapter; nothing here yet."""
