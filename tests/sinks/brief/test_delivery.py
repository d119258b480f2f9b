"""Delivery of each new version: e-mail with the PDF and DOCX to a real SMTP server
(aiosmtpd), a signed webhook with a link to a local HTTP server; once, across restarts."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from baocao.broker import free_port
from contract.clock import ManualClock
from contract.datasets import Catalog
from contract.registry import Registry
from contract.settings import Settings
from sinks.brief.archive import NATIONAL, Archive, Version
from sinks.brief.deliver import Deliverer, subject
from sinks.brief.maker import BriefMaker
from sinks.brief.service import BriefService
from sinks.notify.channels import signature
from tests.sinks.brief import replay
from tests.sinks.brief.beside import BRIEF_AT, after, arrive, held_back, own_database
from warehouse.client import Warehouse

TN, DAY = replay.THAI_NGUYEN, replay.DAY
SECRET = "brief-s3cret"
TO = ["bcd@thainguyen.gov.vn", "syt@thainguyen.gov.vn"]


class Inbox:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


class Hook:
    """A webhook receiver; answers 500 while ``failing``."""

    def __init__(self) -> None:
        self.calls: list[tuple[dict[str, str], bytes]] = []
        self.failing = False
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.calls.append((dict(self.headers), body))
                self.send_response(500 if outer.failing else 204)
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/briefs-in"


@dataclass
class World:
    settings: Settings
    archive: Archive
    maker: BriefMaker
    clock: ManualClock
    inbox: Inbox
    hook: Hook
    wh: Warehouse


@pytest.fixture
def world(
    warehouse: Warehouse, registry: Registry, replayed: replay.Replayed, tmp_path: Path
) -> Iterator[World]:
    inbox, hook = Inbox(), Hook()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings = Settings(
        brief_dir=tmp_path / "briefs",
        brief_base_url="https://baocao.thainguyen.gov.vn",
        brief_recipients={TN: {"email": TO, "webhook": hook.url}},
        notify_smtp_host="127.0.0.1",
        notify_smtp_port=controller.port,
        notify_smtp_from="baocao@thainguyen.gov.vn",
        notify_webhook_secret=SECRET,
        notify_retries=1,
        notify_backoff_seconds=0.01,
        notify_dead_letter_path=tmp_path / "dead.jsonl",
    )
    try:
        with own_database(warehouse, registry, replayed) as wh:
            archive = Archive(settings.brief_dir, wh)
            clock = ManualClock(BRIEF_AT)
            maker = BriefMaker(wh, registry, Catalog.load(), archive, replay.TZ, clock)
            yield World(settings, archive, maker, clock, inbox, hook, wh)
    finally:
        controller.stop()
        hook.server.shutdown()


def deliverer(w: World) -> Deliverer:
    """What `baocao brief-service` builds: files fetched from the archive."""

    def fetch(version: Version, fmt: str) -> bytes:
        path = w.archive.file(version.area, version.report_date, f"v{version.version}.{fmt}")
        assert path is not None
        return path.read_bytes()

    return Deliverer(w.settings, Registry.load(), fetch)


def test_email_carries_pdf_and_docx_and_the_webhook_a_link_once_per_version(
    world: World, replayed: replay.Replayed
) -> None:
    first = world.maker.make(TN, DAY)
    assert first is not None
    assert deliverer(world).deliver(first) == {"email": "sent", "webhook": "sent"}

    (mail,) = world.inbox.messages
    assert mail["Subject"] == (
        "Báo cáo nhanh COVID-19 tỉnh Thái Nguyên ngày 27/07/2021 (bản 1) / "
        "COVID-19 daily brief, Thái Nguyên province, 27/07/2021 (version 1)"
    )
    assert mail["To"] == ", ".join(TO)
    files = {part.get_filename(): part for part in mail.iter_attachments()}
    assert set(files) == {
        "bao-cao-nhanh-19-2021-07-27-v1.pdf",
        "bao-cao-nhanh-19-2021-07-27-v1.docx",
    }
    pdf = files["bao-cao-nhanh-19-2021-07-27-v1.pdf"]
    assert pdf.get_content_type() == "application/pdf"
    assert pdf.get_content() == (world.settings.brief_dir / "19/2021-07-27/v1.pdf").read_bytes()
    body = mail.get_body(("plain",))
    assert body is not None
    text = body.get_content()
    assert "https://baocao.thainguyen.gov.vn/briefs/19/2021-07-27/v1.html" in text
    assert text.index("Gửi kèm báo cáo nhanh") < text.index("Attached: the daily brief")

    ((headers, raw),) = world.hook.calls
    assert headers["X-Baocao-Signature"] == signature(SECRET.encode(), raw)
    notice = json.loads(raw)
    assert notice["url"] == "https://baocao.thainguyen.gov.vn/briefs/19/2021-07-27/v1.html"
    assert notice["version"] == 1 and notice["area_name_vi"] == "tỉnh Thái Nguyên"
    assert notice["subject"] == mail["Subject"]

    # Once: again, and after a restart (a new deliverer reads what was sent).
    assert deliverer(world).deliver(first) == {}
    assert len(world.inbox.messages) == 1 and len(world.hook.calls) == 1

    late = held_back(replayed)
    arrive(world.wh, late)
    world.clock.set(after(late))
    second = world.maker.make(TN, DAY)
    assert second is not None
    deliverer(world).deliver(second)
    assert "(bản 2)" in world.inbox.messages[-1]["Subject"]
    assert json.loads(world.hook.calls[-1][1])["version"] == 2


def test_a_failing_webhook_is_dead_lettered_once_and_the_email_still_goes(world: World) -> None:
    world.hook.failing = True
    made = world.maker.make(TN, DAY)
    assert made is not None
    outcome = deliverer(world).deliver(made)
    assert outcome["email"] == "sent" and outcome["webhook"].startswith("failed: ")
    assert len(world.hook.calls) == 2  # the first try and one retry (notify_retries=1)
    (dead,) = [
        json.loads(x) for x in world.settings.notify_dead_letter_path.read_text().splitlines()
    ]
    assert dead["channel"] == "webhook" and dead["brief"]["path"] == "19/2021-07-27/v1"
    assert deliverer(world).deliver(made) == {}, "not retried forever"


def test_an_area_without_recipients_gets_nothing(world: World) -> None:
    made = world.maker.make("20", DAY)
    assert made is not None
    assert deliverer(world).deliver(made) == {}
    assert world.inbox.messages == [] and world.hook.calls == []


def test_the_service_delivers_what_it_makes_and_what_a_crash_left_unsent(world: World) -> None:
    made = world.maker.make(TN, DAY)  # made, then the process died before delivering it
    assert made is not None
    service = BriefService(
        world.settings, Catalog.load(), world.maker, world.clock, deliverer(world)
    )
    assert service.tick() == [] and service.settling, "the first look only takes the marks"
    service.tick()
    subjects = [m["Subject"] for m in world.inbox.messages]
    assert subjects == [subject(made, Registry.load())], "the crash's version, once"
    assert len(service.made) == 5  # the other provinces and the nation, sent to nobody
    assert {v.area for v in service.made} == {"12", "20", "24", "30", NATIONAL}
    service.tick()
    assert len(world.inbox.messages) == 1


def test_the_national_subject_names_the_nation(world: World) -> None:
    made = world.maker.make(NATIONAL, DAY)
    assert made is not None
    assert subject(made, Registry.load()) == (
        "Báo cáo nhanh COVID-19 toàn quốc ngày 27/07/2021 (bản 1) / "
        "COVID-19 daily brief, nationwide, 27/07/2021 (version 1)"
    )
