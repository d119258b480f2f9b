"""Run Apache Kafka (KRaft, one node) as a local Java process, as the production broker.

The jars come from Maven Central once, through ``tools/kafka/pom.xml``, into a cache
(``BAOCAO_KAFKA_CACHE``, default ``~/.cache/baocao/kafka-<version>``). Each broker gets
a fresh log directory that is removed when it stops, like the embedded Tansu broker,
so a test or `baocao up` on Kafka starts from an empty cluster either way.
"""

from __future__ import annotations

import base64
import fcntl
import os
import re
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path
from typing import IO

from baocao import procs
from contract.errors import BaocaoError

TOOLS = Path(__file__).resolve().parent.parent / "tools" / "kafka"
POM = TOOLS / "pom.xml"
LOG_CONFIG = TOOLS / "log4j2.properties"
#: A small heap and the client compiler: the broker shares two cores with the suite.
JVM_OPTIONS = ["-Xms256m", "-Xmx512m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"]


class KafkaUnavailable(BaocaoError):
    """Java or Maven is missing, or the broker's jars could not be fetched."""


def version() -> str:
    """The Kafka version pinned in tools/kafka/pom.xml."""
    found = re.search(r"<kafka\.version>([^<]+)</kafka\.version>", POM.read_text())
    assert found, f"{POM} names no kafka.version"
    return found.group(1)


def require() -> None:
    """Raise ``KafkaUnavailable`` (Vietnamese and English) unless Java ≥ 17 and Maven exist."""
    java = shutil.which("java")
    if java is None:
        raise KafkaUnavailable(
            "Chưa cài Java (cần Java 17 trở lên) để chạy Apache Kafka: apt-get install "
            "openjdk-17-jre-headless. / Java 17 or newer is needed to run Apache Kafka."
        )
    out = subprocess.run([java, "-version"], capture_output=True, text=True).stderr
    major = re.search(r'version "(\d+)', out)
    if major is None or int(major.group(1)) < 17:
        raise KafkaUnavailable(
            f"Apache Kafka {version()} cần Java 17 trở lên; máy có: {out.splitlines()[:1]}. / "
            f"Apache Kafka {version()} needs Java 17 or newer; found: {out.splitlines()[:1]}"
        )
    if shutil.which("mvn") is None and not _cached(jar_dir()):
        raise KafkaUnavailable(
            "Chưa cài Maven để tải Apache Kafka: apt-get install maven. / Maven is needed to "
            "fetch Apache Kafka's jars from Maven Central: apt-get install maven"
        )


def jar_dir() -> Path:
    base = os.environ.get("BAOCAO_KAFKA_CACHE")
    root = Path(base) if base else Path.home() / ".cache" / "baocao"
    return root / f"kafka-{version()}"


def _cached(libs: Path) -> bool:
    return (libs / ".complete").exists()


def fetch() -> Path:
    """The directory of the broker's jars, fetched once (one process at a time)."""
    libs = jar_dir()
    if _cached(libs):
        return libs
    require()
    libs.parent.mkdir(parents=True, exist_ok=True)
    with open(libs.parent / f".{libs.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # parallel test processes fetch once
        if _cached(libs):
            return libs
        staging = Path(tempfile.mkdtemp(dir=libs.parent))
        done = subprocess.run(
            [
                "mvn",
                "-q",
                "-B",
                "-f",
                str(POM),
                "dependency:copy-dependencies",
                f"-DoutputDirectory={staging}",
                "-DincludeScope=runtime",
            ],
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            shutil.rmtree(staging, ignore_errors=True)
            tail = (done.stdout + done.stderr).strip().splitlines()[-5:]
            raise KafkaUnavailable(
                "Không tải được Apache Kafka từ Maven Central. / Could not fetch Apache "
                "Kafka from Maven Central:\n" + "\n".join(tail)
            )
        (staging / ".complete").touch()
        shutil.rmtree(libs, ignore_errors=True)
        staging.rename(libs)
    return libs


def properties(host: str, port: int, controller_port: int, log_dir: Path) -> str:
    """A single-node KRaft configuration; replication factors of 1 fit one broker."""
    return "\n".join(
        [
            "process.roles=broker,controller",
            "node.id=1",
            f"controller.quorum.voters=1@{host}:{controller_port}",
            f"listeners=PLAINTEXT://{host}:{port},CONTROLLER://{host}:{controller_port}",
            f"advertised.listeners=PLAINTEXT://{host}:{port}",
            "controller.listener.names=CONTROLLER",
            "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "inter.broker.listener.name=PLAINTEXT",
            f"log.dirs={log_dir}",
            "offsets.topic.replication.factor=1",
            "transaction.state.log.replication.factor=1",
            "transaction.state.log.min.isr=1",
            "share.coordinator.state.topic.replication.factor=1",
            "share.coordinator.state.topic.min.isr=1",
            # A group forms as soon as its first member joins (3 s by default): tests
            # and `baocao up` start workers one by one.
            "group.initial.rebalance.delay.ms=0",
            # As in production (docker-compose.yml): every topic is declared, none appears
            # by accident with the broker's own partition count.
            "auto.create.topics.enable=false",
            "",
        ]
    )


def cluster_id() -> str:
    """A random KRaft cluster id (22 characters of URL-safe base64), never starting with "-".

    `kafka-storage format -t -Xy…` reads an id starting with "-" as an option and fails
    ("expected one argument"), one format in 64; Kafka's own ``Uuid.randomUuid`` draws
    again for the same reason.
    """
    while True:
        found = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not found.startswith("-"):
            return found


def spawn(
    host: str, port: int, controller_port: int, work: Path, out: IO[bytes] | int | None
) -> subprocess.Popen[bytes]:
    """Format a fresh log directory under ``work`` and start the broker on it."""
    libs = fetch()
    java = shutil.which("java") or "java"
    config = work / "server.properties"
    config.write_text(properties(host, port, controller_port, work / "data"))
    classpath = ["-cp", f"{libs}/*", f"-Dlog4j2.configurationFile={LOG_CONFIG}"]
    formatted = subprocess.run(
        [
            java,
            *JVM_OPTIONS,
            *classpath,
            "kafka.tools.StorageTool",
            "format",
            "-t",
            cluster_id(),
            "-c",
            str(config),
        ],
        capture_output=True,
        text=True,
    )
    if formatted.returncode != 0:
        raise KafkaUnavailable(f"kafka-storage format failed: {formatted.stderr[-500:]}")
    return procs.spawn([java, *JVM_OPTIONS, *classpath, "kafka.Kafka", str(config)], out)
