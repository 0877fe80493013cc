"""The AWS platform: network (VPC), cluster (EKS + its kubernetes Provider), database (RDS
MySQL) and certificate (ACM). Components that register AWS resources.
May import: core and `components.k8s`.
"""
