"""The network a real container process sees through the runtime's sitecustomize hook (no lab needed)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import gitopslab.cluster.runtime as runtime

HOOK = Path(runtime.__file__).parent / "hook"
POD_IP = "127.42.250.7"

PROBE = """
import json, socket
udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
try:
    udp.connect(("10.253.155.219", 58162))   # what Werkzeug does to print its LAN address
    lan = udp.getsockname()[0]
except OSError:
    lan = None                               # no route at all: Werkzeug falls back to 127.0.0.1
tcp = socket.socket()
tcp.bind(("0.0.0.0", 0))
print(json.dumps({"lan": lan, "listen": tcp.getsockname()[0]}))
"""


def test_a_pod_sees_its_pod_ip_as_its_only_address():
    env = dict(os.environ, PYTHONPATH=str(HOOK), GITOPSLAB_POD_IP=POD_IP)
    done = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    assert seen["listen"] == POD_IP
    assert seen["lan"] in (POD_IP, None)
