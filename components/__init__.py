"""eks-canary's components, in layers; a module imports its own layer or lower ones only.

Core, loose in this folder (imports nothing from the layers): the config contract
(`config_keys`, `config_rules`, `config`), the canary split (`canary`), tags (`tags`) and the
course's facts several layers share (`course`). Pure: no Pulumi resources.

Layers, lowest first: core < `k8s/` < `platform/` < `addons/` < `app/`; `canaryctl/` and
`__main__.py` sit on top.
"""
