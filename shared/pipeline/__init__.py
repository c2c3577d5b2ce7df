"""The export pipeline: runs, planning, shards, the account lane, sending, reconciling and finishing."""
