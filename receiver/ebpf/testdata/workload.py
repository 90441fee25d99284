# Monitored workload for sensor.test.ts: waits for a line on stdin, then does one of each observable
# action so the test can assert the sensor's events. Config comes as JSON in argv[1].
import http.client
import json
import socket
import ssl
import struct
import subprocess
import sys

cfg = json.loads(sys.argv[1])
sys.stdin.readline()

subprocess.run([cfg["childExe"], "aibom-child-py"], check=True, stdout=subprocess.DEVNULL)

with open(cfg["file"]) as f:
    f.read()
with open(cfg["credFile"]) as f:
    f.read()

s = socket.create_connection(("127.0.0.1", cfg["tcpPort"]))
s.close()

# accept(): a listener of our own, so the accepting process is the monitored one.
srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen()
cli = socket.create_connection(srv.getsockname())
conn, _ = srv.accept()
conn.close()
cli.close()
srv.close()

labels = b"".join(bytes([len(l)]) + l.encode() for l in cfg["dnsName"].split("."))
query = struct.pack(">HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0) + labels + b"\x00" + struct.pack(">HH", 1, 1)
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.settimeout(5)
u.sendto(query, (cfg["dnsHost"], 53))
u.recvfrom(512)
u.close()

ctx = ssl.create_default_context(cafile=cfg["caFile"])
c = http.client.HTTPSConnection("127.0.0.1", cfg["tlsPort"], context=ctx)
extra = {"Authorization": cfg["authorization"]} if cfg.get("authorization") else {}
c.request("POST", "/tls-py", body=cfg["tlsBody"].encode(), headers={"traceparent": cfg["traceparentTls"], **extra})
c.getresponse().read()
c.close()

c = http.client.HTTPConnection("127.0.0.1", cfg["httpPort"])
c.request("GET", "/plain-py", headers={"traceparent": cfg["traceparentHttp"], **extra})
c.getresponse().read()
c.close()

sys.exit(7)
