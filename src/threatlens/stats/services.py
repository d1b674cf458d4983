"""Service names of the ports attackers knock on, for the ports panel (``22 ssh``, ``3389 rdp``).

A built-in table rather than ``/etc/services``: containers often lack that file, and its names
(``ms-wbt-server``, ``microsoft-ds``) are not the ones a sysadmin says.
"""

from __future__ import annotations

_COMMON: dict[int, str] = {
    7: "echo", 20: "ftp-data", 21: "ftp", 22: "ssh", 23: "telnet", 25: "smtp", 37: "time", 53: "dns",
    67: "dhcp", 69: "tftp", 80: "http", 81: "http-alt", 88: "kerberos", 110: "pop3", 111: "rpcbind",
    113: "ident", 119: "nntp", 123: "ntp", 135: "msrpc", 137: "netbios-ns", 138: "netbios-dgm",
    139: "netbios", 143: "imap", 161: "snmp", 162: "snmptrap", 179: "bgp", 389: "ldap", 443: "https",
    445: "smb", 465: "smtps", 500: "ike", 502: "modbus", 514: "syslog", 515: "lpd", 520: "rip",
    548: "afp", 554: "rtsp", 587: "submission", 623: "ipmi", 631: "ipp", 636: "ldaps", 853: "dot",
    873: "rsync", 902: "vmware", 993: "imaps", 995: "pop3s", 1080: "socks", 1194: "openvpn",
    1433: "mssql", 1521: "oracle", 1723: "pptp", 1883: "mqtt", 1900: "ssdp", 2049: "nfs", 2222: "ssh-alt",
    2323: "telnet-alt", 2375: "docker", 2376: "docker-tls", 3000: "dev-http", 3128: "squid", 3306: "mysql",
    3389: "rdp", 3478: "stun", 4443: "https-alt", 4500: "ipsec-nat", 5000: "upnp", 5060: "sip",
    5061: "sips", 5222: "xmpp", 5353: "mdns", 5432: "postgres", 5555: "adb", 5672: "amqp",
    5683: "coap", 5900: "vnc", 5901: "vnc-1", 5985: "winrm", 5986: "winrm-tls", 6379: "redis",
    6443: "kube-api", 6667: "irc", 7001: "weblogic", 7547: "tr-069", 8000: "http-alt", 8008: "http-alt",
    8080: "http-proxy", 8081: "http-alt", 8088: "http-alt", 8443: "https-alt", 8888: "http-alt",
    9000: "php-fpm", 9090: "http-alt", 9100: "printer", 9200: "elasticsearch", 9300: "es-transport",
    9418: "git", 10000: "webmin", 10250: "kubelet", 11211: "memcached", 27017: "mongodb",
    37215: "huawei-upnp", 49152: "upnp-alt", 50000: "sap", 52869: "upnp-alt",
}


def service_name(port: int | None) -> str:
    """The usual service on ``port`` (``""`` when none is widely known)."""
    return _COMMON.get(port, "") if port is not None else ""
