"""The embedded SQLite drivers (the standalone default)."""
