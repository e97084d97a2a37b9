"""Ray plumbing: thin actor wrappers around the pure core."""
