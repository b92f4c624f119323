"""Auto Scaling (2011-01-01) actions."""
