"""The course's facts that more than one layer needs: the database's name, user and port,
and the names and ports by which the app, the tracing add-on and Istio find each other.

Core: plain constants, no Pulumi. Names and ports follow the course (see README, "What the
course deploys").
"""

from __future__ import annotations

# the user-management database (RDS makes it; the app connects with it)
DB_NAME = "usermgmt"
DB_USERNAME = "dbadmin"
MYSQL_PORT = 3306

# where the apps send X-Ray segments: `xray-service.<namespace>:2000`, UDP and TCP
XRAY_PORT = 2000
XRAY_LABELS = {"app": "xray-daemon"}  # the X-Ray daemon's own pods (its DaemonSet's selector)
# The one label of every tracing backend's pods (X-Ray daemon, OpenTelemetry collector, and any
# other platform's), whichever runs: `xray-service` selects by it, the app's NetworkPolicy admits
# egress to it and the backend's own NetworkPolicy applies by it, so switching backends changes
# none of those (the VPC CNI's policy controller admits the Service's ClusterIP only while the
# Service's selector matches the egress peer: amazon-network-policy-controller-k8s,
# pkg/resolvers/endpoints.go). Each DaemonSet selects its own pods by its own label.
TRACING_LABELS = {"eks-canary/tracing": "xray-service"}

# Istio's control plane, which the app's NetworkPolicies admit when canaryStrategy=istio
ISTIO_NAMESPACE = "istio-system"
ISTIOD_LABELS = {"app": "istiod"}
ISTIOD_PORTS = (15012, 15017)  # xDS + certificates; webhook/injection
ISTIO_SIDECAR_PORTS = (15020, 15021)  # merged status/metrics (rewritten probes); health
