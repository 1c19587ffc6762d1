"""One module per command; each exposes `command` (a click.Command) for `aloft.cli.main`."""
