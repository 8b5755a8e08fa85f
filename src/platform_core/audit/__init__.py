"""The audit context: who did what to what, from where and when."""
