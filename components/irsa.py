"""IRSA trust: the assume-role policy that lets exactly one Kubernetes service account use a role.

Core (pure): what every IRSA role trusts (`platform/service_account_role.py`: the VPC CNI's
and each add-on's). The policy names the cluster's OIDC provider and pins both the subject
(`system:serviceaccount:<namespace>:<name>`) and the audience (`sts.amazonaws.com`), as the EKS
user guide's "Assign IAM roles to Kubernetes service accounts" page shows; no wildcard.
"""

from __future__ import annotations


def trust_policy(oidc_provider_arn: str, oidc_issuer: str, namespace: str,
                 service_account: str) -> dict:
    """The assume-role policy for one service account (issuer without https://)."""
    return {
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Federated": oidc_provider_arn},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringEquals": {
                f"{oidc_issuer}:sub": f"system:serviceaccount:{namespace}:{service_account}",
                f"{oidc_issuer}:aud": "sts.amazonaws.com",
            }},
        }],
    }
