"""Cluster add-ons: the shared "chart or manifests + service-account role" block (`addon`,
with the IRSA role of `platform.service_account_role`) and one module per add-on.
May import: core, `components.k8s` and `components.platform`.
"""
