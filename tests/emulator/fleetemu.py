#!/usr/bin/env python3
"""fleetscan's AWS emulator: moto server wrapped in a gap-filling, fault-injecting middleware.

    python tests/emulator/fleetemu.py --port 0 --fleet tests/fleets/integration.json \
        [--faults faults.json] [--page-size N] [--host 127.0.0.1]

After seeding it prints exactly one line ``READY http://127.0.0.1:PORT`` on
stdout and serves until SIGTERM/SIGINT.  See tests/fleets/README.md.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

# moto reads these at import time.
os.environ.setdefault("MOTO_ALLOW_NONEXISTENT_REGION", "true")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--fleet", required=True, help="fleet .json (or .py generator with build())")
    ap.add_argument("--faults", help="fault config JSON file applied at start")
    ap.add_argument("--port", type=int, default=0, help="0 = pick a free port")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--page-size", type=int, default=None,
                    help="page size of ListApplications / ListApplicationSnapshots / ListApplicationOperations")
    ap.add_argument("--metric-page-points", type=int, default=None,
                    help="datapoints per GetMetricData page (fleet settings.metric_page_points, default 100)")
    ap.add_argument("--verbose", action="store_true", help="log every request to stderr")
    args = ap.parse_args(argv)

    from werkzeug.serving import make_server

    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication, MotoRequestHandler, create_backend_app,
    )

    import fleet as fleetmod
    from middleware import FleetMiddleware

    if not args.verbose:
        logging.getLogger("werkzeug").setLevel(logging.ERROR)

    faults = None
    if args.faults:
        with open(args.faults, encoding="utf-8") as fh:
            faults = json.load(fh)
    fleet_doc = fleetmod.load_fleet(args.fleet)
    moto_app = DomainDispatcherApplication(create_backend_app)
    app = FleetMiddleware(moto_app, fleet_doc, page_size=args.page_size, faults=faults,
                          metric_page_points=args.metric_page_points)

    server = make_server(args.host, args.port, app, threaded=True, request_handler=MotoRequestHandler)
    server.daemon_threads = True
    port = server.server_address[1]

    def stop(_signum: int, _frame: object) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    sys.stdout.write(f"READY http://{args.host}:{port}\n")
    sys.stdout.flush()
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
