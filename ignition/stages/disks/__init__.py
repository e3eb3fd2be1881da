"""Stage disks: GPT partitions, filesystems (RAID and LUKS: later).

One probe of every device, then a pure plan (validated before any write), then
the writes. See `plan.py` for Ignition's partition matching table.
"""
