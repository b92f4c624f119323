"""Small utilities shared by several layers (no AWS or OpenStack knowledge)."""
