"""serve's start-up checks, each refusal worded for the operator."""

from __future__ import annotations

import pytest

from cfn_gateway.cmd import preflight
from cfn_gateway.config import CONF


@pytest.fixture
def conf(tmp_path):
    CONF.set_override("data_dir", str(tmp_path / "data"))
    yield CONF
    CONF.clear_override("data_dir")
    CONF.clear_override("mode")


def test_standalone_needs_only_a_writable_data_folder(conf, tmp_path):
    preflight.check()
    assert (tmp_path / "data").is_dir()
    assert oct((tmp_path / "data").stat().st_mode & 0o777) == oct(0o700)


def test_data_folder_under_a_file(conf, tmp_path):
    (tmp_path / "file").write_text("")
    conf.set_override("data_dir", str(tmp_path / "file" / "data"))
    with pytest.raises(preflight.StartupError, match="--data-dir"):
        preflight.check()


def test_missing_packages_are_named_with_the_install_command(conf, monkeypatch):
    conf.set_override("mode", "openstack")
    real = preflight.importlib.util.find_spec
    monkeypatch.setattr(preflight.importlib.util, "find_spec",
                        lambda name: None if name in ("gnocchiclient", "heatclient")
                        else real(name))
    with pytest.raises(preflight.StartupError) as raised:
        preflight.check()
    message = str(raised.value)
    assert "gnocchiclient, python-heatclient are not installed" in message
    assert "pip install 'cfn-gateway[openstack]'" in message


def test_openstack_mode_without_service_credentials(conf):
    conf.set_override("mode", "openstack")
    with pytest.raises(preflight.StartupError, match=r"\[service_credentials\] names no"):
        preflight.check()
