"""Fixtures shared by the emulator's test modules: one emulator on the
integration fleet per module, with faults cleared around every test."""

from __future__ import annotations

import os

import pytest

from test_emulator import FLEETS, Emu


@pytest.fixture(scope="module")
def emu():
    e = Emu(os.path.join(FLEETS, "integration.json"))
    yield e
    e.stop()


@pytest.fixture(autouse=True)
def _clear_faults(emu):
    emu.faults({})
    yield
    emu.faults({})
