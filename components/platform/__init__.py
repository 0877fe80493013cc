"""The AWS platform: network (VPC), cluster (EKS + its kubernetes Provider), database (RDS
MySQL), certificate (ACM), the VPC CNI on its own IRSA role (`vpc_cni`, with
`service_account_role`, which the add-ons use too). Components that register AWS resources.
May import: core and `components.k8s`.
"""
