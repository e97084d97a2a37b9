"""Run directories, atomic checkpoints, metric logs and plots (no Ray, no training)."""
