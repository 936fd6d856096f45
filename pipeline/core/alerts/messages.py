"""Message bodies: Slack Block Kit (one alert, or a digest of warnings) with fallback text, and webhook JSON bytes."""
from __future__ import annotations

import json
from datetime import datetime, timezone

from .dedup import Notification
from .findings import clip

LABEL = {"new": "", "escalated": "Escalated to critical: ", "renotify": "Still open: ", "resolved": "Resolved: "}
EMOJI = {"critical": ":rotating_light:", "warning": ":warning:", "resolved": ":white_check_mark:"}
MAX_BLOCKS, SECTION_LIMIT, HEADER_LIMIT = 50, 3000, 150
WEBHOOK_VERSION = 1


def escape(text) -> str:
    """Slack mrkdwn control characters; everything else (unicode, emoji) passes through."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _emoji(n: Notification) -> str:
    return EMOJI["resolved" if n.action == "resolved" else n.severity]


def _where(n: Notification) -> str:
    return ", ".join(f"{k}={v}" for k, v in n.finding.where.items()) or "—"


def _label(n: Notification) -> str:
    if n.action == "escalated" and n.previous_severity:
        return f"Escalated {n.previous_severity} → {n.severity}: "
    return LABEL[n.action]


def fallback_text(n: Notification) -> str:
    return clip(f"[{n.severity.upper()}] {_label(n)}{n.finding.title} ({_where(n)})", 1000)


def _link_parts(n: Notification) -> tuple[list[dict], list[str]]:
    """Web links become buttons; paths (a local artifacts folder) are listed as text."""
    buttons, paths = [], []
    names = {"dagster": "Open in Dagster", "report": "Report"}
    for name, url in n.finding.links.items():
        if url.startswith(("http://", "https://")) and len(url) <= 3000:
            buttons.append({"type": "button", "text": {"type": "plain_text", "text": names.get(name, name)[:75]},
                            "url": url, "action_id": f"strata-{name}"[:255]})
        else:
            paths.append(f"{name}: `{escape(clip(url, 500))}`")
    return buttons, paths


def slack_alert(n: Notification) -> tuple[str, list[dict]]:
    """One notification as (fallback text, blocks)."""
    f = n.finding
    blocks: list[dict] = [
        {"type": "header", "text": {"type": "plain_text", "text": clip(f"{_label(n)}{f.title}", HEADER_LIMIT),
                                    "emoji": True}},
        {"type": "section", "fields": [
            {"type": "mrkdwn", "text": clip(f"*Severity*\n{_emoji(n)} {f.severity}", 2000)},
            {"type": "mrkdwn", "text": clip(f"*Kind*\n{f.kind}", 2000)},
            {"type": "mrkdwn", "text": clip(f"*Where*\n{escape(_where(n))}", 2000)},
            {"type": "mrkdwn", "text": clip(f"*How bad*\n{escape(f.how_bad)}", 2000)}]},
    ]
    buttons, paths = _link_parts(n)
    lines = [f"• {escape(e)}" for e in f.evidence] + paths
    if lines:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": clip("\n".join(lines), SECTION_LIMIT)}})
    if buttons:
        blocks.append({"type": "actions", "elements": buttons[:5]})
    blocks.append({"type": "context", "elements": [
        {"type": "mrkdwn", "text": clip(f"strata · `{escape(n.key)}` · {n.action}"
                                        + (f" · observed {f.observed_at}" if f.observed_at else ""), 2000)}]})
    return fallback_text(n), blocks


def slack_digest(notifications: list[Notification]) -> tuple[str, list[dict]]:
    """Several notifications as one message (a warning digest, or the summary of a storm of critical findings); beyond
    Slack's block limit the rest is counted."""
    opened = sum(n.action != "resolved" for n in notifications)
    word = "critical finding(s)" if any(n.severity == "critical" for n in notifications) else "warning(s)"
    head = f"{opened} {word} open, {len(notifications) - opened} resolved"
    blocks: list[dict] = [{"type": "header", "text": {"type": "plain_text", "text": f"Strata digest: {head}"}}]
    room = MAX_BLOCKS - 2
    for n in notifications[:room]:
        first = n.finding.evidence[0] if n.finding.evidence else ""
        link = next((u for u in n.finding.links.values() if u.startswith(("http://", "https://"))), None)
        title = escape(f"{_label(n)}{n.finding.title}")
        text = (f"{_emoji(n)} *{f'<{link}|{title}>' if link else title}*\n"
                f"{escape(_where(n))} · {escape(n.finding.how_bad)}" + (f"\n{escape(first)}" if first else ""))
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": clip(text, SECTION_LIMIT)}})
    if len(notifications) > room:
        blocks.append({"type": "context", "elements": [
            {"type": "mrkdwn", "text": f"… and {len(notifications) - room} more"}]})
    text = f"Strata: {head}: " + "; ".join(n.finding.title for n in notifications[:20])
    return clip(text, 3000), blocks


def webhook_payload(notifications: list[Notification], sent_at: datetime | None = None) -> dict:
    sent = (sent_at or datetime.now(timezone.utc)).isoformat()
    return {
        "source": "strata", "version": WEBHOOK_VERSION, "sent_at": sent,
        "type": "digest" if len(notifications) > 1 else "alert",
        "notifications": [{
            "id": n.id, "key": n.key, "action": n.action, "severity": n.severity,
            "previous_severity": n.previous_severity, "since": n.since.isoformat(), "how_bad": n.finding.how_bad,
            **{k: v for k, v in n.finding.to_dict().items() if k not in ("key", "severity")},
        } for n in notifications],
    }


def webhook_body(notifications: list[Notification], sent_at: datetime | None = None) -> bytes:
    """The exact bytes to sign and send (UTF-8 JSON; NaN never reaches it, findings hold only finite numbers)."""
    return json.dumps(webhook_payload(notifications, sent_at), ensure_ascii=False, allow_nan=False,
                      separators=(",", ":"), default=str).encode("utf-8")
