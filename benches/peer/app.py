"""Comparison peer for tochen's webhook benchmark (web/benches/webhooks.rs): the same signed Meta webhook route,
in FastAPI, on SQLite (stdlib sqlite3) or PostgreSQL (asyncpg). Not part of the product."""

import asyncio
import contextlib
import hashlib
import hmac
import json
import os
import re
import sqlite3
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import asyncpg
from fastapi import FastAPI, Request, Response

SECRET = os.environ["META_APP_SECRET"].encode()
DATABASE_URL = os.environ["PEER_DATABASE_URL"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS webhook_events (id TEXT PRIMARY KEY, source TEXT NOT NULL, event_key TEXT NOT NULL,
  tenant_id TEXT, payload TEXT NOT NULL, status TEXT NOT NULL DEFAULT 'received', received_at BIGINT NOT NULL,
  processed_at BIGINT, UNIQUE (source, event_key));
CREATE INDEX IF NOT EXISTS webhook_events_received ON webhook_events (received_at);
CREATE TABLE IF NOT EXISTS jobs (id TEXT PRIMARY KEY, tenant_id TEXT, kind TEXT NOT NULL,
  payload TEXT NOT NULL DEFAULT '{}', run_at BIGINT NOT NULL, attempts BIGINT NOT NULL DEFAULT 0,
  max_attempts BIGINT NOT NULL DEFAULT 8, state TEXT NOT NULL DEFAULT 'queued', lease_owner TEXT,
  lease_expires_at BIGINT, last_error TEXT, unique_key TEXT UNIQUE, concurrency_key TEXT,
  created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL, finished_at BIGINT);
CREATE INDEX IF NOT EXISTS jobs_due ON jobs (state, run_at);
CREATE INDEX IF NOT EXISTS jobs_lease ON jobs (state, lease_expires_at);
"""
INSERT_EVENT = """INSERT INTO webhook_events (id, source, event_key, tenant_id, payload, status, received_at)
  VALUES ($1, 'meta', $2, NULL, $3, 'received', $4) ON CONFLICT (source, event_key) DO NOTHING"""
INSERT_JOB = """INSERT INTO jobs (id, tenant_id, kind, payload, run_at, attempts, max_attempts, state, unique_key,
  concurrency_key, created_at, updated_at) VALUES ($1, NULL, 'webhook.event', $2, $3, 0, 8, 'queued', $4, NULL, $3, $3)
  ON CONFLICT (unique_key) DO NOTHING"""


def job_row(event_id: str, now: int) -> tuple:
    payload = json.dumps({"event_id": event_id}, separators=(",", ":"))
    return (str(uuid.uuid4()), payload, now, f"webhook.event:{event_id}")


class SqliteStore:
    """One connection, used by one dedicated thread: writes are serialised, as SQLite does anyway."""

    def __init__(self, path: str):
        self.pool = ThreadPoolExecutor(max_workers=1)
        self.conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.conn.executescript("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=10000;")
        self.conn.executescript(SCHEMA)
        self.ins_event, self.ins_job = (re.sub(r"\$(\d)", r"?\1", q) for q in (INSERT_EVENT, INSERT_JOB))

    def _record(self, key: str, body: str) -> bool:
        event_id, now = str(uuid.uuid4()), int(time.time() * 1000)
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            new = self.conn.execute(self.ins_event, (event_id, key, body, now)).rowcount == 1
            if new:
                self.conn.execute(self.ins_job, job_row(event_id, now))
            self.conn.execute("COMMIT")
            return new
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise

    async def record(self, key: str, body: str) -> bool:
        return await asyncio.get_running_loop().run_in_executor(self.pool, self._record, key, body)

    async def close(self):
        self.pool.shutdown()
        self.conn.close()


class PostgresStore:
    """An asyncpg pool of 5 connections (tochen's bench uses 5 too); statements are prepared and cached per connection."""

    @classmethod
    async def open(cls, url: str):
        self = cls()
        self.pool = await asyncpg.create_pool(url, min_size=5, max_size=5)
        async with self.pool.acquire() as conn:
            await conn.execute(SCHEMA)
        return self

    async def record(self, key: str, body: str) -> bool:
        event_id, now = str(uuid.uuid4()), int(time.time() * 1000)
        async with self.pool.acquire() as conn, conn.transaction():
            new = await conn.execute(INSERT_EVENT, event_id, key, body, now) == "INSERT 0 1"
            if new:
                await conn.execute(INSERT_JOB, *job_row(event_id, now))
        return new

    async def close(self):
        await self.pool.close()


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI):
    if DATABASE_URL.startswith("sqlite://"):
        app.state.store = SqliteStore(DATABASE_URL.removeprefix("sqlite://").split("?")[0])
    else:
        app.state.store = await PostgresStore.open(DATABASE_URL)
    yield
    await app.state.store.close()


app = FastAPI(lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)


def signature_ok(header: str, body: bytes) -> bool:
    given = header.strip()
    if not given.startswith("sha256="):
        return False
    try:
        sig = bytes.fromhex(given.removeprefix("sha256="))
    except ValueError:
        return False
    return hmac.compare_digest(hmac.new(SECRET, body, hashlib.sha256).digest(), sig)


def well_formed(body: bytes) -> str | None:
    try:
        text = body.decode("utf-8")
        v = json.loads(text)
    except ValueError:  # UnicodeDecodeError and JSONDecodeError are both ValueErrors
        return None
    ok = isinstance(v, dict) and isinstance(v.get("object"), str) and isinstance(v.get("entry"), list)
    return text if ok else None


@app.get("/health")
async def health() -> Response:
    return Response("ok", media_type="text/plain")


@app.post("/webhooks/meta")
async def meta_event(request: Request) -> Response:
    body = await request.body()
    header = request.headers.get("x-hub-signature-256")
    if header is None:
        return Response(status_code=401)
    if not signature_ok(header, body):
        return Response(status_code=403)
    text = well_formed(body)
    if text is None:
        return Response(status_code=400)
    try:
        await request.app.state.store.record(hashlib.sha256(body).hexdigest(), text)
    except (sqlite3.Error, asyncpg.PostgresError, asyncpg.InterfaceError, OSError):
        return Response(status_code=503)
    return Response("ok", media_type="text/plain")
