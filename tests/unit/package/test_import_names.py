"""Which import comes from where: the standard library, a requirement (by its own name or a
known alias), a requirement's dependency, Lambda's runtime, or nothing known."""

from __future__ import annotations

import pytest

from aloft.package.import_names import distribution_for, provided_by


@pytest.mark.parametrize(
    ("name", "requirements", "expected"),
    [
        ("json", [], "stdlib"),
        ("xml.etree.ElementTree", [], "stdlib"),
        ("__future__", [], "stdlib"),
        ("aloft", [], "aloft"),
        ("flask", ["Flask"], "requirement"),
        ("flask_sqlalchemy", ["Flask-SQLAlchemy"], "requirement"),
        ("yaml", ["pyyaml"], "requirement"),
        ("psycopg2", ["psycopg2-binary"], "requirement"),
        ("google.cloud.storage", ["google-cloud-storage"], "requirement"),
        ("werkzeug", ["flask"], "dependency"),
        ("urllib3", ["requests"], "dependency"),
        ("boto3", [], "aws"),
        ("snapshot_restore_py", [], "aws"),  # SnapStart's runtime hooks
        ("requests", ["flask"], "unknown"),
        ("yaml", [], "unknown"),
    ],
)
def test_provided_by(name: str, requirements: list[str], expected: str) -> None:
    assert provided_by(name, requirements) == expected


def test_distribution_for() -> None:
    assert distribution_for("yaml") == "PyYAML"
    assert distribution_for("PIL.Image") == "Pillow"
    assert distribution_for("requests") == "requests"
    assert distribution_for("my_package.sub") == "my-package"
