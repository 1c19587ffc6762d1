"""The AWS provider: plan (desired vs actual), apply (boto3 behind one façade), CloudFormation.

`AwsProvider` (aloft.aws.provider) implements aloft.provider.Provider for `provider: aws` stages.
"""
