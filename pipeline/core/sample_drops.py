"""Writes realistic sample log drops (several formats, vendors, a schema rename and a few malformed lines) for the demo."""
from __future__ import annotations

import csv
import gzip
import io
import json
import random
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path

QUESTIONS = [
    "Why was I charged twice for my subscription this month?",
    "How do I reset my password if I no longer have access to my email?",
    "Can I get a refund for the annual plan I bought yesterday?",
    "My invoice shows the wrong company name, can you fix it?",
    "What is the difference between the Pro and Team plans?",
    "The app crashes when I upload a CSV larger than 10 MB.",
    "How do I export all my data before closing the account?",
    "Is there a discount for non-profit organisations?",
]
ANSWERS = [
    "I checked your account and see two charges; the duplicate will be refunded within 5 business days.",
    "You can reset it from the login page using the 'Forgot password' link and your recovery phone.",
    "Annual plans can be refunded within 14 days of purchase; I have opened a refund request for you.",
    "I have updated the company name on your invoices; new invoices will show it from today.",
    "Pro is for individuals; Team adds shared workspaces, SSO and centralized billing.",
    "Thanks for reporting this; uploads above 10 MB need the desktop app for now. I have filed a bug.",
    "Go to Settings > Data > Export; you will receive an archive by email within an hour.",
    "Yes, registered non-profits get 50% off; please send us your registration document.",
]
TOOLS = ["lookup_account", "search_kb", "create_ticket", "issue_refund"]
MODELS = [("gpt-4o-mini-2024-07-18", 0.8), ("gpt-4o-2024-08-06", 0.2)]
SHARED = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "vendors"


def _row(rng: random.Random, i: int, t0: datetime, version: str) -> dict:
    """One support-bot request. v2 (the deploy on day two) is the demo's planted change: slower, wordier, escalates
    three times as often, adds a `sources` key to its JSON answer and no longer searches the knowledge base."""
    v2 = version == "v2"
    q = rng.randrange(len(QUESTIONS))
    model = "gpt-4o-mini-2024-07-18" if rng.random() < MODELS[0][1] else "gpt-4o-2024-08-06"
    escalate = rng.random() < (0.15 if v2 else 0.05)
    answer = {"answer": ANSWERS[q], "escalate": escalate, "confidence": round(rng.uniform(0.55, 0.99), 2)}
    if v2:
        answer["sources"] = ["kb"]
    tools = rng.sample(TOOLS[:3], k=rng.randint(0, 2)) + (["issue_refund"] if q == 2 else [])
    if v2:
        tools = [t for t in tools if t != "search_kb"]
    status = "error" if rng.random() < 0.02 else "ok"
    return {
        "timestamp": (t0 + timedelta(seconds=i * 7 + rng.random())).isoformat().replace("+00:00", "Z"),
        "request_id": f"req_{rng.getrandbits(48):012x}",
        "session": {"id": f"sess_{i // 4:05d}", "user_id": f"user_{rng.randrange(400):04d}"},
        "service": "support-bot",
        "model": model,
        "prompt_version": version,
        "env": "production",
        "prompt": QUESTIONS[q],
        "response": {"text": json.dumps(answer) if status == "ok" else None, "finish_reason": "stop"},
        "latency_ms": round(rng.lognormvariate(6.6, 0.35) * (1.35 if v2 else 1.0), 1),
        "usage": {"prompt_tokens": rng.randint(180, 420),
                  "completion_tokens": round(rng.randint(30, 160) * (1.3 if v2 else 1.0))},
        "status": status,
        "error": "upstream timeout after 30s" if status == "error" else None,
        "tools": tools,
        "outcome": "escalated" if escalate else "resolved",
    }


def _jsonl(rows: list[dict]) -> str:
    return "".join(json.dumps(r) + "\n" for r in rows)


