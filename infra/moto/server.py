"""Serve moto's DynamoDB single-threaded.

Stock moto_server is threaded and does not lock between reading an item,
checking a condition and writing it, so concurrent conditional updates and
transactions are occasionally lost. Served one request at a time, moto's
conditions hold as DynamoDB's do. Used by `make run` and by the tests
(infra/localdb starts it on a free loopback port and stops it by its PID).

TransactWriteItems is patched to back up only the items a transaction
names instead of deep-copying every table it touches (see
_patch_transact_write_items), so a transaction costs the same whatever the
size of its tables. Query on a table's key is patched to read only the
partition it names instead of sorting every item of the table (see
_patch_query), so it costs the size of that partition. TransactWriteItems
honours ClientRequestToken as DynamoDB does (see
_patch_client_request_token), so an SDK retry never applies a transaction
twice. With MOTO_CONTENTION set, transactions conflict and hot items are
throttled as in DynamoDB (see _patch_contention).
"""
import argparse
import collections
import copy
import hashlib
import inspect
import json
import logging
import os
import signal
import sys
import time
import types

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, run_simple
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
import moto.dynamodb.models as dynamodb_models
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.models.table import Table
from moto.dynamodb.exceptions import DynamodbException, TransactionCanceledException
from moto.dynamodb.responses import DynamoHandler


class QuietHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs):
        pass


# Why: moto's DynamoDBBackend.transact_write_items (5.2.1) starts with
#     original_table_state[name] = copy.deepcopy(self.tables[name])
# for every operation of the transaction, and on failure puts the copies
# back in self.tables. Each TransactWriteItems therefore copies whole
# tables, once per operation, and gets slower as they grow: under load a
# single-threaded server's queue then outlasts the authorizer's 3 s budget.
# A transaction can only change the items it names (one per operation, by
# key) and the table's stream shard, so backing those up is enough:
#   - items: moto keeps them in Table.items, {hash: Item} or
#     {hash: {range: Item}}; Put replaces the Item, Delete pops it, Update
#     mutates it in place (or creates it), so each is deep-copied before and
#     put back, or removed if it did not exist, when the transaction fails.
#   - GSIs and LSIs hold no data of their own in moto: a Query or Scan on an
#     index filters Table.items, so restoring the items restores them.
#   - streams: each write appends a record to Table.stream_shard.items (the
#     deep copy restored the list too), so the list is cut back to its length
#     before the transaction.
# Nothing else of a table changes on an item write (TTL, tags, indexes,
# billing, backups are not touched). The stock deep copies are skipped by
# handing moto's module, for the length of the call, a stand-in for `copy`
# whose deepcopy returns the touched tables themselves; moto's own rollback
# then puts the same table objects back (a no-op) and ours restores the
# items. The swap is confined to moto.dynamodb.models' name `copy` (the copy
# module and every other module are untouched), is undone in `finally`, and
# changes nothing but deep copies of those very tables, which in that module
# only transact_write_items makes; the server handles one request at a time,
# so no other request runs while it is in place. If a later moto copies
# differently, the stand-in is simply not consulted and the per-item
# backup still holds (just without the speed-up).
class _TableCopiesSkipped:
    """Stands in for `copy` inside moto.dynamodb.models during one
    transact_write_items call: deep copies of the given tables are the tables
    themselves; everything else goes to the copy module."""

    def __init__(self, tables):
        self._ids = {id(t) for t in tables}

    def __getattr__(self, name):
        return getattr(copy, name)

    def deepcopy(self, x, memo=None, _nil=[]):
        if id(x) in self._ids:
            return x
        return copy.deepcopy(x, memo)


