"""The environment's network: a new two-AZ VPC with NAT, or an existing VPC's two private
subnets; and the security group MWAA's components use to reach each other."""

from __future__ import annotations

import ipaddress

from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_s3 as s3
from constructs import Construct

from mwaa_infra.settings import Settings


class Network(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, settings: Settings, log_bucket: s3.IBucket
    ) -> None:
        super().__init__(scope, construct_id)
        if settings.uses_existing_vpc:
            # Attributes, not Vpc.from_lookup: synth needs no credentials and no lookup.
            self.vpc = ec2.Vpc.from_vpc_attributes(
                self,
                "Vpc",
                vpc_id=settings.vpc_id,
                availability_zones=list(settings.availability_zones),
                private_subnet_ids=list(settings.subnet_ids),
            )
            self.subnet_ids = list(settings.subnet_ids)
        else:
            # Four equal subnets fill the block: a public (NAT) and a private (MWAA) one per AZ.
            mask = ipaddress.ip_network(settings.cidr).prefixlen + 2
            vpc = ec2.Vpc(
                self,
                "Vpc",
                ip_addresses=ec2.IpAddresses.cidr(settings.cidr),
                availability_zones=list(settings.availability_zones),
                nat_gateways=settings.nat_gateways,
                subnet_configuration=[
                    ec2.SubnetConfiguration(
                        name="public", subnet_type=ec2.SubnetType.PUBLIC, cidr_mask=mask
                    ),
                    ec2.SubnetConfiguration(
                        name="private",
                        subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS,
                        cidr_mask=mask,
                    ),
                ],
                restrict_default_security_group=False,
            )
            # Flow logs to the access-log bucket (cheaper than CloudWatch Logs).
            vpc.add_flow_log(
                "FlowLogs",
                destination=ec2.FlowLogDestination.to_s3(log_bucket, "vpc-flow-logs/"),
                traffic_type=ec2.FlowLogTrafficType.ALL,
            )
            self.vpc = vpc
            self.subnet_ids = [
                subnet.subnet_id
                for subnet in vpc.select_subnets(
                    subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS
                ).subnets
            ]
        self.security_group = ec2.SecurityGroup(
            self,
            "EnvironmentSecurityGroup",
            vpc=self.vpc,
            description=f"MWAA environment {settings.env_name}: its components talk to each other",
            allow_all_outbound=True,
        )
        # MWAA requires a self-referencing rule: the scheduler, workers, web server and the
        # metadata database reach each other inside this group. Nothing outside it gets in.
        self.security_group.add_ingress_rule(
            self.security_group,
            ec2.Port.all_traffic(),
            "MWAA components of this environment reach each other",
        )
