"""The framework's clients for the DUT's CAN protocols: DBC, J1939 diagnostics (DM1/DM2/DM3/DM11), UDS."""
