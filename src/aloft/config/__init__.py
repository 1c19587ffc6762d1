"""Reading aloft.yml (and zappa_settings / serverless.yml) into the typed service model."""
