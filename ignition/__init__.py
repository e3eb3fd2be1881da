"""A first-boot provisioner compatible with CoreOS Ignition, run from the initramfs."""

__version__ = "0.1.0"

# The newest config spec this build understands; sent in the Accept header and
# used as the internal representation of every parsed config.
SPEC_VERSION = "3.6.0"
