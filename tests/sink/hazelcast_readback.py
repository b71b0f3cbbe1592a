#!/usr/bin/env python3
"""Reads and writes a Hazelcast member through the official hazelcast-python-client, as an
independent oracle for DITA's C++ protocol client (serializer ids and partition placement).

  hazelcast_readback.py dump ADDRESS CLUSTER MAP
      one JSON line per entry: key, key_type, value_type, value (entrySet) and get_value
      (a per-key get, routed by the official client's own partition hash).
  hazelcast_readback.py put ADDRESS CLUSTER MAP KEY JSON
      stores HazelcastJsonValue(JSON) under the String KEY.
  hazelcast_readback.py listen ADDRESS CLUSTER TOPIC COUNT TIMEOUT_S
      prints "ready" once subscribed, then one JSON line per message (type, value), and exits
      after COUNT messages or TIMEOUT_S seconds.
Only the given loopback address is contacted.
"""
import json
import logging
import sys
import threading

import hazelcast
from hazelcast.core import HazelcastJsonValue


def connect(address, cluster):
    return hazelcast.HazelcastClient(
        cluster_name=cluster,
        cluster_members=[address],
        smart_routing=False,
        cluster_connect_timeout=15,
        statistics_enabled=False,
    )


def text_of(value):
    return value.to_string() if isinstance(value, HazelcastJsonValue) else value


def main(argv):
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    command, address, cluster = argv[1], argv[2], argv[3]
    client = connect(address, cluster)
    try:
        if command == "dump":
            m = client.get_map(argv[4]).blocking()
            for key, value in sorted(m.entry_set(), key=lambda kv: kv[0]):
                got = m.get(key)
                print(json.dumps({
                    "key": key,
                    "key_type": type(key).__name__,
                    "value_type": type(value).__name__,
                    "value": text_of(value),
                    "get_value": text_of(got) if got is not None else None,
                }), flush=True)
        elif command == "put":
            client.get_map(argv[4]).blocking().put(argv[5], HazelcastJsonValue(argv[6]))
        elif command == "listen":
            count, timeout = int(argv[5]), float(argv[6])
            received = []
            done = threading.Event()

            def on_message(message):
                received.append(message.message)
                print(json.dumps({"type": type(message.message).__name__,
                                  "value": text_of(message.message)}), flush=True)
                if len(received) >= count:
                    done.set()

            client.get_topic(argv[4]).blocking().add_listener(on_message=on_message)
            print("ready", flush=True)
            done.wait(timeout)
        else:
            print("unknown command " + command, file=sys.stderr)
            return 2
    finally:
        client.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
