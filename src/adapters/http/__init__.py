"""The HTTP adapter: the Litestar app, its controllers and problem documents."""
