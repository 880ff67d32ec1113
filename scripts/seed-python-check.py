#!/usr/bin/env python3
"""The seed lecture's heartbeat and protected-room tests, run by hand with real Python clients against a
running `switchboard` (not part of CI: it needs Debian's python3-websocket and python3-websockets).

    echo '{"channels":[{"pattern":"protected/*","permissions":{"subscribe":"claims"}}]}' > /tmp/rules.json
    SWITCHBOARD_JWT_SECRET='switchboard-test-secret-0123456789-abcdefghijklm' \
    SWITCHBOARD_ALLOW_ANONYMOUS=true SWITCHBOARD_FIRST_MESSAGE_AUTH=false \
      npx switchboard --port 8080 --heartbeat-interval-ms 1000 --heartbeat-timeout-ms 3000 \
      --config /tmp/rules.json &
    /usr/bin/python3 scripts/seed-python-check.py ws://127.0.0.1:8080

Expected (the defaults): both heartbeat checks end in about 3 to 4 s (close 4000 `heartbeat timeout`);
no token 401, a token that may not join 403, an expired token 401, all at connect; a token that may join
gets its message back.
"""
import asyncio
import base64
import hashlib
import hmac
import json
import sys
import time

import websocket  # websocket-client: answers protocol pings itself
import websockets  # answers protocol pings and sends its own

URL = sys.argv[1]
SECRET = b'switchboard-test-secret-0123456789-abcdefghijklm'


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b'=').decode()


def token(sub, channels=None, exp_in=3600):
    head = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    claims = {"sub": sub, "exp": int(time.time()) + exp_in}
    if channels is not None:
        claims["channels"] = channels
    body = b64(json.dumps(claims).encode())
    sig = b64(hmac.new(SECRET, f"{head}.{body}".encode(), hashlib.sha256).digest())
    return f"{head}.{body}.{sig}"


def test_heartbeat_timeout_closes_connection():
    started = time.time()
    ws = websocket.create_connection(f"{URL}/ws/general")
    assert json.loads(ws.recv())["type"] == "ping"
    try:
        while ws.recv():  # never answers; recv() returns '' or raises once the server closes
            pass
    except websocket.WebSocketConnectionClosedException:
        pass
    print("websocket-client: the server closed the connection after %.2f s" % (time.time() - started))


async def test_with_own_protocol_pings():
    started = time.time()
    async with websockets.connect(f"{URL}/ws/general", ping_interval=0.3, ping_timeout=5) as ws:
        assert json.loads(await ws.recv())["type"] == "ping"
        try:
            while True:
                await ws.recv()
        except websockets.ConnectionClosed as closed:
            print("websockets (own pings every 0.3 s): closed %s %s after %.2f s"
                  % (closed.code, closed.reason, time.time() - started))


def test_protected_room():
    cases = [("no token", None), ("may not join", token("mallory")),
             ("expired", token("alice", ["protected/*"], -60)), ("may join", token("alice", ["protected/*"]))]
    for name, tok in cases:
        url = f"{URL}/ws/protected/general" + ("" if tok is None else f"?token={tok}")
        try:
            ws = websocket.create_connection(url, timeout=3)
            ws.send(json.dumps({"type": "message", "text": "authenticated hello"}))
            print(f"{name}: connected; echo {json.loads(ws.recv()).get('text')!r}")
            ws.close()
        except websocket.WebSocketBadStatusException as refused:
            print(f"{name}: refused at connect with HTTP {refused.status_code}")


test_heartbeat_timeout_closes_connection()
asyncio.run(test_with_own_protocol_pings())
test_protected_room()
