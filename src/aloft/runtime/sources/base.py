"""What every event source is: a class that recognises its events (`infer`) and says what kind
of work they are (`kind`), which the handler maps to one dispatcher."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar, Literal

from aloft.runtime.http import BinaryTypes, Environ, HttpResponse

Event = dict[str, Any]

Kind = Literal[
    "http",  # an HTTP request for the app
    "records",  # a batch of records (SQS, SNS, S3, DynamoDB, Kinesis)
    "event",  # any other AWS event: the handler gets it as is
    "keep_warm",  # answered at once without touching user code
    "command",  # aloft envelopes: run something inside the deployed function
    "raw",
    "manage",
    "task",
    "schedule",
]


class EventSource(ABC):
    """A kind of event. Subclasses only set `name`, `kind` and `infer`."""

    name: ClassVar[str]
    kind: ClassVar[Kind]

    @classmethod
    @abstractmethod
    def infer(cls, event: Event) -> bool:
        """Whether `event` is of this kind."""


class HttpSource(EventSource):
    """An HTTP-shaped event: translated to a request, and the response translated back."""

    kind: ClassVar[Kind] = "http"

    @staticmethod
    @abstractmethod
    def environ(event: Event, context: Any, base_path: str) -> Environ:
        """The request as a WSGI environ (the ASGI bridge derives its scope from it)."""

    @staticmethod
    @abstractmethod
    def response(response: HttpResponse, event: Event, binary: BinaryTypes) -> Event:
        """The app's response in the shape this source expects."""


class RecordsSource(EventSource):
    """A batch in `event["Records"]`. `item_id` names a record for `batchItemFailures`; None
    means the service has no partial-batch response (a failure fails the whole event)."""

    kind: ClassVar[Kind] = "records"

    @staticmethod
    def item_id(record: Event) -> str | None:
        return None
