"""Does a service-account token Secret's token authenticate against the API, as `argocd cluster add` relies on?"""
import base64
import shutil
import subprocess
import time

import pytest

KUBECTL = "/usr/bin/kubectl" if shutil.which("/usr/bin/kubectl") else (shutil.which("kubectl") or "kubectl")


def _token(lab, ns, name, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        secret = lab.core.read_namespaced_secret(name, ns)
        if secret.data and secret.data.get("token"):
            return base64.b64decode(secret.data["token"]).decode()
        time.sleep(0.2)
    pytest.fail("the token controller never populated the Secret")


def _kubectl_as(lab, token, *args):
    """kubectl with only a server and a bearer token, as a cluster Secret's config gives Argo CD."""
    return subprocess.run([KUBECTL, "--kubeconfig", "/dev/null", "--server", lab.server, "--token", token,
                           "--insecure-skip-tls-verify", *args], capture_output=True, text=True)


def test_long_lived_token_authenticates_until_its_secret_is_deleted(lab):
    ns = lab.namespace("sa")
    lab.kubectl("create", "serviceaccount", "argocd-manager", "-n", ns)
    lab.kubectl("apply", "-n", ns, "-f", "-", input="""
apiVersion: v1
kind: Secret
metadata:
  name: argocd-manager-long-lived-token
  annotations:
    kubernetes.io/service-account.name: argocd-manager
type: kubernetes.io/service-account-token
""")
    token = _token(lab, ns, "argocd-manager-long-lived-token")
    ok = _kubectl_as(lab, token, "get", "ns", ns, "-o", "name")
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.strip() == f"namespace/{ns}"

    bad = _kubectl_as(lab, token[:-4] + "AAAA", "get", "ns")
    assert bad.returncode != 0 and "Unauthorized" in bad.stderr

    lab.core.delete_namespaced_secret("argocd-manager-long-lived-token", ns)
    gone = _kubectl_as(lab, token, "get", "ns")
    assert gone.returncode != 0 and "Unauthorized" in gone.stderr
