# RearGuard firmware: a rear-facing safety clip for backward running.
# The version is reported in the sync handshake and in every session summary.
VERSION = "0.1.0"
