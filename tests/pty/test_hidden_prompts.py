"""`aloft secret set` and `aloft config credentials` at their hidden prompts, run as a person
runs them: the real `aloft` in a pseudo-terminal.

What is typed never shows (the screen is exactly the prompts and the result, and none of the
value's characters is on it), and it is stored: the secret as a deployed function reads it
(examples/secrets, POST /get-secret), the credentials in ~/.aws/credentials of a temporary HOME.
Enter on an empty value and Ctrl-D print `aborted: <what was left>`, exit 1; Ctrl-C prints
`interrupted: <what was left>`, exit 130; none leaves a traceback or anything half-written (the
value stored before is still the one stored), and the terminal echoes again afterwards. The
secret is typed twice: two that differ say so and ask again.
"""

from __future__ import annotations

import configparser
import json
import stat
import termios
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.pty.conftest import Cloud, free_port
from tests.pty.terminal import Finished, Terminal
from tests.pty.test_session import ctrl_c_budget

pytestmark = pytest.mark.timeout(180)

SECRET = "Zq~#X!J%=^7w"
"""Its punctuation shows nowhere else on these screens: a character of it that was echoed
would be seen."""
SHOWN_IF_ECHOED = "~#!%=^"
KEY = "AKIAIOSFODNN7EXAMPLE"
AWS_SECRET = "wJalr~XUtn#FEMI!K7MD%ENG=bPxR^fiCY"
NOISE = ("Traceback", "Aborted!", "error")


def hidden(done: Finished, *values: str) -> None:
    """None of `values`, nor any character of them that shows nowhere else, is on the screen."""
    for value in values:
        assert value not in done.text, done.text
        for char in SHOWN_IF_ECHOED:
            if char in value:
                assert char not in done.text, (char, done.text)


def echoing(term: Terminal) -> bool:
    """Whether the terminal echoes what is typed (as the shell finds it after the command):
    getpass turns echo off while it reads and must turn it back on however the read ends."""
    return bool(termios.tcgetattr(term._master)[3] & termios.ECHO)


def answer(term: Terminal, prompt: str, keys: str) -> None:
    """Wait for `prompt`, then type `keys`; "^C" presses Ctrl-C 0.3 s after the prompt shows,
    as a person does (a SIGINT that Python handles between writing getpass's prompt and its
    read leaves the read waiting: CPython, not aloft)."""
    term.expect(prompt, timeout=20)
    if keys == "^C":
        time.sleep(0.3)
        term.ctrl_c()
    else:
        term.send(keys)


# -- aloft secret set -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def project(cloud: Cloud, copy_example: Callable[[str], Path]) -> Path:
    """examples/secrets deployed to dev: POST /get-secret answers the value of API_TOKEN."""
    root = copy_example("secrets")
    done = cloud.run("deploy", "dev", cwd=root, timeout=150)  # may pip install boto3
    assert done.code == 0, done.text
    return root


