"""The canary app: the course's objects as pure builders, the routing of each canary strategy
(one module per strategy, chosen by `canaryStrategy` in `routing`), the spec that gathers the
values they need, and the component that registers them.
May import: core, `components.k8s`, `components.platform` and `components.addons`.
"""
