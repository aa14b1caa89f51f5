"""A small internet in network namespaces: a public server and two homes, each behind its own NAT router.

Every address exists only inside namespaces made here (veth pairs are created inside them, never in
the host's namespace): 198.18.0.0/24 is the "internet" (a bridge in the public namespace, which
holds the server at 198.18.0.10), 10.1.0.0/24 and 10.2.0.0/24 are the homes. A router masquerades
its home behind its own public address; a symmetric one (`--random-fully`) picks a new public port
for every destination, so what a STUN server saw is useless to anyone else.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass, field

from tests.e2e.netns import NamespaceUnavailable

SERVER_IP = "198.18.0.10"
INTERNET = "198.18.0.0/24"
INTERNET_RANGE = "198.18.0.0-198.18.0.255"  # coturn's allowed-peer-ip form


@dataclass
class Home:
    name: str  # "a" or "b"
    namespace: str
    router: str
    address: str  # the caller's own address, 10.x
    public_address: str  # the router's address on the internet
    symmetric: bool = False


@dataclass
class Internet:
    prefix: str = field(default_factory=lambda: f"nfi{os.getpid()}")
    homes: dict[str, Home] = field(default_factory=dict)
    made: list[str] = field(default_factory=list)

    @property
    def public(self) -> str:
        return f"{self.prefix}-pub"

    def build(self) -> None:
        """Makes the namespaces; on any failure, removes what it made and raises NamespaceUnavailable."""
        missing = [tool for tool in ("ip", "iptables") if not shutil.which(tool)]
        if missing:
            raise NamespaceUnavailable(f"needs {' and '.join(missing)} (apt-get install iproute2 iptables)")
        if os.geteuid() != 0:
            raise NamespaceUnavailable("needs root to make network namespaces")
        try:
            self._build()
        except subprocess.CalledProcessError as exc:
            self.destroy()
            raise NamespaceUnavailable(f"{' '.join(exc.cmd)}: {exc.stderr.strip()}") from exc

    def _build(self) -> None:
        self._namespace(self.public)
        self._ip(self.public, "link", "add", "inet", "type", "bridge")
        self._ip(self.public, "addr", "add", f"{SERVER_IP}/24", "dev", "inet")
        self._ip(self.public, "link", "set", "inet", "up")
        for index, name in enumerate(("a", "b"), start=1):
            home = Home(
                name=name,
                namespace=f"{self.prefix}-h{name}",
                router=f"{self.prefix}-r{name}",
                address=f"10.{index}.0.2",
                public_address=f"198.18.0.{index}",
            )
            self._namespace(home.router)
            self._namespace(home.namespace)
            # internet side: the router's wan is a port of the public bridge
            self._ip(
                self.public, "link", "add", f"to-r{name}", "type", "veth", "peer", "name", "wan", "netns", home.router
            )
            self._ip(self.public, "link", "set", f"to-r{name}", "master", "inet", "up")
            self._ip(home.router, "addr", "add", f"{home.public_address}/24", "dev", "wan")
            self._ip(home.router, "link", "set", "wan", "up")
            # home side
            self._ip(home.router, "link", "add", "lan", "type", "veth", "peer", "name", "eth0", "netns", home.namespace)
            self._ip(home.router, "addr", "add", f"10.{index}.0.1/24", "dev", "lan")
            self._ip(home.router, "link", "set", "lan", "up")
            self._ip(home.namespace, "addr", "add", f"{home.address}/24", "dev", "eth0")
            self._ip(home.namespace, "link", "set", "eth0", "up")
            self._ip(home.namespace, "route", "add", "default", "via", f"10.{index}.0.1")
            self._run(home.router, "sysctl", "-qw", "net.ipv4.ip_forward=1")
            # a home router: nothing comes in unless it answers something that went out
            self._run(home.router, "iptables", "-A", "FORWARD", "-i", "lan", "-o", "wan", "-j", "ACCEPT")
            self._run(
                home.router, "iptables", "-A", "FORWARD", "-i", "wan", "-o", "lan",
                "-m", "conntrack", "--ctstate", "ESTABLISHED,RELATED", "-j", "ACCEPT",
            )  # fmt: skip
            self._run(home.router, "iptables", "-P", "FORWARD", "DROP")
            # and the router itself drops what nobody asked for: an unanswered packet left in its connection
            # table would make it move the caller's mapping to another port
            self._run(
                home.router, "iptables", "-A", "INPUT", "-i", "wan",
                "-m", "conntrack", "--ctstate", "ESTABLISHED,RELATED", "-j", "ACCEPT",
            )  # fmt: skip
            self._run(home.router, "iptables", "-A", "INPUT", "-i", "wan", "-j", "DROP")
            self.homes[name] = home
            self.set_nat(name, symmetric=False)

    def set_nat(self, name: str, *, symmetric: bool) -> None:
        """An ordinary home NAT (keeps the caller's port where it can) or a symmetric one."""
        home = self.homes[name]
        self._run(home.router, "iptables", "-t", "nat", "-F", "POSTROUTING")
        self._run(home.router, "iptables", "-t", "nat", "-A", "POSTROUTING", "-o", "wan", "-j", "MASQUERADE",
                  *(["--random-fully"] if symmetric else []))  # fmt: skip
        home.symmetric = symmetric

    def nat_rules(self, name: str) -> str:
        return self._run(self.homes[name].router, "iptables", "-t", "nat", "-S", "POSTROUTING").stdout

    def destroy(self) -> None:
        """Deletes every namespace made here (their interfaces, addresses and rules go with them)."""
        for namespace in reversed(self.made):
            subprocess.run(["ip", "netns", "del", namespace], capture_output=True, check=False)
        self.made.clear()

    def leftovers(self) -> list[str]:
        listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=False).stdout
        return [line.split()[0] for line in listed.splitlines() if line.startswith(self.prefix + "-")]

    def _namespace(self, name: str) -> None:
        subprocess.run(["ip", "netns", "add", name], check=True, capture_output=True, text=True)
        self.made.append(name)
        self._ip(name, "link", "set", "lo", "up")

    def _ip(self, namespace: str, *args: str) -> None:
        subprocess.run(["ip", "-n", namespace, *args], check=True, capture_output=True, text=True)

    def _run(self, namespace: str, *command: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["ip", "netns", "exec", namespace, *command], check=True, capture_output=True, text=True)
