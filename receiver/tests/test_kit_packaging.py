"""The distribution itself: the core imports with pydantic alone, it ships ``py.typed``, and
its tests run where the server is not installed."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from importlib import resources

import pytest

BLOCK_FRAMEWORKS = """
import sys
sys.modules["fastapi"] = None  # any import of them now raises ImportError
sys.modules["flask"] = None
sys.modules["starlette"] = None
import sendout_receiver
sendout_receiver.verify_and_parse
try:
    import sendout_receiver.fastapi
except ImportError:
    print("fastapi helper needs fastapi")
"""


def test_the_core_imports_without_fastapi_or_flask() -> None:
    result = subprocess.run(
        [sys.executable, "-c", BLOCK_FRAMEWORKS], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "fastapi helper needs fastapi"


def test_the_installed_package_is_typed() -> None:
    assert resources.files("sendout_receiver").joinpath("py.typed").is_file()


def test_the_server_is_not_installed_here() -> None:
    """``make receiver-test`` sets the variable: there, the kit must stand on its own."""
    if os.environ.get("SENDOUT_RECEIVER_ISOLATED") != "1":
        pytest.skip("not the receiver's own virtualenv (make receiver-test)")
    assert importlib.util.find_spec("sendout") is None
