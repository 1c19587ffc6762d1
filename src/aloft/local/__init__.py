"""The local cloud: aloft's embedded serverless platform with AWS Lambda's semantics."""
