"""CloudWatch (2010-08-01) actions."""
