"""Backend-independent truths: statistics math, period alignment; later alarm and capacity math."""
