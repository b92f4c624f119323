"""AWS actions: one plain handler function per action, registered per service."""
