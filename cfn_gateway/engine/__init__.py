"""Work that is not a request: alarm evaluation, alarm actions, and later scaling activities."""
