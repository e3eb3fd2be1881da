"""Stage disks: GPT partitions, RAID, LUKS, filesystems (in Ignition's order).

One probe of every device, then a pure plan (validated before any write), then
the writes. See `plan.py` for Ignition's partition matching table, `aliases.py`
for the stable device names every write goes through, and `parallel.py` for
how filesystems are made concurrently.
"""
