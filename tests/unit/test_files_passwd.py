"""Users, groups and SSH keys: shadow-utils argv (through a fake Runner that
edits the temporary root's databases, so later steps see the user) and the
authorized_keys fragment on disk."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from ignition.errors import StageError
from ignition.log import MSG_SSH_KEYS_WRITTEN
from ignition.stages.files.passwd import apply_passwd
from tests.unit.test_files_support import (
    TEST_GID,
    TEST_GROUP,
    TEST_UID,
    TEST_USER,
    Env,
    config,
    make_env,
    mode,
    snapshot,
    write_target_db,
)

needs_root = pytest.mark.skipif(os.geteuid() != 0,
                                reason="SSH keys are chowned to their user: chown to another uid needs root")
HASH = "$6$rounds=4096$salt$0123456789abcdefghijklmnopqrstuvwxyz"
KEYS_PATH = f"/home/{TEST_USER}/.ssh/authorized_keys.d/ignition"


def passwd(tmp_path: Path, users: list[dict[str, Any]] = (), groups: list[dict[str, Any]] = ()) -> Env:  # type: ignore[assignment]
    return make_env(tmp_path, config(passwd={"users": list(users), "groups": list(groups)}))


def shadow_calls(e: Env) -> list[tuple[str, ...]]:
    return [a for a in e.fake.argvs if os.path.basename(a[0]) in
            ("useradd", "usermod", "userdel", "groupadd", "groupmod", "groupdel")]


def passwd_lines(e: Env, name: str) -> list[str]:
    return [ln for ln in e.p("/etc/passwd").read_text().splitlines() if ln.split(":")[0] == name]


def group_lines(e: Env, name: str) -> list[str]:
    return [ln for ln in e.p("/etc/group").read_text().splitlines() if ln.split(":")[0] == name]


def options(argv: tuple[str, ...]) -> dict[str, str | None]:
    """Options between `--root=R` and the name, as {option: value or None}."""
    with_value = {"--uid", "--gid", "--comment", "--home-dir", "--home", "--shell", "--groups", "--password"}
    out: dict[str, str | None] = {}
    args = list(argv[2:-1])
    while args:
        a = args.pop(0)
        out[a] = args.pop(0) if a in with_value else None
    return out


# Users


def test_useradd_with_every_field(tmp_path: Path) -> None:
    e = passwd(tmp_path, users=[{
        "name": "core", "uid": 1500, "gecos": "CoreOS Admin", "homeDir": "/var/home/core",
        "noCreateHome": True, "primaryGroup": "wheel", "groups": ["adm", "sudo"], "noUserGroup": True,
        "noLogInit": True, "shell": "/bin/zsh", "system": True, "passwordHash": HASH,
    }])
    write_target_db(e.root)
    with e.p("/etc/group").open("a") as f:
        f.write("wheel:x:10:\nadm:x:4:\nsudo:x:27:\n")
    apply_passwd(e.ctx)
    assert shadow_calls(e) == [(
        "useradd", f"--root={e.root}", "--home-dir", "/var/home/core", "--no-create-home", "--no-user-group",
        "--system", "--no-log-init", "--password", HASH, "--uid", "1500", "--comment", "CoreOS Admin",
        "--gid", "wheel", "--groups", "adm,sudo", "--shell", "/bin/zsh", "core",
    )]
    assert passwd_lines(e, "core") == ["core:x:1500:10:CoreOS Admin:/var/home/core:/bin/zsh"]


def test_useradd_minimal_locks_the_password(tmp_path: Path) -> None:
    e = passwd(tmp_path, users=[{"name": "core"}])
    apply_passwd(e.ctx)
    assert shadow_calls(e) == [("useradd", f"--root={e.root}", "--create-home", "--password", "*", "core")]
    assert len(passwd_lines(e, "core")) == 1


def test_useradd_empty_hash_locks_the_password(tmp_path: Path) -> None:
    e = passwd(tmp_path, users=[{"name": "core", "passwordHash": ""}])
    apply_passwd(e.ctx)
    assert options(shadow_calls(e)[0])["--password"] == "*"


def test_existing_user_is_modified_not_duplicated(tmp_path: Path) -> None:
    e = passwd(tmp_path, users=[{"name": TEST_USER, "uid": 4444, "gecos": "Renamed", "homeDir": "/srv/x",
                                 "shell": "/bin/bash", "passwordHash": HASH, "groups": ["wheel"],
                                 "primaryGroup": "wheel"}])
    write_target_db(e.root)
    apply_passwd(e.ctx)
    calls = shadow_calls(e)
    assert len(calls) == 1
    argv = calls[0]
    assert argv[:2] == ("usermod", f"--root={e.root}") and argv[-1] == TEST_USER
    assert options(argv) == {"--home": "/srv/x", "--move-home": None, "--uid": "4444", "--comment": "Renamed",
                             "--gid": "wheel", "--groups": "wheel", "--shell": "/bin/bash", "--password": HASH}
    assert passwd_lines(e, TEST_USER) == [f"{TEST_USER}:x:4444:{TEST_GID}:Renamed:/srv/x:/bin/bash"]


def test_existing_user_empty_hash_locks_not_empties_the_password(tmp_path: Path) -> None:
    # An empty passwordHash means "locked" (Ignition passes "*"); passing ""
    # to usermod would set an EMPTY password: login without one.
    e = passwd(tmp_path, users=[{"name": TEST_USER, "passwordHash": ""}])
    write_target_db(e.root)
    apply_passwd(e.ctx)
    assert shadow_calls(e) == [("usermod", f"--root={e.root}", "--password", "*", TEST_USER)]


def test_existing_user_empty_gecos_is_left_alone(tmp_path: Path) -> None:
    # Ignition passes --comment only for a non-empty gecos.
    e = passwd(tmp_path, users=[{"name": TEST_USER, "gecos": "", "shell": "/bin/bash"}])
    write_target_db(e.root)
    apply_passwd(e.ctx)
    assert shadow_calls(e) == [("usermod", f"--root={e.root}", "--shell", "/bin/bash", TEST_USER)]


def test_existing_user_without_changes_runs_nothing(tmp_path: Path) -> None:
    e = passwd(tmp_path, users=[{"name": TEST_USER}])
    write_target_db(e.root)
    before = snapshot(e.root)
    apply_passwd(e.ctx)
    assert shadow_calls(e) == []
    assert snapshot(e.root) == before


def test_should_exist_false_deletes_an_existing_user(tmp_path: Path) -> None:
    e = passwd(tmp_path, users=[{"name": TEST_USER, "shouldExist": False}])
    write_target_db(e.root)
    apply_passwd(e.ctx)
    assert shadow_calls(e) == [("userdel", f"--root={e.root}", "--remove", TEST_USER)]
    assert passwd_lines(e, TEST_USER) == []


def test_should_exist_false_on_a_missing_user_runs_nothing(tmp_path: Path) -> None:
    e = passwd(tmp_path, users=[{"name": "ignitionnosuchuser", "shouldExist": False}])
    write_target_db(e.root)
    before = snapshot(e.root)
    apply_passwd(e.ctx)
    assert shadow_calls(e) == []
    assert snapshot(e.root) == before


def test_user_lookup_is_in_the_target_not_the_host(tmp_path: Path) -> None:
    # "root" exists on the host; the target has no /etc/passwd: it must be added.
    e = passwd(tmp_path, users=[{"name": "root", "shouldExist": False}, {"name": "bin"}])
    apply_passwd(e.ctx)
    assert shadow_calls(e) == [("useradd", f"--root={e.root}", "--create-home", "--password", "*", "bin")]


# Groups


def test_groupadd_with_every_field(tmp_path: Path) -> None:
    e = passwd(tmp_path, groups=[{"name": "ops", "gid": 4500, "passwordHash": HASH, "system": True}])
    apply_passwd(e.ctx)
    assert shadow_calls(e) == [("groupadd", f"--root={e.root}", "--gid", "4500", "--password", HASH,
                                "--system", "ops")]
    assert group_lines(e, "ops") == ["ops:x:4500:"]


def test_groupadd_minimal_leaves_the_group_password_to_groupadd(tmp_path: Path) -> None:
    # As current Ignition's CreateGroup: no hash (or an empty one) passes no --password, so
    # gshadow gets groupadd's "!" (the root oracle test checks the file itself).
    e = passwd(tmp_path, groups=[{"name": "ops"}, {"name": "ops2", "passwordHash": ""}])
    apply_passwd(e.ctx)
    assert shadow_calls(e) == [("groupadd", f"--root={e.root}", "ops"),
                               ("groupadd", f"--root={e.root}", "ops2")]


def test_existing_group_is_modified_not_duplicated(tmp_path: Path) -> None:
    e = passwd(tmp_path, groups=[{"name": TEST_GROUP, "gid": 4600, "passwordHash": HASH}])
    write_target_db(e.root)
    apply_passwd(e.ctx)
    assert shadow_calls(e) == [("groupmod", f"--root={e.root}", "--gid", "4600", "--password", HASH,
                                TEST_GROUP)]
    assert group_lines(e, TEST_GROUP) == [f"{TEST_GROUP}:x:4600:"]


def test_should_exist_false_deletes_an_existing_group(tmp_path: Path) -> None:
    e = passwd(tmp_path, groups=[{"name": TEST_GROUP, "shouldExist": False}])
    write_target_db(e.root)
    apply_passwd(e.ctx)
    assert shadow_calls(e) == [("groupdel", f"--root={e.root}", TEST_GROUP)]
    assert group_lines(e, TEST_GROUP) == []


def test_should_exist_false_on_a_missing_group_runs_nothing(tmp_path: Path) -> None:
    e = passwd(tmp_path, groups=[{"name": "ignitionnosuchgroup", "shouldExist": False}])
    write_target_db(e.root)
    apply_passwd(e.ctx)
    assert shadow_calls(e) == []


def test_groups_before_users(tmp_path: Path) -> None:
    e = passwd(tmp_path, users=[{"name": "dev", "primaryGroup": "devs", "noUserGroup": True}],
               groups=[{"name": "devs", "gid": 4700}])
    apply_passwd(e.ctx)
    assert [os.path.basename(a[0]) for a in shadow_calls(e)] == ["groupadd", "useradd"]
    assert passwd_lines(e, "dev")[0].split(":")[3] == "4700"


def test_root_option_on_every_call(tmp_path: Path) -> None:
    e = passwd(tmp_path,
               users=[{"name": "new1"}, {"name": TEST_USER, "uid": 4250}, {"name": "root", "shouldExist": False}],
               groups=[{"name": "g1"}, {"name": TEST_GROUP, "gid": 4350}, {"name": "root", "shouldExist": False}])
    write_target_db(e.root)
    apply_passwd(e.ctx)
    calls = shadow_calls(e)
    assert len(calls) == 6
    assert all(a[1] == f"--root={e.root}" for a in calls)


def test_failing_useradd_fails_the_stage(tmp_path: Path) -> None:
    from ignition.errors import CommandError
    from ignition.run import Result

    e = passwd(tmp_path, users=[{"name": "core"}])

    def fail(argv: Any, **kw: Any) -> Result:
        raise CommandError(tuple(argv), 9, b"", b"useradd: user 'core' already exists")

    e.fake.run = fail  # type: ignore[method-assign]
    with pytest.raises(StageError, match=r"^passwd.users.0: adding user 'core'.*already exists"):
        apply_passwd(e.ctx)


# SSH keys


def _keys_env(tmp_path: Path, keys: list[str]) -> Env:
    e = passwd(tmp_path, users=[{"name": TEST_USER, "sshAuthorizedKeys": keys}])
    write_target_db(e.root)
    home = e.p(f"/home/{TEST_USER}")
    home.mkdir(parents=True)
    os.chown(home, TEST_UID, TEST_GID) if os.geteuid() == 0 else None
    return e


@needs_root
def test_ssh_keys_joined_with_final_newline(tmp_path: Path) -> None:
    e = _keys_env(tmp_path, ["ssh-ed25519 AAAA1 a@b", "ssh-rsa AAAA2 c@d"])
    apply_passwd(e.ctx)
    assert e.p(KEYS_PATH).read_text() == "ssh-ed25519 AAAA1 a@b\nssh-rsa AAAA2 c@d\n"


@needs_root
def test_ssh_key_modes(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        e = _keys_env(tmp_path, ["ssh-ed25519 AAAA1 a@b"])
        apply_passwd(e.ctx)
    finally:
        os.umask(old)
    assert mode(e.p(f"/home/{TEST_USER}/.ssh")) == 0o700
    assert mode(e.p(f"/home/{TEST_USER}/.ssh/authorized_keys.d")) == 0o700
    assert mode(e.p(KEYS_PATH)) == 0o600


@needs_root
def test_ssh_key_owners(tmp_path: Path) -> None:
    e = _keys_env(tmp_path, ["ssh-ed25519 AAAA1 a@b"])
    apply_passwd(e.ctx)
    for p in (f"/home/{TEST_USER}/.ssh", f"/home/{TEST_USER}/.ssh/authorized_keys.d", KEYS_PATH):
        st = os.lstat(e.p(p))
        assert (st.st_uid, st.st_gid) == (TEST_UID, TEST_GID), p


@needs_root
def test_ssh_keys_for_a_user_created_in_the_same_config(tmp_path: Path) -> None:
    e = passwd(tmp_path, users=[{"name": "newbie", "uid": 4800, "sshAuthorizedKeys": ["ssh-ed25519 K n@x"]}])
    apply_passwd(e.ctx)
    keys = e.p("/home/newbie/.ssh/authorized_keys.d/ignition")
    assert keys.read_text() == "ssh-ed25519 K n@x\n"
    assert (os.lstat(keys).st_uid, os.lstat(keys).st_gid) == (4800, 4800)


@needs_root
def test_ssh_keys_journal_entry(tmp_path: Path) -> None:
    e = _keys_env(tmp_path, ["ssh-ed25519 AAAA1 a@b"])
    apply_passwd(e.ctx)
    entries = e.sink.with_field("MESSAGE_ID", MSG_SSH_KEYS_WRITTEN)
    assert MSG_SSH_KEYS_WRITTEN == "225067b87bbd4a0cb6ab151f82fa364b"
    assert len(entries) == 1
    assert entries[0]["IGNITION_USER_NAME"] == TEST_USER
    assert entries[0]["IGNITION_PATH"].endswith(KEYS_PATH)
    # The keys themselves are not logged.
    assert not any("AAAA1" in m for _, m, _ in e.sink.entries)


def test_ssh_keys_refused_through_a_symlinked_ssh_dir(tmp_path: Path) -> None:
    e = _keys_env(tmp_path, ["ssh-ed25519 AAAA1 a@b"])
    victim = e.p("/root/.ssh")
    victim.mkdir(parents=True)
    os.symlink("/root/.ssh", e.p(f"/home/{TEST_USER}/.ssh"))
    before = snapshot(e.root)
    with pytest.raises(StageError, match="symbolic link"):
        apply_passwd(e.ctx)
    assert snapshot(e.root) == before
    assert os.listdir(victim) == []


def test_ssh_keys_refused_through_a_symlinked_fragment_dir(tmp_path: Path) -> None:
    e = _keys_env(tmp_path, ["ssh-ed25519 AAAA1 a@b"])
    e.p(f"/home/{TEST_USER}/.ssh").mkdir()
    os.symlink("/etc", e.p(f"/home/{TEST_USER}/.ssh/authorized_keys.d"))
    with pytest.raises(StageError, match="symbolic link"):
        apply_passwd(e.ctx)
    assert not e.p("/etc/ignition").exists()


@needs_root
def test_ssh_keys_for_a_user_without_home_fail_cleanly(tmp_path: Path) -> None:
    e = passwd(tmp_path, users=[{"name": TEST_USER, "sshAuthorizedKeys": ["ssh-ed25519 K x@y"]}])
    write_target_db(e.root)  # /home/ignitiontestuser does not exist
    with pytest.raises(StageError, match=TEST_USER):
        apply_passwd(e.ctx)


def test_no_users_no_groups_does_nothing(tmp_path: Path) -> None:
    e = passwd(tmp_path)
    before = snapshot(e.root)
    assert apply_passwd(e.ctx) == []
    assert e.fake.calls == []
    assert snapshot(e.root) == before


@needs_root
@pytest.mark.parametrize("value", ["false", "0"])
def test_distro_without_key_fragments_gets_authorized_keys(tmp_path: Path, value: str) -> None:
    # IGNITION_WRITE_AUTHORIZED_KEYS_FRAGMENT=false: the keys go where a stock sshd reads them.
    e = _keys_env(tmp_path, ["ssh-ed25519 AAAA1 a@b", "ssh-rsa AAAA2 c@d"])
    e = replace(e, ctx=replace(e.ctx, env=replace(e.ctx.env, authorized_keys_fragment=value)))
    apply_passwd(e.ctx)
    home = f"/home/{TEST_USER}"
    keys = e.p(f"{home}/.ssh/authorized_keys")
    assert keys.read_text() == "ssh-ed25519 AAAA1 a@b\nssh-rsa AAAA2 c@d\n"
    assert not e.p(f"{home}/.ssh/authorized_keys.d").exists()
    for p, want in ((f"{home}/.ssh", 0o700), (f"{home}/.ssh/authorized_keys", 0o600)):
        st = os.lstat(e.p(p))
        assert (st.st_uid, st.st_gid, st.st_mode & 0o777) == (TEST_UID, TEST_GID, want), p


def test_a_bad_key_fragment_setting_fails_the_stage_naming_it(tmp_path: Path) -> None:
    e = _keys_env(tmp_path, ["ssh-ed25519 AAAA1 a@b"])
    e = replace(e, ctx=replace(e.ctx, env=replace(e.ctx.env, authorized_keys_fragment="no")))
    with pytest.raises(StageError, match="IGNITION_WRITE_AUTHORIZED_KEYS_FRAGMENT is 'no': set it to true, false"):
        apply_passwd(e.ctx)
    assert not e.p(f"/home/{TEST_USER}/.ssh").exists()


def test_the_key_fragment_setting_is_read_from_the_environment() -> None:
    from ignition.environment import Environment

    assert Environment.from_environ({}).authorized_keys_fragment == "true"
    assert Environment.from_environ({"IGNITION_WRITE_AUTHORIZED_KEYS_FRAGMENT": ""}).authorized_keys_fragment == "true"
    assert Environment.from_environ({"IGNITION_WRITE_AUTHORIZED_KEYS_FRAGMENT": "0"}).authorized_keys_fragment == "0"
