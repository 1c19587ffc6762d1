"""The local cloud's AWS-compatible services (S3, SQS, SNS, DynamoDB, Kinesis, SSM, KMS, Secrets
Manager): moto's server in a process of its own, behind function grants checked on SigV4
signatures, its data kept in an encrypted snapshot; the stage resources and secrets made on it."""
