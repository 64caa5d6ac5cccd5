"""The drive's CAN database (dbc/drive.dbc), loaded with cantools."""

from __future__ import annotations

from pathlib import Path

import cantools

# hil/dut/dbc.py → repository root → dbc/drive.dbc
DRIVE_DBC_PATH = Path(__file__).resolve().parents[2] / "dbc" / "drive.dbc"


def load_drive_dbc(path: Path | str | None = None) -> cantools.database.can.Database:
    """Load the drive DBC (default: dbc/drive.dbc in this repository)."""
    dbc_path = Path(path) if path is not None else DRIVE_DBC_PATH
    if not dbc_path.is_file():
        raise FileNotFoundError(
            f"drive DBC not found at {dbc_path}: expected dbc/drive.dbc in the repository "
            "(or pass the path of a DBC file)"
        )
    database = cantools.database.load_file(str(dbc_path), database_format="dbc")
    if not isinstance(database, cantools.database.can.Database):
        raise TypeError(f"{dbc_path}: not a CAN database (cantools loaded {type(database).__name__})")
    return database
