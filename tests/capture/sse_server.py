"""A loopback OpenAI-wire server for many concurrent calls, in its own process so its work never runs on the
client's event loop: `python -m tests.capture.sse_server [WORDS [WORD]]` prints its port, then serves
`/v1/chat/completions` (JSON, or an SSE stream of WORDS content chunks, "Hello" then " WORD" each, each sent as its
own HTTP chunk) until its stdin closes. Stdlib asyncio only: HTTP/1.1 keep-alive, no request validation beyond what the wrapper tests need."""
from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

MODEL = "gpt-4o-2024-08-06"
USAGE = {"prompt_tokens": 11, "completion_tokens": 4, "total_tokens": 15}


def sse_events(words: int, word: str = "there") -> list[bytes]:
    """The SSE events of one streamed reply: a role chunk, `words` content chunks, a finish chunk, [DONE]."""
    def chunk(delta: dict, finish: str | None = None) -> dict:
        return {"id": "chatcmpl-s", "object": "chat.completion.chunk", "created": 1, "model": MODEL,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
    chunks = [chunk({"role": "assistant", "content": ""})]
    chunks += [chunk({"content": ("Hello" if i == 0 else " " + word)}) for i in range(words)]
    chunks.append(chunk({}, "stop"))
    return [f"data: {json.dumps(c)}\n\n".encode() for c in chunks] + [b"data: [DONE]\n\n"]


def reply_text(words: int, word: str = "there") -> str:
    return "Hello" + f" {word}" * (words - 1)


async def _handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, events: list[bytes]) -> None:
    plain = json.dumps({"id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": MODEL,
                        "usage": USAGE, "choices": [{"index": 0, "finish_reason": "stop",
                                                     "message": {"role": "assistant", "content": "Hello"}}]}).encode()
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            body = await reader.readexactly(length)
            if b'"stream":true' not in body.replace(b" ", b""):
                writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: "
                             + str(len(plain)).encode() + b"\r\n\r\n" + plain)
                await writer.drain()
                continue
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n")
            for ev in events:  # one HTTP chunk per event, yielding between them: the client reads a real stream
                writer.write(b"%x\r\n%s\r\n" % (len(ev), ev))
                await writer.drain()
                await asyncio.sleep(0)
            writer.write(b"0\r\n\r\n")
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError, ValueError):
        pass
    finally:
        writer.close()


async def _serve(words: int, word: str) -> None:
    events = sse_events(words, word)
    server = await asyncio.start_server(lambda r, w: _handle(r, w, events), "127.0.0.1", 0, backlog=4096)
    print(server.sockets[0].getsockname()[1], flush=True)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.read)  # serve until the parent closes our stdin
    os._exit(0)  # at once: open keep-alive connections are the client's to drop


class ServerProcess:
    """`with ServerProcess(words, word) as base_url:` the server in a child process, stopped on exit."""

    def __init__(self, words: int = 3, word: str = "there") -> None:
        self.words, self.word = words, word
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> str:
        root = Path(__file__).resolve().parents[2]
        self.proc = subprocess.Popen([sys.executable, "-m", "tests.capture.sse_server", str(self.words), self.word],
                                     cwd=str(root), stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        port = int(self.proc.stdout.readline())
        return f"http://127.0.0.1:{port}/v1"

    def __exit__(self, *exc) -> None:
        self.proc.stdin.close()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


if __name__ == "__main__":
    asyncio.run(_serve(int(sys.argv[1]) if len(sys.argv) > 1 else 3, sys.argv[2] if len(sys.argv) > 2 else "there"))
