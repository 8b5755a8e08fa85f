"""File storage adapters: a local folder, and the Pillow image checker."""
