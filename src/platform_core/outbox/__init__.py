"""The transactional outbox: side effects recorded with the change that causes them."""
