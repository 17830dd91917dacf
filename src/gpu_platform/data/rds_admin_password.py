"""Prints the RDS master user's password, which RDS keeps in AWS Secrets Manager
(ADMIN_SECRET_ARN), for the schema Job's psql. Runs in the cluster with the PostgreSQL image's
python3 and boto3 (barman-cloud's), under the Job's EKS Pod Identity role; AWS_REGION names the
region."""

import json
import os

import boto3

# Explicitly: boto3 reads AWS_DEFAULT_REGION, not AWS_REGION, and EKS Pod Identity sets neither.
client = boto3.client("secretsmanager", region_name=os.environ["AWS_REGION"])
secret = client.get_secret_value(SecretId=os.environ["ADMIN_SECRET_ARN"])
print(json.loads(secret["SecretString"])["password"])
