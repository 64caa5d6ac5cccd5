"""The end-of-line station: a web panel over ``hil certify`` and the result store."""
