"""Deploys, rollbacks and undeploys on the local cloud: the plan (pure) and the deployer that
applies it, and deploys the CLI can call off."""