class _TransactionBackup:
    """The state a TransactWriteItems call may change: each named item
    (deep-copied, or None if absent) and each touched table's stream length."""

    def __init__(self, backend, transact_items):
        self.backend = backend
        self.items = []    # (table, hash, range or None, had bucket, Item or None)
        self.tables = {}   # id(table) -> (table, stream list or None, its length)
        for entry in transact_items:
            for op_type, op in entry.items():  # moto refuses entries with several
                self._save(op_type, op)

    def _save(self, op_type, op):
        try:
            table = self.backend.get_table(op["TableName"])
            attrs = op["Item"] if op_type == "Put" else op["Key"]
            hash_key = DynamoType(attrs[table.hash_key_attr])
            range_key = None
            if table.range_key_attr is not None:
                range_key = DynamoType(attrs[table.range_key_attr])
        except Exception:
            # moto derives the key the same way and fails this operation
            # before it writes anything; it reports the error itself.
            return
        if id(table) not in self.tables:
            shard = table.stream_shard
            records = shard.items if shard is not None else None
            self.tables[id(table)] = (table, records, len(records) if records is not None else 0)
        # .get, not [], throughout: Table.items is a defaultdict.
        if range_key is None:
            had_bucket, item = True, table.items.get(hash_key)
        else:
            bucket = table.items.get(hash_key)
            had_bucket, item = bucket is not None, (bucket or {}).get(range_key)
        self.items.append((table, hash_key, range_key, had_bucket,
                           copy.deepcopy(item) if item is not None else None))

    def restore(self):
        for table, hash_key, range_key, had_bucket, item in reversed(self.items):
            if self.backend.tables.get(table.name) is not table:
                continue  # moto put back a copy of its own: already restored
            if range_key is None:
                if item is None:
                    table.items.pop(hash_key, None)
                else:
                    table.items[hash_key] = item
                continue
            bucket = table.items.get(hash_key)
            if item is not None:
                table.items[hash_key][range_key] = item
            elif bucket is not None:
                bucket.pop(range_key, None)
                if not bucket and not had_bucket:
                    del table.items[hash_key]
        for table, records, length in self.tables.values():
            shard = table.stream_shard
            # A Lambda event source mapping replaces the list once it has
            # delivered the records; those cannot be taken back (nor could
            # the deep copy take them back).
            if shard is not None and shard.items is records:
                del records[length:]


def _patch_transact_write_items():
    stock = dynamodb_models.DynamoDBBackend.transact_write_items

    def transact_write_items(self, transact_items):
        backup = _TransactionBackup(self, transact_items)
        dynamodb_models.copy = _TableCopiesSkipped(t for t, _, _ in backup.tables.values())
        try:
            return stock(self, transact_items)
        except BaseException:
            # Any failure cancels the whole transaction, including those moto
            # raises without rolling back (TransactWriteSingleOpException).
            backup.restore()
            raise
        finally:
            dynamodb_models.copy = copy

    transact_write_items.__doc__ = stock.__doc__
    dynamodb_models.DynamoDBBackend.transact_write_items = transact_write_items


# Why: moto's Table.query (5.2.1), on the table itself (no IndexName),
# starts with
#     possible_results = [item for item in self.all_items()
#                         if isinstance(item, Item) and item.hash_key == hash_key]
# and all_items() lists every item of every partition and sorts them all by
# (hash, range) with Python-level DynamoType comparisons. Each Query
# therefore costs the size of the whole table (measured in-process: 3.8 ms
# at 100 items, 95 ms at 5000, 264 ms at 20000), and a load run slows as it
# grows its tables. The partition is at hand: Table.items is {hash: Item}
# or {hash: {range: Item}}, keyed by the DynamoType of the item's hash key
# (put_item stores Item(hash_value, ...) under items[hash_value], and
# UpdateItem, BatchWriteItem, transactions and imports create items through
# it; restores deep-copy the whole dict), and DynamoType's __hash__ and
# __eq__ both use (type, cast_value), so items.get(hash_key) finds exactly
# the items whose hash_key == hash_key (N "7.0" finds "7", as in DynamoDB). For the length of one query call the table is
# therefore given an all_items that runs moto's own all_items over that one
# partition; everything after it (the hash_key filter, kept as is, the sort
# by range key, ScanIndexForward, ExclusiveStartKey, the key condition on
# the range key, Limit, the 1 MB page, the FilterExpression, the
# projection, Select COUNT in the response) is moto's code on the same
# items in the same order, so the results are moto's. In detail:
#   - only Query on the table is narrowed: with an IndexName (GSI or LSI)
#     moto matches index keys over all_items(), and moto keeps no index of
#     its own to narrow with, so those calls go to the stock code untouched;
#   - only when the hash key is a DynamoType of the table's hash key type
#     (anything else matches no item, or is moto's to refuse): the lookup
#     is then a plain dict lookup of S, N or B;
#   - .get, not [], since Table.items is a defaultdict: a Query on a missing
#     partition must not create it (an empty {} in a hash-only table would
#     be listed as an item by the next Scan);
#   - the shadowing all_items is an instance attribute set just before the
#     stock call and deleted in `finally`; it shadows the method for this
#     table object only, and the server handles one request at a time, so
#     no other call sees it. The hash key and index name are read by
#     binding the call to the stock signature: if a later moto renames
#     them, or all_items stops being a plain method, the wrapper steps aside
#     and moto's own query runs; if its query stops calling all_items, the
#     stand-in is simply not consulted (either way just without the
#     speed-up).
def _patch_query():
    stock = Table.query
    stock_all_items = inspect.getattr_static(Table, "all_items")
    if not isinstance(stock_all_items, types.FunctionType):
        return
    signature = inspect.signature(stock)

    def partition_items(table, args, kwargs):
        """moto's all_items() over the one partition the call queries, or
        None if the call is not a Query on the table's hash key."""
        try:
            call = signature.bind(table, *args, **kwargs).arguments
        except TypeError:
            return None  # moto raises it itself
        hash_key = call.get("hash_key")
        if call.get("index_name") or type(hash_key) is not DynamoType:
            return None
        if hash_key.type != table.hash_key_type or hash_key.type not in ("S", "N", "B"):
            return None
        partition = table.items.get(hash_key)
        view = types.SimpleNamespace(items={} if partition is None else {hash_key: partition},
                                     range_key_attr=table.range_key_attr)
        return lambda: stock_all_items(view)

    def query(self, *args, **kwargs):
        narrowed = partition_items(self, args, kwargs)
        if narrowed is None:
            return stock(self, *args, **kwargs)
        self.all_items = narrowed
        try:
            return stock(self, *args, **kwargs)
        finally:
            del self.all_items

    query.__doc__ = stock.__doc__
    query.__signature__ = signature
    Table.query = query


