"""The desktop side of RearGuard: the `rearguard` command (host_tools.cli)."""
