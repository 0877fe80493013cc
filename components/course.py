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
XRAY_LABELS = {"app": "xray-daemon"}

# Istio's control plane, which the app's NetworkPolicies admit when canaryStrategy=istio
ISTIO_NAMESPACE = "istio-system"
ISTIOD_LABELS = {"app": "istiod"}
ISTIOD_PORTS = (15012, 15017)  # xDS + certificates; webhook/injection
ISTIO_SIDECAR_PORTS = (15020, 15021)  # merged status/metrics (rewritten probes); health
