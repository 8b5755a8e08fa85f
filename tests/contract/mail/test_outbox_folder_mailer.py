from __future__ import annotations

from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from adapters.mail import OutboxFolderMailer
from platform_core.notifications.model import Attachment, MailMessage
from platform_core.notifications.ports import MailDeliveryError

from .support import SENDER

MESSAGE_ID = "0f8a4c1e-5d7b-4e0a-9a51-3c2b1d6e7f80"

GREETING = MailMessage(
    to="zoe@example.org",
    subject="Bestätigen Sie Ihre Adresse ✓",
    text="Grüße, Zoë!\n\nÖffnen Sie den Link: https://app.test/verify-email?token=a1\n",
    html='<p>Grüße, Zoë!</p><p><a href="https://app.test/verify-email?token=a1">'
    "Bestätigen</a></p>",
)


def read_eml(path: Path) -> EmailMessage:
    message = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
    assert isinstance(message, EmailMessage)
    return message


def body(message: EmailMessage, subtype: str) -> str:
    part = message.get_body((subtype,))
    assert isinstance(part, EmailMessage)
    content: str = part.get_content()
    return content.replace("\r\n", "\n").rstrip("\n")


def files_in(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir())


async def test_message_is_written_as_a_complete_eml_file(tmp_path: Path) -> None:
    mailer = OutboxFolderMailer(tmp_path, SENDER)

    await mailer.send(GREETING, message_id=MESSAGE_ID)

    written = read_eml(tmp_path / f"{MESSAGE_ID}.eml")
    assert written["From"] == SENDER
    assert written["To"] == "zoe@example.org"
    assert written["Subject"] == GREETING.subject
    assert written["Message-ID"] == f"<{MESSAGE_ID}@platform.test>"
    assert parsedate_to_datetime(written["Date"]).tzinfo is not None
    assert written.get_content_type() == "multipart/alternative"
    assert body(written, "plain") == GREETING.text.rstrip("\n")
    assert body(written, "html") == GREETING.html
    assert {part.get_content_charset() for part in written.iter_parts()} == {"utf-8"}


async def test_lines_end_with_crlf_as_rfc_5322_requires(tmp_path: Path) -> None:
    await OutboxFolderMailer(tmp_path, SENDER).send(GREETING, message_id=MESSAGE_ID)

    raw = (tmp_path / f"{MESSAGE_ID}.eml").read_bytes()
    assert raw.count(b"\r\n") == raw.count(b"\n")


async def test_missing_folders_are_created(tmp_path: Path) -> None:
    folder = tmp_path / "var" / "outbox"

    await OutboxFolderMailer(folder, SENDER).send(GREETING, message_id=MESSAGE_ID)

    assert (folder / f"{MESSAGE_ID}.eml").is_file()


async def test_writing_the_same_message_twice_leaves_one_file(tmp_path: Path) -> None:
    mailer = OutboxFolderMailer(tmp_path, SENDER)

    await mailer.send(GREETING, message_id=MESSAGE_ID)
    await mailer.send(GREETING, message_id=MESSAGE_ID)

    assert files_in(tmp_path) == [f"{MESSAGE_ID}.eml"]


async def test_each_message_gets_its_own_file_and_no_temporary_file_remains(
    tmp_path: Path,
) -> None:
    mailer = OutboxFolderMailer(tmp_path, SENDER)

    for number in range(3):
        await mailer.send(GREETING, message_id=f"message-{number}")

    assert files_in(tmp_path) == [
        "message-0.eml",
        "message-1.eml",
        "message-2.eml",
    ]


async def test_files_are_readable_by_their_owner_only(tmp_path: Path) -> None:
    await OutboxFolderMailer(tmp_path, SENDER).send(GREETING, message_id=MESSAGE_ID)

    assert (tmp_path / f"{MESSAGE_ID}.eml").stat().st_mode & 0o077 == 0


async def test_attachments_follow_the_two_bodies(tmp_path: Path) -> None:
    mail = MailMessage(
        to=GREETING.to,
        subject=GREETING.subject,
        text=GREETING.text,
        html=GREETING.html,
        attachments=(Attachment("certificate.pdf", "application/pdf", b"%PDF-1.7"),),
    )

    await OutboxFolderMailer(tmp_path, SENDER).send(mail, message_id=MESSAGE_ID)

    written = read_eml(tmp_path / f"{MESSAGE_ID}.eml")
    assert written.get_content_type() == "multipart/mixed"
    assert body(written, "plain") == GREETING.text.rstrip("\n")
    [attachment] = written.iter_attachments()
    assert isinstance(attachment, EmailMessage)
    assert attachment.get_filename() == "certificate.pdf"
    assert attachment.get_content() == b"%PDF-1.7"


async def test_written_mail_is_logged_with_path_and_recipient_domain_only(
    tmp_path: Path,
) -> None:
    with capture_logs() as logs:
        await OutboxFolderMailer(tmp_path, SENDER).send(GREETING, message_id=MESSAGE_ID)

    [entry] = [e for e in logs if e["event"] == "mail.outbox.written"]
    assert entry["path"] == str(tmp_path / f"{MESSAGE_ID}.eml")
    assert entry["recipient_domain"] == "example.org"
    assert "zoe@example.org" not in repr(logs)


async def test_unwritable_folder_raises_mail_delivery_error(tmp_path: Path) -> None:
    blocker = tmp_path / "outbox"
    blocker.write_text("a file where the folder should be")
    mailer = OutboxFolderMailer(blocker, SENDER)

    with capture_logs() as logs, pytest.raises(MailDeliveryError):
        await mailer.send(GREETING, message_id=MESSAGE_ID)

    assert [e["event"] for e in logs] == ["mail.outbox.failed"]


@pytest.mark.parametrize("message_id", ["../escape", "a/b", ".hidden", ""])
async def test_message_ids_that_are_not_plain_names_are_refused(
    tmp_path: Path, message_id: str
) -> None:
    mailer = OutboxFolderMailer(tmp_path / "outbox", SENDER)

    with pytest.raises(ValueError, match="message id"):
        await mailer.send(GREETING, message_id=message_id)

    assert not (tmp_path / "escape.eml").exists()


@pytest.mark.parametrize("sender", ["Platform", "Platform <no-reply>", ""])
def test_sender_without_a_domain_is_refused_at_start_up(
    tmp_path: Path, sender: str
) -> None:
    with pytest.raises(ValueError, match="sender"):
        OutboxFolderMailer(tmp_path, sender)