# Why: DynamoDB makes TransactWriteItems idempotent by ClientRequestToken,
# which the SDK sets on every call and keeps across its own retries: the
# same token again within 10 minutes of a successful call succeeds without
# applying anything, and the same token with other parameters is refused
# with IdempotentParameterMismatchException. moto ignores the token, so an
# SDK retry of a transaction whose answer was lost (say, a reset
# connection) applied it twice, which DynamoDB never does. Only successful
# calls are remembered: a cancelled one applied nothing, and DynamoDB runs
# its retry again. Tokens are kept as a digest of the other parameters, in
# arrival order, and forgotten after 10 minutes.
_TOKEN_LIFE = 600.0


def _patch_client_request_token():
    stock = DynamoHandler.transact_write_items
    seen = {}                      # token -> (digest, result)
    order = collections.deque()    # (expiry, token), oldest first

    def transact_write_items(self):
        body = self.body if isinstance(self.body, dict) else {}
        token = body.get("ClientRequestToken")
        if not token:
            return stock(self)
        now = time.monotonic()
        while order and order[0][0] <= now:
            _, old = order.popleft()
            seen.pop(old, None)
        rest = {k: v for k, v in body.items() if k != "ClientRequestToken"}
        digest = hashlib.sha256(json.dumps(rest, sort_keys=True, default=str).encode()).hexdigest()
        if token in seen:
            if seen[token][0] != digest:
                raise DynamodbException(
                    "com.amazonaws.dynamodb.v20120810#IdempotentParameterMismatchException",
                    "Client request token is used with different parameters")
            return seen[token][1]
        result = stock(self)
        seen[token] = (digest, result)
        order.append((now + _TOKEN_LIFE, token))
        return result

    transact_write_items.__doc__ = stock.__doc__
    DynamoHandler.transact_write_items = transact_write_items


# Why: DynamoDB does not queue writes to one item the way this
# single-threaded server does. A transaction that touches an item while
# another transaction on it is in flight is cancelled with reason
# TransactionConflict (and a single write to such an item fails with
# TransactionConflictException), and one item (one partition) takes about
# 1,000 write units a second: past that its writes are throttled
# (ThrottlingError in a transaction, ThrottlingException otherwise). Code
# that is exact only because moto serialises everything would pass here
# and fail there. MOTO_CONTENTION turns on a mode that does what DynamoDB
# does, as comma-separated settings ("1" for the defaults):
#   conflict_ms=N  an item a transaction wrote stays "in flight" for N ms
#                  after it (default 20; DynamoDB's transactions take a few
#                  to tens of ms): any other transaction naming it in that
#                  time is cancelled TransactionConflict on that item (None
#                  on the others), any single write to it fails
#                  TransactionConflictException.
#   wcu=N          write units a second each item takes (default 1000), a
#                  token bucket holding one second of them: a single write
#                  costs 1 unit, each item of a transaction 2 (the items
#                  here are under 1 KB); a write that finds too few is
#                  refused as throttled and applies nothing.
# Both apply only to what succeeds: a cancelled or throttled call takes
# nothing and holds nothing. A repeat of a successful transaction by its
# ClientRequestToken is answered before these checks (as DynamoDB does).
class _Contention:
    def __init__(self, spec):
        settings = dict(conflict_ms="20", wcu="1000")
        for part in spec.split(","):
            if "=" in part:
                k, v = part.split("=", 1)
                settings[k.strip()] = v.strip()
        self.window = float(settings["conflict_ms"]) / 1000.0
        self.wcu = float(settings["wcu"])
        self.held = {}     # item -> monotonic time its last transaction ends
        self.buckets = {}  # item -> (tokens, at)
        self.conflicts = 0
        self.throttles = 0

    @staticmethod
    def item(backend, table_name, attrs):
        try:
            table = backend.get_table(table_name)
            key = [table_name, json.dumps(attrs[table.hash_key_attr], sort_keys=True)]
            if table.range_key_attr is not None:
                key.append(json.dumps(attrs[table.range_key_attr], sort_keys=True))
        except Exception:
            return None  # moto refuses the call itself
        return tuple(key)

    def _tokens(self, item, now):
        tokens, at = self.buckets.get(item, (self.wcu, now))
        return min(self.wcu, tokens + (now - at) * self.wcu)

    def check(self, items, units, now):
        """The reason each item refuses the write (None when it takes it)."""
        out = []
        for it in items:
            if it is not None and self.held.get(it, 0) > now:
                out.append("TransactionConflict")
            elif it is not None and self._tokens(it, now) < units:
                out.append("ThrottlingError")
            else:
                out.append(None)
        return out

    def take(self, items, units, now, hold):
        for it in items:
            if it is None:
                continue
            self.buckets[it] = (self._tokens(it, now) - units, now)
            if hold:
                self.held[it] = now + self.window
        if len(self.held) > 100000:
            self.held = {k: v for k, v in self.held.items() if v > now}


