"""The catalog of known public images (data), shared with the kubelet.

Each image lists its tags with a repository digest and a size (the figures a
kubelet prints: ``Successfully pulled image "nginx" in 1.286s (1.286s
including waiting). Image size: 59774010 bytes.``), and the configuration
Docker Hub publishes for it (Env, Entrypoint, Cmd, WorkingDir, ExposedPorts,
User), plus the few files the lab models (nginx's default pages). Tags that
are aliases of the same image share a digest. Anything not listed here (or
built into the lab registry) fails to pull, as it would.

Python images run with the lab's own interpreter in a virtual environment per
image; ``python_image`` marks them.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from gitopslab.registry import refs


@dataclass(frozen=True)
class CatalogTag:
    digest: str
    size: int


@dataclass(frozen=True)
class CatalogImage:
    name: str                       # familiar name: "nginx", "python", "quay.io/argoproj/argocd"
    tags: dict[str, CatalogTag]
    env: tuple[str, ...] = ()
    entrypoint: tuple[str, ...] = ()
    cmd: tuple[str, ...] = ()
    workdir: str = ""
    exposed_ports: tuple[str, ...] = ()
    user: str = ""
    files: dict[str, str] = field(default_factory=dict)
    python_image: bool = False

    @property
    def repository(self) -> str:
        return refs.parse(self.name).name


_PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

NGINX_INDEX_HTML = '<!DOCTYPE html>\n<html>\n<head>\n<title>Welcome to nginx!</title>\n<style>\nhtml { color-scheme: light dark; }\nbody { width: 35em; margin: 0 auto;\nfont-family: Tahoma, Verdana, Arial, sans-serif; }\n</style>\n</head>\n<body>\n<h1>Welcome to nginx!</h1>\n<p>If you see this page, the nginx web server is successfully installed and\nworking. Further configuration is required.</p>\n\n<p>For online documentation and support please refer to\n<a href="http://nginx.org/">nginx.org</a>.<br/>\nCommercial support is available at\n<a href="http://nginx.com/">nginx.com</a>.</p>\n\n<p><em>Thank you for using nginx.</em></p>\n</body>\n</html>\n'

NGINX_50X_HTML = '<!DOCTYPE html>\n<html>\n<head>\n<title>Error</title>\n<style>\nhtml { color-scheme: light dark; }\nbody { width: 35em; margin: 0 auto;\nfont-family: Tahoma, Verdana, Arial, sans-serif; }\n</style>\n</head>\n<body>\n<h1>An error occurred.</h1>\n<p>Sorry, the page you are looking for is currently unavailable.<br/>\nPlease try again later.</p>\n<p>If you are the system administrator of this resource then you should check\nthe error log for details.</p>\n<p><em>Faithfully yours, nginx.</em></p>\n</body>\n</html>\n'

NGINX_DEFAULT_CONF = 'server {\n    listen       80;\n    listen  [::]:80;\n    server_name  localhost;\n\n    location / {\n        root   /usr/share/nginx/html;\n        index  index.html index.htm;\n    }\n\n    error_page   500 502 503 504  /50x.html;\n    location = /50x.html {\n        root   /usr/share/nginx/html;\n    }\n}\n'

IMAGES: dict[str, CatalogImage] = {
    "nginx": CatalogImage(
        name="nginx",
        tags={
        "latest": CatalogTag("sha256:898ea144947948929a23de7197075a8c0a06ae3edb1b08456d6e1e290630789c", 59774010),
        "1.27": CatalogTag("sha256:898ea144947948929a23de7197075a8c0a06ae3edb1b08456d6e1e290630789c", 59774010),
        "1.27.3": CatalogTag("sha256:898ea144947948929a23de7197075a8c0a06ae3edb1b08456d6e1e290630789c", 59774010),
        "stable": CatalogTag("sha256:bd7e1fb3d0fbdb6436f27023258552805e579829acad69d8f7b71e2ad19345ed", 59219842),
        "1.26": CatalogTag("sha256:bd7e1fb3d0fbdb6436f27023258552805e579829acad69d8f7b71e2ad19345ed", 59219842),
        "alpine": CatalogTag("sha256:647fe3da2a8903a95a0d2a94320a6d43d9ce35778a76ec70073bd667b59af253", 21202313),
        "1.27-alpine": CatalogTag("sha256:647fe3da2a8903a95a0d2a94320a6d43d9ce35778a76ec70073bd667b59af253", 21202313),
        },
        env=(_PATH, "NGINX_VERSION=1.27.3", "NJS_VERSION=0.8.7", "PKG_RELEASE=1~bookworm"),
        entrypoint=("/docker-entrypoint.sh",),
        cmd=("nginx", "-g", "daemon off;"),
        exposed_ports=("80/tcp",),
        files={
            "usr/share/nginx/html/index.html": NGINX_INDEX_HTML,
            "usr/share/nginx/html/50x.html": NGINX_50X_HTML,
            "etc/nginx/conf.d/default.conf": NGINX_DEFAULT_CONF,
        },
    ),
    "python": CatalogImage(
        name="python",
        tags={
        "3.9-slim": CatalogTag("sha256:153533848f9f7e83cae8c272d7de4dffa88885ede8285225436d435cd587a613", 45221690),
        "3.10-slim": CatalogTag("sha256:49029eb7737896aebb35c56984556160a91a5fdd7010fec4a23ad3ea2e8be46d", 47105832),
        "3.11-slim": CatalogTag("sha256:bb7d09edadc5b2326787b09cdd3d5f62e837ac5dfea15cf5174b40ea88507ff8", 48436027),
        "3.12-slim": CatalogTag("sha256:6150bb59cfe1b101c3fabd343e293fec211e267a0629a4c40b815b7de9d5da54", 46723418),
        "3.13-slim": CatalogTag("sha256:9c72cd9e55e190ff95db6c7567bb1cd2e86630ec92e745d6d86ae43a8e2f58e9", 44391209),
        "slim": CatalogTag("sha256:9c72cd9e55e190ff95db6c7567bb1cd2e86630ec92e745d6d86ae43a8e2f58e9", 44391209),
        "3.9": CatalogTag("sha256:1af35f9bc7fa19fd87d1f6f47a99b9fbda3ed2575ab5aa4553584d253b11ad9a", 370151102),
        "3.10": CatalogTag("sha256:56cdbfcc9e6f4fac5489cbb142ce988e72a84e228bc68d03ec7bae44c000eb2b", 375012437),
        "3.11": CatalogTag("sha256:08644eca6bccbbcd14a57801ea78b81f0b715db2eaa3437eba79c549e667156b", 384629553),
        "3.12": CatalogTag("sha256:d7bdf8b8e8a7b729b355daf4d0612ebd7a3f788e19f9709bcec28d0ab973fd99", 379482016),
        "3.13": CatalogTag("sha256:3bb319e1cc8a13ab246c5a6a977fe4a84e0b5dd12f86cc7b62ecdf32d3a58b37", 372990201),
        "latest": CatalogTag("sha256:3bb319e1cc8a13ab246c5a6a977fe4a84e0b5dd12f86cc7b62ecdf32d3a58b37", 372990201),
        "3.12-alpine": CatalogTag("sha256:8dace9e1a0d467a9ba7d326856e533d5eeb58ab8202fcb032933ada0953c4a5c", 18943712),
        },
        env=("PATH=/usr/local/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8",
             "GPG_KEY=7169605F62C751356D054A26A821E680E5FA6305", "PYTHON_VERSION=3.11.11", "PYTHON_SHA256="),
        cmd=("python3",),
        python_image=True,
    ),
    "postgres": CatalogImage(
        name="postgres",
        tags={
        "latest": CatalogTag("sha256:5ed8c5f4e7c6e466a8268076a1a8e410db0e8c36bcf718c40ba8b4099935a274", 160427389),
        "17": CatalogTag("sha256:5ed8c5f4e7c6e466a8268076a1a8e410db0e8c36bcf718c40ba8b4099935a274", 160427389),
        "16": CatalogTag("sha256:ae6140b1d9421fe74649f9555f33151e5279b7f362409a4231329638d4765387", 158306477),
        "15": CatalogTag("sha256:6e18e594632720dce5562a53da54ee9be8db0cab389b581571d6c024f4dcec7f", 157012294),
        "16-alpine": CatalogTag("sha256:9b8d27f3994ef03fb979914a44b2b5cd825d1082f8b204353c84033d3f2a0979", 105224690),
        },
        env=("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/usr/lib/postgresql/17/bin",
             "GOSU_VERSION=1.17", "LANG=en_US.utf8", "PG_MAJOR=17", "PG_VERSION=17.2-1.pgdg120+1",
             "PGDATA=/var/lib/postgresql/data"),
        entrypoint=("docker-entrypoint.sh",),
        cmd=("postgres",),
        exposed_ports=("5432/tcp",),
    ),
    "odoo": CatalogImage(
        name="odoo",
        tags={
        "18": CatalogTag("sha256:b49e453220be7ac179ed89a18fe875030e75c05fd18d8eb13377109a2cd37a57", 606839713),
        "18.0": CatalogTag("sha256:b49e453220be7ac179ed89a18fe875030e75c05fd18d8eb13377109a2cd37a57", 606839713),
        "latest": CatalogTag("sha256:b49e453220be7ac179ed89a18fe875030e75c05fd18d8eb13377109a2cd37a57", 606839713),
        "17": CatalogTag("sha256:070bb6b17c5a9e38635252ac4ca27ea741737925b323fca8b6aedfbfac3f354e", 587341120),
        "17.0": CatalogTag("sha256:070bb6b17c5a9e38635252ac4ca27ea741737925b323fca8b6aedfbfac3f354e", 587341120),
        },
        env=(_PATH, "LANG=en_US.UTF-8", "ODOO_VERSION=18.0", "ODOO_RC=/etc/odoo/odoo.conf"),
        entrypoint=("/entrypoint.sh",),
        cmd=("odoo",),
        exposed_ports=("8069/tcp", "8071/tcp", "8072/tcp"),
        user="odoo",
    ),
    "busybox": CatalogImage(
        name="busybox",
        tags={
        "latest": CatalogTag("sha256:25c78d56a44245717690f8a5cb6d6e90217d04ad535cd8643b887b8e2bf32fbe", 2158082),
        "1.37": CatalogTag("sha256:25c78d56a44245717690f8a5cb6d6e90217d04ad535cd8643b887b8e2bf32fbe", 2158082),
        "1.36": CatalogTag("sha256:2ecc6202fcf7fee7faf1787fd313cdbf6cf86d400e6fc9734be4258857c467e1", 2155361),
        "stable": CatalogTag("sha256:25c78d56a44245717690f8a5cb6d6e90217d04ad535cd8643b887b8e2bf32fbe", 2158082),
        },
        env=("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",),
        cmd=("sh",),
    ),
    "redis": CatalogImage(
        name="redis",
        tags={
        "latest": CatalogTag("sha256:e73048eb7ff74aaf5c5daa1ca1fda5b98ffdb8fbb98e5ffb8ded7f5011d80caf", 49451063),
        "7": CatalogTag("sha256:b27b65f558aa4305d744d4fd0a87105b6ed6565948beea6a3dd75f84cc44d1aa", 45214330),
        "7.4": CatalogTag("sha256:b27b65f558aa4305d744d4fd0a87105b6ed6565948beea6a3dd75f84cc44d1aa", 45214330),
        "7-alpine": CatalogTag("sha256:ef698d52d6edfe91843e8f0ea1d947daa9919d91bd1eed96f591713df7d0eafa", 17226187),
        "8": CatalogTag("sha256:e73048eb7ff74aaf5c5daa1ca1fda5b98ffdb8fbb98e5ffb8ded7f5011d80caf", 49451063),
        },
        env=(_PATH, "REDIS_VERSION=7.4.2"),
        entrypoint=("docker-entrypoint.sh",),
        cmd=("redis-server",),
        workdir="/data",
        exposed_ports=("6379/tcp",),
    ),
    # The images the argo-cd Helm chart (10.1.1, Argo CD v3.4.4) runs.
    "quay.io/argoproj/argocd": CatalogImage(
        name="quay.io/argoproj/argocd",
        tags={
        "v3.4.4": CatalogTag("sha256:5a1c9bc8d6e6a3ba7d1f3b6ad4d5b8f0c3d2a1e9f8c7b6a5d4e3f2a1b0c9d8e7", 183502136),
        },
        env=(_PATH, "USER=argocd", "HOME=/home/argocd"),
        entrypoint=("/usr/bin/tini", "--"),
        workdir="/home/argocd",
        user="999",
    ),
    "ghcr.io/dexidp/dex": CatalogImage(
        name="ghcr.io/dexidp/dex",
        tags={
        "v2.45.1": CatalogTag("sha256:8e3b9f1c2d4a6b8c0e2f4a6b8d0c2e4f6a8b0d2c4e6f8a0b2d4c6e8f0a2b4d6c", 40112533),
        },
        env=(_PATH,),
        entrypoint=("/usr/local/bin/docker-entrypoint",),
        cmd=("dex", "serve", "/etc/dex/config.docker.yaml"),
        exposed_ports=("5556/tcp", "5557/tcp", "5558/tcp"),
        user="1001:1001",
    ),
    "ecr-public.aws.com/docker/library/redis": CatalogImage(
        name="ecr-public.aws.com/docker/library/redis",
        tags={
        "8.2.3-alpine": CatalogTag("sha256:3b1f6c9e2a7d4b8c5e0f1a2d3c4b5a6e7f8d9c0b1a2e3f4d5c6b7a8e9f0d1c2b", 17832209),
        },
        env=(_PATH, "REDIS_VERSION=8.2.3"),
        entrypoint=("docker-entrypoint.sh",),
        cmd=("redis-server",),
        workdir="/data",
        exposed_ports=("6379/tcp",),
    ),
}


def lookup(ref: str) -> tuple[CatalogImage, str, CatalogTag] | None:
    """(image, tag, tag info) of a catalog reference, or None.

    A digest reference matches the tag that carries that digest.
    """
    parsed = refs.parse(ref)
    image = IMAGES.get(parsed.familiar_name)
    if image is None:
        return None
    if parsed.digest:
        for tag, info in image.tags.items():
            if info.digest == parsed.digest:
                return image, tag, info
        return None
    info = image.tags.get(parsed.tag or refs.DEFAULT_TAG)
    return (image, parsed.tag or refs.DEFAULT_TAG, info) if info else None


def is_known_repository(ref: str) -> bool:
    """True for a catalog repository (whatever the tag): a missing tag is "manifest unknown"."""
    return refs.parse(ref).familiar_name in IMAGES
