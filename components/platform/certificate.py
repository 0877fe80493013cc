"""The ACM certificate of `domainName`, validated by DNS in its Route53 public zone.

Three cases: no domain (nothing, the app serves HTTP), `certificateArn` given (use it, create
nothing), otherwise a new DNS-validated certificate. The zone is looked up, never created.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.tags import Tags


@dataclass(frozen=True)
class CertificateArgs:
    domain_name: str
    zone_id: pulumi.Input[str]
    tags: Tags


class Certificate(pulumi.ComponentResource):
    """A certificate that is issued once `arn` resolves: `arn` comes from the validation."""

    arn: pulumi.Output[str]

    def __init__(self, name: str, args: CertificateArgs,
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("eks-canary:platform:Certificate", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        certificate = aws.acm.Certificate(
            f"{name}-cert", domain_name=args.domain_name, validation_method="DNS",
            tags=args.tags(args.domain_name), opts=child)
        option = certificate.domain_validation_options[0]
        record = aws.route53.Record(
            f"{name}-validation", zone_id=args.zone_id, name=option.resource_record_name,
            type=option.resource_record_type, records=[option.resource_record_value], ttl=60,
            allow_overwrite=True, opts=child)
        validation = aws.acm.CertificateValidation(
            f"{name}-validation", certificate_arn=certificate.arn,
            validation_record_fqdns=[record.fqdn], opts=child)
        self.arn = validation.certificate_arn
        self.register_outputs({"arn": self.arn})