def _patch_contention(spec):
    c = _Contention(spec)

    def op_item(backend, op_type, op):
        attrs = op.get("Item") if op_type == "Put" else op.get("Key")
        return _Contention.item(backend, op.get("TableName"), attrs or {})

    stock_tx = DynamoHandler.transact_write_items

    def transact_write_items(self):
        body = self.body if isinstance(self.body, dict) else {}
        ops = body.get("TransactItems") or []
        items = []
        for entry in ops:
            for op_type, op in entry.items():
                items.append(None if op_type == "ConditionCheck" else op_item(self.dynamodb_backend, op_type, op))
        now = time.monotonic()
        reasons = c.check(items, 2, now)
        if any(reasons):
            if "TransactionConflict" in reasons:
                c.conflicts += 1
            else:
                c.throttles += 1
            raise TransactionCanceledException(
                [(r, "Transaction is ongoing for the item" if r == "TransactionConflict" else
                  "Throughput exceeds the current capacity for one or more items" if r else None, None)
                 for r in reasons])
        result = stock_tx(self)
        c.take(items, 2, now, hold=True)
        return result

    transact_write_items.__doc__ = stock_tx.__doc__
    DynamoHandler.transact_write_items = transact_write_items

    def single(stock, key_of):
        def write(self):
            body = self.body if isinstance(self.body, dict) else {}
            it = _Contention.item(self.dynamodb_backend, body.get("TableName"), key_of(body) or {})
            now = time.monotonic()
            reason = c.check([it], 1, now)[0]
            if reason == "TransactionConflict":
                c.conflicts += 1
                raise DynamodbException("com.amazonaws.dynamodb.v20120810#TransactionConflictException",
                                        "Transaction is ongoing for the item")
            if reason == "ThrottlingError":
                c.throttles += 1
                raise DynamodbException("com.amazonaws.dynamodb.v20120810#ThrottlingException",
                                        "Throughput exceeds the current capacity for one or more items")
            result = stock(self)
            c.take([it], 1, now, hold=False)
            return result
        write.__doc__ = stock.__doc__
        return write

    DynamoHandler.put_item = single(DynamoHandler.put_item, lambda b: b.get("Item"))
    DynamoHandler.update_item = single(DynamoHandler.update_item, lambda b: b.get("Key"))
    DynamoHandler.delete_item = single(DynamoHandler.delete_item, lambda b: b.get("Key"))
    return c


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    signal.signal(signal.SIGINT, lambda *_: sys.exit(0))
    _patch_transact_write_items()
    _patch_query()
    spec = os.environ.get("MOTO_CONTENTION", "")
    if spec:
        # Under the ClientRequestToken patch: a repeat of a transaction
        # that succeeded is answered as it was.
        _patch_contention(spec)
    _patch_client_request_token()
    # One request at a time, but a deep accept queue: hundreds of clients
    # may connect at once, and a full queue resets their connections.
    BaseWSGIServer.request_queue_size = 4096
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(args.host, args.port, app, threaded=False, processes=1,
               request_handler=QuietHandler, use_reloader=False, use_debugger=False)


if __name__ == "__main__":
    main()
