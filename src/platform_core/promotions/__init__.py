"""Promotions: promo codes and the prices they make."""
