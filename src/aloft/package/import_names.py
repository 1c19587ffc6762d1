"""Import names and the distributions that provide them, without installing anything.

`import yaml` comes from PyYAML, `import PIL` from Pillow: most distributions are imported
under their own (normalised) name, and the table below holds the common exceptions. Whatever a
requirement pulls in itself (Flask brings Werkzeug and Jinja2) is known only for a few popular
distributions; anything else is "not sure", never an error.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import Literal

from aloft.package.requirements import normalize_name

DISTRIBUTIONS: dict[str, tuple[str, ...]] = {
    "attr": ("attrs",),
    "bs4": ("beautifulsoup4",),
    "corsheaders": ("django-cors-headers",),
    "Crypto": ("pycryptodome", "pycrypto"),
    "cv2": ("opencv-python", "opencv-python-headless", "opencv-contrib-python"),
    "dateutil": ("python-dateutil",),
    "debug_toolbar": ("django-debug-toolbar",),
    "dns": ("dnspython",),
    "docx": ("python-docx",),
    "dotenv": ("python-dotenv",),
    "environ": ("django-environ",),
    "git": ("GitPython",),
    "jose": ("python-jose",),
    "jwt": ("PyJWT",),
    "magic": ("python-magic",),
    "markdown": ("Markdown",),
    "multipart": ("python-multipart",),
    "MySQLdb": ("mysqlclient",),
    "nacl": ("PyNaCl",),
    "OpenSSL": ("pyOpenSSL",),
    "PIL": ("Pillow",),
    "pkg_resources": ("setuptools",),
    "psycopg": ("psycopg", "psycopg-binary"),
    "psycopg2": ("psycopg2-binary", "psycopg2"),
    "pymysql": ("PyMySQL",),
    "rest_framework": ("djangorestframework",),
    "serial": ("pyserial",),
    "skimage": ("scikit-image",),
    "sklearn": ("scikit-learn",),
    "slugify": ("python-slugify",),
    "socks": ("PySocks",),
    "storages": ("django-storages",),
    "websocket": ("websocket-client",),
    "yaml": ("PyYAML",),
    "zmq": ("pyzmq",),
}
"""Import name -> the distributions that provide it, the usual one first (where they differ)."""

NAMESPACES = ("google", "azure", "zope", "backports", "jaraco", "sphinxcontrib")
"""Import names shared by many distributions (`google-cloud-storage` -> `google.cloud`)."""

BRINGS: dict[str, tuple[str, ...]] = {
    "boto3": ("botocore", "s3transfer", "jmespath", "dateutil", "urllib3"),
    "celery": ("kombu", "billiard", "vine", "click", "dateutil"),
    "django": ("asgiref", "sqlparse"),
    "djangorestframework": ("django", "asgiref", "sqlparse"),
    "fastapi": ("starlette", "pydantic", "pydantic_core", "typing_extensions", "anyio",
                "annotated_types", "idna", "sniffio"),
    "flask": ("werkzeug", "jinja2", "itsdangerous", "click", "markupsafe", "blinker"),
    "httpx": ("httpcore", "anyio", "certifi", "idna", "h11", "sniffio"),
    "pandas": ("numpy", "dateutil", "pytz", "tzdata", "six"),
    "pydantic": ("pydantic_core", "typing_extensions", "annotated_types"),
    "requests": ("urllib3", "idna", "certifi", "charset_normalizer"),
    "sqlalchemy": ("greenlet", "typing_extensions"),
    "uvicorn": ("click", "h11"),
}
"""Distribution (normalised) -> import names its own dependencies provide."""

AWS_RUNTIME = frozenset({"boto3", "botocore", "s3transfer", "jmespath", "snapshot_restore_py"})
"""Importable on AWS Lambda without being a requirement (the local cloud provides them too:
aloft.package.provided); snapshot_restore_py is SnapStart's runtime hooks."""

Provided = Literal["stdlib", "aloft", "requirement", "dependency", "aws", "unknown"]


def distribution_for(import_name: str) -> str:
    """The distribution to add to requirements for `import <import_name>`."""
    top = import_name.split(".", 1)[0]
    known = DISTRIBUTIONS.get(top)
    return known[0] if known else top.replace("_", "-")


def is_stdlib(import_name: str) -> bool:
    top = import_name.split(".", 1)[0]
    return top in sys.stdlib_module_names or top == "__future__"


def provided_by(import_name: str, requirements: Iterable[str]) -> Provided:
    """Where `import <import_name>` is satisfied from: the standard library, a requirement (a
    distribution name, normalised or not), a requirement's own dependency, Lambda's runtime
    (AWS only), or "unknown" (not a requirement: perhaps another one's dependency)."""
    if is_stdlib(import_name):
        return "stdlib"
    top = import_name.split(".", 1)[0]
    if top == "aloft":  # its runtime ships in every artifact (`@aloft.task`)
        return "aloft"
    if import_name in ("zappa", "zappa.asynchronous"):  # Zappa's @task: aloft's stand-in
        return "aloft"
    wanted = {normalize_name(top)} | {normalize_name(d) for d in DISTRIBUTIONS.get(top, ())}
    names = {normalize_name(r) for r in requirements}
    if wanted & names:
        return "requirement"
    if top in NAMESPACES and any(n.startswith(normalize_name(top) + "-") for n in names):
        return "requirement"
    if any(top in BRINGS.get(n, ()) for n in names):
        return "dependency"
    if top in AWS_RUNTIME:
        return "aws"
    return "unknown"
