"""An embedded stack for one benchmark run: Tansu plus the real `baocao` processes."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from pathlib import Path

from kafka import KafkaProducer

from baocao.embedded_stack import PARTITIONS, EmbeddedStack

__all__ = ["PARTITIONS", "BenchStack"]

#: Where `python -m bench.…` children find the bench package (it is not installed).
REPO_ROOT = Path(__file__).resolve().parents[1]


class BenchStack(EmbeddedStack):
    """A broker and the processes a benchmark starts against it, counted as they go."""

    def __init__(self, root: Path, env: dict[str, str] | None = None) -> None:
        path = os.pathsep.join(filter(None, [str(REPO_ROOT), os.getenv("PYTHONPATH")]))
        super().__init__(root, {"PYTHONPATH": path, **(env or {})})

    def publish(self, topic: str, messages: Sequence[tuple[bytes, bytes]]) -> None:
        """Publish (key, value) pairs as they are, batched, acks=all, all confirmed."""
        producer = KafkaProducer(
            bootstrap_servers=self.bootstrap, acks="all", linger_ms=5, batch_size=256 * 1024
        )
        try:
            sends = [producer.send(topic, key=key, value=value) for key, value in messages]
            producer.flush(timeout=120)
            for sent in sends:
                sent.get(timeout=30)
        finally:
            producer.close(timeout=30)

    def start_warehouse(self) -> subprocess.Popen[bytes]:
        return self.start_process("warehouse")

    def decided(self) -> int | None:
        """Reports the warehouse holds a decision for (accepted rows + rejections)."""
        status = self.status()
        if status is None:
            return None
        rows = status["rows"]
        return int(rows["reports"]) + int(rows["rejections"])
