"""What invokes functions besides HTTP requests: schedules (rate/cron maths and the scheduler),
the durable async queue (Event invocations, retries, dead-letter queue) and the event-source
pollers (`pollers/`: SQS, SNS, S3, DynamoDB and Kinesis streams)."""
