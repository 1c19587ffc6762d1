"""Operating the local cloud: the control API (what the CLI calls), Lambda's Invoke API, the
dashboard, `status`, and the CLI's client of the control API. `platform.Platform` holds the
running parts they all read."""