def write_sample_drops(out: str | Path, seed: int = 7, rows_per_drop: int = 2500) -> list[Path]:
    """Create the demo drops under `out`; returns the drop paths (files or folders)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    t0 = datetime(2026, 11, 18, 8, 0, tzinfo=timezone.utc)
    made = []

    rows = [_row(rng, i, t0, "v1") for i in range(rows_per_drop)]
    text = _jsonl(rows).splitlines(keepends=True)
    text.insert(100, '{"timestamp": "2026-11-18T08:12:00Z", "prompt": "truncated rec\n')  # malformed
    text.insert(700, "\x00\x01binary noise\n")
    text.insert(1500, '{"timestamp": "2026-11-18T10:00:00Z", "latency_ms": "fast", "prompt": "hi"}\n')  # bad field
    p = out / "2026-11-18_support-bot.jsonl"
    p.write_text("".join(text), encoding="utf-8")
    made.append(p)

    # next day: the prompt field is renamed to `input` half way through, and the file arrives gzipped
    rows = [_row(rng, i, t0 + timedelta(days=1), "v2") for i in range(rows_per_drop)]
    for r in rows[rows_per_drop // 2:]:
        r["input"] = r.pop("prompt")
    p = out / "2026-11-19_support-bot.jsonl.gz"
    p.write_bytes(gzip.compress(_jsonl(rows).encode()))
    made.append(p)

    # a billing agent exporting CSV (quoted multi-line prompts, one ragged row)
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["created_at", "model", "user_prompt", "completion", "duration_s", "input_tokens", "output_tokens", "status_code"])
    for i in range(rows_per_drop // 2):
        r = _row(rng, i, t0 + timedelta(days=1, hours=3), "v1")
        w.writerow([r["timestamp"], r["model"], r["prompt"] + ',\n"please help"', (r["response"]["text"] or ""),
                    round(r["latency_ms"] / 1000, 3), r["usage"]["prompt_tokens"], r["usage"]["completion_tokens"],
                    500 if r["status"] == "error" else 200])
        if i == 40:
            buf.write("ragged,row\n")
    p = out / "2026-11-19_billing-agent.csv"
    p.write_text(buf.getvalue(), encoding="utf-8")
    made.append(p)

    # a folder drop: OpenAI Batch API output plus a logfmt gateway log
    d = out / "2026-11-20_batch"
    d.mkdir(exist_ok=True)
    lines = []
    for i in range(rows_per_drop // 2):
        r = _row(rng, i, t0 + timedelta(days=2), "v2")
        created = int((t0 + timedelta(days=2, seconds=i * 5)).timestamp())
        body = {"id": f"chatcmpl-{rng.getrandbits(40):x}", "object": "chat.completion", "created": created, "model": r["model"],
                "choices": [{"index": 0, "message": {"role": "assistant", "content": r["response"]["text"] or "", "refusal": None},
                             "finish_reason": "stop", "logprobs": None}],
                "usage": {"prompt_tokens": r["usage"]["prompt_tokens"], "completion_tokens": r["usage"]["completion_tokens"],
                          "total_tokens": r["usage"]["prompt_tokens"] + r["usage"]["completion_tokens"]},
                "system_fingerprint": "fp_demo"}
        lines.append({"id": f"batch_req_{i:06d}", "custom_id": f"request-{i}",
                      "response": {"status_code": 200, "request_id": f"req_{i:06d}", "body": body}, "error": None})
    (d / "batch_output.jsonl").write_text(_jsonl(lines), encoding="utf-8")
    gw = []
    for i in range(rows_per_drop // 2):
        r = _row(rng, i, t0 + timedelta(days=2, hours=1), "v2")
        gw.append(f'ts={r["timestamp"]} level=info service=gateway model={r["model"]} duration_ms={r["latency_ms"]} '
                  f'prompt_tokens={r["usage"]["prompt_tokens"]} completion_tokens={r["usage"]["completion_tokens"]} '
                  f'status={r["status"]} user={r["session"]["user_id"]} msg="{r["prompt"]}"')
    gw.insert(10, "this line is not logfmt at all")
    (d / "gateway.log").write_text("\n".join(gw) + "\n", encoding="utf-8")
    made.append(d)

    # genuine vendor exports, when the fixtures are present (Langfuse agent traces)
    if SHARED.is_dir():
        d = out / "2026-11-21_agent-traces"
        d.mkdir(exist_ok=True)
        for f in sorted(SHARED.glob("*")):
            if f.suffix in (".json", ".jsonl") and "langfuse" in f.name.lower() or f.name.startswith(("agno", "langgraph", "openai-agents")):
                shutil.copy(f, d / f.name)
        if any(d.iterdir()):
            made.append(d)
        else:
            d.rmdir()
    return made
