"""What the unit says about itself over UDS: part number (F187), software release (F195), VIN (F190).

Read for the record of a run, not judged (DIAG-06 judges them): a DID the unit does not answer is
None, and a unit that does not answer at all costs one short timeout, not three.
"""

from __future__ import annotations

import can
from udsoncan.exceptions import (
    InvalidResponseException,
    NegativeResponseException,
    TimeoutException,
    UnexpectedResponseException,
)

from hil.dut.uds import DID_PART_NUMBER, DID_SOFTWARE_VERSION, DID_VIN, client_config, make_uds_client

IDENTITY_DIDS = {"part_number": DID_PART_NUMBER, "firmware": DID_SOFTWARE_VERSION, "vin": DID_VIN}
# long enough for P2server and the client's own margin; a unit not powered yet is not waited for
IDENTITY_TIMEOUT_S = 1.0


def read_unit_identity(
    bus: can.BusABC, notifier: can.Notifier, ecu_address: int, timeout_s: float = IDENTITY_TIMEOUT_S
) -> dict[str, str | None]:
    """``{"part_number": …, "firmware": …, "vin": …}`` as the ECU at ``ecu_address`` reports them."""
    config = client_config()
    config["request_timeout"] = timeout_s
    read: dict[str, str | None] = dict.fromkeys(IDENTITY_DIDS)
    with make_uds_client(bus, notifier, ecu_address, config=config) as client:
        for name, did in IDENTITY_DIDS.items():
            try:
                read[name] = client.read_data_by_identifier(did).service_data.values[did] or None
            except (TimeoutException, can.CanError):
                break  # not answering, or no bus to ask on: the other DIDs would fail the same way
            except (
                NegativeResponseException,
                InvalidResponseException,
                UnexpectedResponseException,
                ValueError,
            ):
                continue  # refused or undecodable: unknown, and DIAG-06 says what is wrong with it
    return read
