"""Drives Python slack_sdk against the emulator; prints one JSON line of figures.

usage: sdk_python.py URL TOKEN MODE SECONDS [CONCURRENCY]
MODE: seq (sync WebClient, one call after another), conc (AsyncWebClient, CONCURRENCY workers),
walk (response iteration over admin.users.session.list, limit 1000).
"""
import asyncio, json, sys, time

from slack_sdk import WebClient
from slack_sdk.web.async_client import AsyncWebClient

url, token, mode, seconds = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
conc = int(sys.argv[5]) if len(sys.argv) > 5 else 32
USER = ["W00000001"]
MAX_CALLS = 200_000

if mode == "seq":
    client = WebClient(token=token, base_url=url)
    calls, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds and calls < MAX_CALLS:
        client.admin_users_session_getSettings(user_ids=USER)
        calls += 1
    print(json.dumps({"calls": calls, "seconds": time.perf_counter() - start}))
elif mode == "conc":
    async def main():
        client = AsyncWebClient(token=token, base_url=url)
        start = time.perf_counter()
        counts = [0] * conc

        async def worker(i):
            while time.perf_counter() - start < seconds and counts[i] < MAX_CALLS // conc:
                await client.admin_users_session_getSettings(user_ids=USER)
                counts[i] += 1

        await asyncio.gather(*(worker(i) for i in range(conc)))
        return sum(counts), time.perf_counter() - start

    calls, elapsed = asyncio.run(main())
    print(json.dumps({"calls": calls, "seconds": elapsed}))
elif mode == "walk":
    client = WebClient(token=token, base_url=url, timeout=120)
    sessions, start = 0, time.perf_counter()
    for page in client.admin_users_session_list(limit=1000):
        sessions += len(page["active_sessions"])
        if time.perf_counter() - start > 300:
            break
    print(json.dumps({"sessions": sessions, "seconds": time.perf_counter() - start}))
else:
    sys.exit(f"unknown mode {mode}")
