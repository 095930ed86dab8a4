"""Serve moto's DynamoDB single-threaded.

Stock moto_server is threaded and does not lock between reading an item,
checking a condition and writing it, so concurrent conditional updates and
transactions are occasionally lost. Served one request at a time, moto's
conditions hold as DynamoDB's do. Used by `make run` and by the tests
(infra/localdb starts it on a free loopback port and stops it by its PID).
"""
import argparse
import logging
import signal
import sys

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, run_simple
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app


class QuietHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs):
        pass


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    signal.signal(signal.SIGINT, lambda *_: sys.exit(0))
    # One request at a time, but a deep accept queue: hundreds of clients
    # may connect at once, and a full queue resets their connections.
    BaseWSGIServer.request_queue_size = 4096
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(args.host, args.port, app, threaded=False, processes=1,
               request_handler=QuietHandler, use_reloader=False, use_debugger=False)


if __name__ == "__main__":
    main()
