"""Email for a notification: a plain-text part and an HTML part, the same words in each."""

from __future__ import annotations

import html
from email.message import EmailMessage

from movieverse.services.notifications.models import Notification

TEXT = """{title}

{body}

{link}

--
You get these emails because email notifications are on in your MovieVerse settings.
Turn them off at {site}/users/me/preferences.
"""

HTML = """<!doctype html>
<html lang="en"><body style="font-family: sans-serif; line-height: 1.5">
<h1 style="font-size: 1.2em">{title}</h1>
<p>{body}</p>
<p><a href="{link}">{link}</a></p>
<hr><p style="color: #666; font-size: 0.9em">You get these emails because email notifications
are on in your MovieVerse settings. <a href="{site}/users/me/preferences">Turn them off</a>.</p>
</body></html>
"""


def link_for(notification: Notification, site: str) -> str:
    movie_id = notification.data.get("movie_id")
    return f"{site}/movies/{movie_id}" if movie_id else f"{site}/notifications"


def email_message(notification: Notification, *, to: str, sender: str, site: str) -> EmailMessage:
    site = site.rstrip("/")
    link = link_for(notification, site)
    message = EmailMessage()
    message["Subject"] = notification.title
    message["From"] = sender
    message["To"] = to
    message["Message-ID"] = f"<{notification.id}@movieverse>"
    message.set_content(
        TEXT.format(title=notification.title, body=notification.body, link=link, site=site)
    )
    # Every value is escaped: titles carry user names and movie titles.
    paragraphs = "<br>".join(html.escape(line) for line in notification.body.splitlines())
    message.add_alternative(
        HTML.format(
            title=html.escape(notification.title),
            body=paragraphs,
            link=html.escape(link, quote=True),
            site=html.escape(site, quote=True),
        ),
        subtype="html",
    )
    return message
