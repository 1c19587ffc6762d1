"""Reading aloft.yml (and zappa_settings / serverless.yml) into the typed service model."""

from aloft.config.convert import convert_to_aloft_yaml
from aloft.config.project import Project, find_config_file, load_project, load_service
from aloft.config.schema import json_schema
from aloft.config.ssm import resolve_ssm, ssm_references

__all__ = [
    "Project",
    "convert_to_aloft_yaml",
    "find_config_file",
    "json_schema",
    "load_project",
    "load_service",
    "resolve_ssm",
    "ssm_references",
]
