"""Mailers: `.eml` files in an outbox folder for development, SMTP for production."""

from adapters.mail.message import build_email
from adapters.mail.outbox_folder import OutboxFolderMailer
from adapters.mail.smtp import SmtpMailer, SmtpSettings

__all__ = ["OutboxFolderMailer", "SmtpMailer", "SmtpSettings", "build_email"]