def stored(cloud: Cloud) -> tuple[int, object]:
    """What the deployed function reads: (200, the value), or (404, None) before it is set."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{cloud.port}/secrets-demo/dev/get-secret", data=b"{}", method="POST")
    try:
        with urllib.request.urlopen(request, timeout=20) as reply:
            return reply.status, json.loads(reply.read())["value"]
    except urllib.error.HTTPError as exc:
        return exc.code, None


def names(cloud: Cloud, project: Path) -> list[str]:
    done = cloud.run("secret", "list", "dev", cwd=project, timeout=20)
    assert done.code == 0, done.text
    return [line for line in done.text.splitlines() if line and not line.startswith("no ")]


def test_secret_typed_twice_is_stored_and_never_shown(cloud: Cloud, project: Path) -> None:
    assert stored(cloud) == (404, None)
    with cloud.terminal("secret", "set", "dev", "API_TOKEN", cwd=project) as term:
        # two values that differ first: said, then both asked again
        answer(term, r"value of API_TOKEN: ", SECRET + "\r")
        answer(term, r"Repeat for confirmation: ", SECRET[::-1] + "\r")
        answer(term, r"Error: The two entered values do not match\.\nvalue of API_TOKEN: ",
               SECRET + "\r")
        answer(term, r"Repeat for confirmation: ", SECRET + "\r")
        done = term.wait(30)
        assert echoing(term)
    assert done.code == 0, done.text
    assert done.text.splitlines() == [  # the prompts end where the typing was: nothing shown
        "value of API_TOKEN: ", "Repeat for confirmation: ",
        "Error: The two entered values do not match.",
        "value of API_TOKEN: ", "Repeat for confirmation: ",
        "set /secrets-demo/dev/API_TOKEN (SecureString, key alias/aloft/secrets-demo-dev)"]
    hidden(done, SECRET, SECRET[::-1])
    assert stored(cloud) == (200, SECRET)
    assert names(cloud, project) == ["API_TOKEN"]


@pytest.mark.parametrize(("keys", "code", "last"), [
    (["\r"], 1, "aborted"),                      # Enter on an empty value
    (["\x04"], 1, "aborted"),                    # Ctrl-D
    (["^C"], 130, "interrupted"),
    ([SECRET[::-1] + "\r", "\r"], 1, "aborted"),  # at the repeat prompt
    ([SECRET[::-1] + "\r", "\x04"], 1, "aborted"),
    ([SECRET[::-1] + "\r", "^C"], 130, "interrupted"),
], ids=["enter", "ctrl-d", "ctrl-c", "repeat-enter", "repeat-ctrl-d", "repeat-ctrl-c"])
def test_secret_not_given_leaves_the_stored_one(cloud: Cloud, project: Path, keys: list[str],
                                                code: int, last: str) -> None:
    assert stored(cloud) == (200, SECRET)  # set by the test before
    with cloud.terminal("secret", "set", "dev", "API_TOKEN", cwd=project) as term:
        for prompt, typed in zip(("value of API_TOKEN: ", "Repeat for confirmation: "), keys,
                                 strict=False):
            answer(term, prompt, typed)
        pressed = time.monotonic()
        done = term.wait(10)
        took = time.monotonic() - pressed
        assert echoing(term)
    assert done.code == code, done.text
    assert done.text.splitlines()[-1] == f"{last}: API_TOKEN was not set", done.text
    assert "" not in done.text.splitlines(), done.text  # no blank line before it
    assert took < ctrl_c_budget(), f"it ended {took:.2f} s after the key"
    for noise in NOISE:
        assert noise not in done.text, done.text
    hidden(done, SECRET[::-1])
    assert stored(cloud) == (200, SECRET)  # the value set before, untouched
    assert names(cloud, project) == ["API_TOKEN"]


# -- aloft config credentials -------------------------------------------------------------


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def shell(tmp_path: Path, pty_cache: Path, home: Path) -> Cloud:
    """The environment: ALOFT_HOME and HOME temporary, AWS_SHARED_CREDENTIALS_FILE and
    AWS_CONFIG_FILE emptied (the default, ~/.aws/, of that HOME). No cloud is started."""
    home.mkdir()
    return Cloud(tmp_path / "aloft-home", free_port(), pty_cache)


def credentials(shell: Cloud, home: Path, *args: str, keys: list[str]) -> Finished:
    with shell.terminal("config", "credentials", *args, cwd=home, HOME=str(home),
                        AWS_SHARED_CREDENTIALS_FILE="", AWS_CONFIG_FILE="") as term:
        for prompt, typed in zip(("AWS access key id: ", "AWS secret access key: "), keys,
                                 strict=False):
            answer(term, prompt, typed)
        done = term.wait(20)
        assert echoing(term)
    return done


def test_credentials_typed_are_written_and_never_shown(shell: Cloud, home: Path) -> None:
    done = credentials(shell, home, "--profile", "work", "--region", "eu-west-1",
                       keys=[KEY + "\r", AWS_SECRET + "\r"])
    assert done.code == 0, done.text
    aws = home / ".aws"
    first, second, said = done.text.split("\n", 2)
    assert (first, second) == ("AWS access key id: ", "AWS secret access key: "), done.text
    assert " ".join(said.split()) == (  # (rich wraps the long lines at the terminal's width)
        f"wrote profile work (****************MPLE) to {aws / 'credentials'} "
        f"wrote region eu-west-1 of profile work to {aws / 'config'}"), done.text
    hidden(done, KEY, AWS_SECRET)
    parser = configparser.RawConfigParser()
    parser.read([aws / "credentials", aws / "config"])
    assert dict(parser["work"]) == {"aws_access_key_id": KEY, "aws_secret_access_key": AWS_SECRET}
    assert parser["profile work"]["region"] == "eu-west-1"
    for name in ("credentials", "config"):
        assert stat.S_IMODE((aws / name).stat().st_mode) == 0o600


@pytest.mark.parametrize(("keys", "code", "last"), [
    (["\r"], 1, "aborted"),                 # Enter on an empty value
    (["\x04"], 1, "aborted"),               # Ctrl-D
    (["^C"], 130, "interrupted"),
    ([KEY + "\r", "\r"], 1, "aborted"),     # at the secret's prompt
    ([KEY + "\r", "\x04"], 1, "aborted"),
    ([KEY + "\r", "^C"], 130, "interrupted"),
], ids=["enter", "ctrl-d", "ctrl-c", "secret-enter", "secret-ctrl-d", "secret-ctrl-c"])
def test_credentials_not_given_write_nothing(shell: Cloud, home: Path, keys: list[str],
                                             code: int, last: str) -> None:
    aws = home / ".aws"
    aws.mkdir(mode=0o700)
    before = "[work]\naws_access_key_id = AKIAOLDOLDOLDOLD0001\naws_secret_access_key = old\n"
    (aws / "credentials").write_text(before)
    done = credentials(shell, home, "--profile", "work", "--region", "eu-west-1", keys=keys)
    assert done.code == code, done.text
    assert done.text.splitlines()[-1] == f"{last}: profile work was not written", done.text
    assert "" not in done.text.splitlines(), done.text  # no blank line before it
    for noise in NOISE:
        assert noise not in done.text, done.text
    hidden(done, KEY)
    assert (aws / "credentials").read_text() == before  # as it was; no config, no temp file
    assert sorted(p.name for p in aws.iterdir()) == ["credentials"]
