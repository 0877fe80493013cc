"""The memory of a course container and the JVM's bounds inside it, computed from one number.

The course images run OpenJDK 8u212 (`FROM openjdk:8-jdk-alpine`; docker-library/openjdk's
last Alpine build of that tag, 2019-05-04). That JVM reads container limits from cgroup v1
only (hotspot osContainer_linux.cpp of 8u212 looks for `cgroup` v1 mounts; cgroup v2 support,
JDK-8230305, reached 8u372). EKS AL2023 nodes use cgroup v2, so without flags the JVM sizes
itself from the node: a quarter of its RAM as heap (2 GiB on a t3.large), unlimited metaspace,
240 MiB of code cache and as much direct memory as heap, past the container's limit.

The images start `sh -c "java $JAVA_OPTS ... -jar /app.jar"` (the course's Dockerfiles), so
`JAVA_OPTS` in the container's env (which overrides the image's empty default) bounds them.
"""

from __future__ import annotations

from dataclasses import dataclass

from components.k8s.pods import resources

# the smallest limit this sizing is meant for (heap 256 MiB, metaspace 96 MiB); not measured
MIN_LIMIT_MIB = 512


@dataclass(frozen=True)
class JvmMemory:
    """A container memory limit and the JVM areas bounded inside it, in MiB.

    Of the limit L: heap L/2, metaspace 3L/16 (Spring Boot 2.1, Hibernate, Spring Security and
    the X-Ray SDK load thousands of classes), code cache L/16, direct buffers L/16. The last
    3L/16 are left for thread stacks, GC structures and native allocations, which no flag of
    Java 8 bounds. The request is 3L/4: where a loaded JVM settles once its heap has grown.
    """

    limit_mib: int = 1024
    # a smaller request where the platform asks for one (a laptop cluster); the limit stays
    request_override_mib: int | None = None

    def __post_init__(self) -> None:
        if self.limit_mib < MIN_LIMIT_MIB:
            raise ValueError(f"memory limit must be >= {MIN_LIMIT_MIB} MiB, "
                             f"got {self.limit_mib}")
        if self.request_override_mib is not None and not (
                0 < self.request_override_mib <= self.limit_mib):
            raise ValueError(f"memory request must be in 1..{self.limit_mib} MiB, "
                             f"got {self.request_override_mib}")

    @property
    def heap_mib(self) -> int:
        return self.limit_mib // 2

    @property
    def metaspace_mib(self) -> int:
        return self.limit_mib * 3 // 16

    @property
    def code_cache_mib(self) -> int:
        return self.limit_mib // 16

    @property
    def direct_mib(self) -> int:
        return self.limit_mib // 16

    @property
    def request_mib(self) -> int:
        return self.request_override_mib or self.limit_mib * 3 // 4

    @property
    def java_opts(self) -> str:
        """JVM flags of 8u212 (all in its globals.hpp); one word each, as `sh` splits them."""
        return " ".join([
            f"-Xmx{self.heap_mib}m",
            # bounds class and non-class metaspace together (the compressed class space is
            # shrunk to fit under it: Metaspace::ergo_initialize)
            f"-XX:MaxMetaspaceSize={self.metaspace_mib}m",
            f"-XX:ReservedCodeCacheSize={self.code_cache_mib}m",
            # default: as large as the heap (sun.misc.VM)
            f"-XX:MaxDirectMemorySize={self.direct_mib}m",
            # out of heap, exit and be restarted: the TCP liveness probe would not notice
            "-XX:+ExitOnOutOfMemoryError",
        ])

    @staticmethod
    def quantity(mib: int) -> str:
        return f"{mib // 1024}Gi" if mib % 1024 == 0 else f"{mib}Mi"

    def resources(self, cpu_request: str, cpu_limit: str) -> dict:
        return resources(cpu_request, self.quantity(self.request_mib), cpu_limit,
                         self.quantity(self.limit_mib))
