"""Deploy stage: flash (or emulate) each variant's firmware on each board and profile it.

`tinyeit.deploy.run.profile_pair` does one (board, variant) pair; `protocol` parses the
firmware's result lines for every transport; `emulator` runs QEMU; `flashers`, `serial_link`
and `power` drive real boards. Imports stay light here so the CLI starts fast.
"""
