"""Event-source pollers on the local cloud: SQS queues, SNS topics, S3 notifications, DynamoDB
and Kinesis streams delivered to functions with Lambda's semantics (its event source mappings).

`bindings` derives what should be connected from a deployment (pure); `lambda_events` shapes
AWS's event payloads and `decisions` holds the batching, retry and checkpoint rules (pure); the
pollers (`queue_poller`, `relay`, `stream_poller`) are the thin shell that talks to the local
AWS services through boto3 in worker threads; `manager.EventSources` runs one poller per binding
and reconciles them after every deploy.
"""
