"""An ordinary process: DNS for a name no AI provider uses, then plain HTTP (GET and a POST to a
non-inference path) to a local server. The shadow-AI signatures must let none of it through.

usage: plain_client.py --resolver IP --name NAME --url http://127.0.0.1:PORT
"""
import argparse
import json
import os
import urllib.request

from resolve import query_a

p = argparse.ArgumentParser()
p.add_argument("--resolver", required=True)
p.add_argument("--name", required=True)
p.add_argument("--url", required=True)
p.add_argument("--rounds", type=int, default=20)
a = p.parse_args()

for _ in range(a.rounds):
    query_a(a.resolver, a.name)
    urllib.request.urlopen(a.url + "/healthz", timeout=5).read()
    urllib.request.urlopen(urllib.request.Request(a.url + "/_reset", data=b"{}", method="POST"), timeout=5).read()
print(json.dumps({"pid": os.getpid()}), flush=True)
