"""The billing context: plans and what they entitle an account to."""
