"""Frozen dataclasses (records, see record.py) of config spec 3.6.0, the only shape the stages ever see.

Conventions, mirroring Ignition's Go types so merge and defaults behave the same:
- a scalar the spec makes optional is `X | None`; None means "not set in the config", which
  matters for merging (a child's None keeps the parent's value) and for defaults that depend on
  absence (file mode 0644 vs. keeping an existing file's mode);
- a list is a tuple, `()` when absent (Ignition does not distinguish absent from empty);
- a nested object defaults to its empty instance: Go embeds these as plain structs, so an absent
  object and `{}` mean the same, and `config.storage.files` never needs a None check;
- only what the JSON schema itself requires has no default. Fields the docs call required but the
  schema leaves nullable (raid level, link target, filesystem format, luks device, ...) are
  optional here and enforced by semantic validation, as in Ignition.
JSON names are camelCase of the attribute unless `metadata={"json": ...}` says otherwise.
"""

from collections.abc import Mapping
from dataclasses import field
from typing import Any

from ignition.config.codec import from_json, to_json
from ignition.record import record

SPEC_VERSION = "3.6.0"


@record
class Verification:
    hash: str | None = None  # "sha512-<hex>" or "sha256-<hex>" of the decompressed data


@record
class HTTPHeader:
    name: str
    # None is meaningful: in a child config it deletes the parent's header of that name
    value: str | None = None


@record
class Resource:
    source: str | None = None
    compression: str | None = None
    http_headers: tuple[HTTPHeader, ...] = ()
    verification: Verification = Verification()


@record
class IgnitionConfig:
    merge: tuple[Resource, ...] = ()
    replace: Resource = Resource()  # replace.source None: no replacement


@record
class Timeouts:
    http_response_headers: int | None = None  # seconds; None means Ignition's default of 10
    http_total: int | None = None  # seconds; None and 0 mean unlimited


@record
class TLS:
    certificate_authorities: tuple[Resource, ...] = ()


@record
class Security:
    tls: TLS = TLS()


@record
class Proxy:
    http_proxy: str | None = None
    https_proxy: str | None = None
    no_proxy: tuple[str, ...] = ()


@record
class Ignition:
    version: str
    config: IgnitionConfig = IgnitionConfig()
    timeouts: Timeouts = Timeouts()
    security: Security = Security()
    proxy: Proxy = Proxy()


@record
class Partition:
    label: str | None = None
    number: int | None = None  # None and 0 both mean "next free slot"
    size_mib: int | None = field(default=None, metadata={"json": "sizeMiB"})
    start_mib: int | None = field(default=None, metadata={"json": "startMiB"})
    type_guid: str | None = None
    guid: str | None = None
    wipe_partition_entry: bool | None = None
    should_exist: bool | None = None  # None means true
    resize: bool | None = None


@record
class Disk:
    device: str
    wipe_table: bool | None = None
    partitions: tuple[Partition, ...] = ()


@record
class Raid:
    name: str
    level: str | None = None
    devices: tuple[str, ...] = ()
    spares: int | None = None
    options: tuple[str, ...] = ()


@record
class Filesystem:
    device: str
    format: str | None = None
    path: str | None = None
    wipe_filesystem: bool | None = None
    label: str | None = None
    uuid: str | None = None
    options: tuple[str, ...] = ()
    mount_options: tuple[str, ...] = ()


@record
class NodeUser:
    id: int | None = None
    name: str | None = None


@record
class NodeGroup:
    id: int | None = None
    name: str | None = None


@record
class Node:
    """What files, directories and links share; they also share one path key space."""

    path: str
    overwrite: bool | None = None
    user: NodeUser = NodeUser()
    group: NodeGroup = NodeGroup()


@record
class File(Node):
    contents: Resource = Resource()
    append: tuple[Resource, ...] = ()
    mode: int | None = None  # None: 0644 for a new file, else keep the existing file's mode


@record
class Directory(Node):
    mode: int | None = None  # None: 0755 for a new directory, else keep the existing mode


@record
class Link(Node):
    target: str | None = None
    hard: bool | None = None


@record
class Tang:
    url: str | None = None
    thumbprint: str | None = None
    advertisement: str | None = None  # JSON text; None: fetched from the server at run time


@record
class ClevisCustom:
    pin: str | None = None
    config: str | None = None
    needs_network: bool | None = None


@record
class Clevis:
    tang: tuple[Tang, ...] = ()
    tpm2: bool | None = None
    threshold: int | None = None  # None means 1
    custom: ClevisCustom = ClevisCustom()


@record
class Cex:
    enabled: bool | None = None


@record
class Luks:
    name: str
    device: str | None = None
    key_file: Resource = Resource()  # no source: a random key is generated
    label: str | None = None
    uuid: str | None = None
    options: tuple[str, ...] = ()
    discard: bool | None = None
    open_options: tuple[str, ...] = ()
    wipe_volume: bool | None = None
    clevis: Clevis = Clevis()
    cex: Cex = Cex()


@record
class Storage:
    disks: tuple[Disk, ...] = ()
    raid: tuple[Raid, ...] = ()
    filesystems: tuple[Filesystem, ...] = ()
    files: tuple[File, ...] = ()
    directories: tuple[Directory, ...] = ()
    links: tuple[Link, ...] = ()
    luks: tuple[Luks, ...] = ()


@record
class Dropin:
    name: str
    contents: str | None = None


@record
class Unit:
    name: str
    enabled: bool | None = None  # None: leave the unit's enablement alone
    mask: bool | None = None  # False unmasks; None leaves it alone
    contents: str | None = None
    dropins: tuple[Dropin, ...] = ()


@record
class Systemd:
    units: tuple[Unit, ...] = ()


@record
class PasswdUser:
    name: str
    password_hash: str | None = None
    ssh_authorized_keys: tuple[str, ...] = ()
    uid: int | None = None
    gecos: str | None = None
    home_dir: str | None = None
    no_create_home: bool | None = None
    primary_group: str | None = None
    groups: tuple[str, ...] = ()
    no_user_group: bool | None = None
    no_log_init: bool | None = None
    shell: str | None = None
    should_exist: bool | None = None  # None means true; false deletes the user
    system: bool | None = None


@record
class PasswdGroup:
    name: str
    gid: int | None = None
    password_hash: str | None = None
    should_exist: bool | None = None  # None means true; false deletes the group
    system: bool | None = None


@record
class Passwd:
    users: tuple[PasswdUser, ...] = ()
    groups: tuple[PasswdGroup, ...] = ()


@record
class KernelArguments:
    should_exist: tuple[str, ...] = ()
    should_not_exist: tuple[str, ...] = ()


@record
class Config:
    ignition: Ignition
    storage: Storage = Storage()
    systemd: Systemd = Systemd()
    passwd: Passwd = Passwd()
    kernel_arguments: KernelArguments = KernelArguments()


def config_from_dict(d: Mapping[str, Any]) -> Config:
    """Build a Config from a schema-validated spec 3.6.0 dict (null == absent, unknown keys
    ignored). Raises TypeError, with the JSON path, if the dict does not have the spec's shape."""
    return from_json(Config, d)


def config_to_dict(c: Config) -> dict[str, Any]:
    """The spec 3.6.0 JSON dict of `c`, omitting unset fields, empty lists and empty objects;
    the inverse of config_from_dict for any config without nulls and empty lists/objects."""
    return to_json(c)
