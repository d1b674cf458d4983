"""Named log formats and the factory that turns a name or format string into a parser."""

from __future__ import annotations

from pathlib import Path

from threatlens.parsers.base import LineParser
from threatlens.parsers.firewall import FirewallParser
from threatlens.parsers.jsonlines import JsonParser, parse_mapping
from threatlens.parsers.nginx_conf import log_format_from_conf
from threatlens.parsers.regex_parser import RegexParser
from threatlens.parsers.tokens import FormatError, apache_tokens, format_tokens, nginx_tokens

COMMON = '%h %l %u %t "%r" %>s %b'
COMBINED = '%h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-Agent}i"'
VHOST_COMBINED = '%v:%p %h %l %u %t "%r" %>s %O "%{Referer}i" "%{User-Agent}i"'
VHOST_NOPORT = '%v %h %l %u %t "%r" %>s %O "%{Referer}i" "%{User-Agent}i"'
NGINX_COMBINED = ('$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent '
                  '"$http_referer" "$http_user_agent"')
NGINX_MAIN = NGINX_COMBINED + ' "$http_x_forwarded_for"'

#: name -> (dialect, format string, description). Order is the auto-detection order.
PRESETS: dict[str, tuple[str, str, str]] = {
    "vhost_combined": ("apache", VHOST_COMBINED, "Apache vhost_combined (%v:%p then combined)"),
    "vhost": ("apache", VHOST_NOPORT, "virtual host then combined, no port (%v %h ...)"),
    "nginx_main": ("nginx", NGINX_MAIN, "nginx 'main' from the stock nginx.conf (combined + X-Forwarded-For)"),
    "combined": ("apache", COMBINED, "Apache/NCSA combined"),
    "nginx": ("nginx", NGINX_COMBINED, "nginx default 'combined'"),
    "common": ("apache", COMMON, "Common Log Format"),
    "combined_extra": ("apache", COMBINED, "combined followed by extra fields (kept opaque)"),
    "json": ("json", "", "JSON lines (nginx escape=json, Caddy, Traefik)"),
    "firewall": ("firewall", "", "kernel firewall log: ufw, iptables/nftables LOG, firewalld (syslog, journalctl, "
                 "dmesg)"),
}
#: Presets tried by ``--log-format auto`` (``nginx`` is the same regex as ``combined``).
AUTO_CANDIDATES = ("vhost_combined", "vhost", "nginx_main", "combined", "common", "combined_extra", "json",
                   "firewall")


def get_parser(spec: str, *, nginx_conf: str | Path | None = None) -> LineParser:
    """A parser for a preset name, ``json:FIELD=KEY,...``, or a literal Apache/nginx format string.

    With ``nginx_conf`` (``FILE`` or ``FILE:NAME``), the named ``log_format`` is read from that file.
    """
    if nginx_conf is not None:
        conf, _, name = str(nginx_conf).partition(":") if ":" in str(nginx_conf) and not Path(
            str(nginx_conf)).exists() else (str(nginx_conf), "", "")
        fmt_name, fmt, escape = log_format_from_conf(conf, name or None)
        if escape == "json" or fmt.lstrip().startswith("{"):
            return JsonParser(name=f"nginx:{fmt_name}", description=f"log_format {fmt_name} from {conf}")
        return RegexParser(f"nginx:{fmt_name}", nginx_tokens(fmt), description=f"log_format {fmt_name} from {conf}",
                           fmt=fmt)
    if spec in PRESETS:
        dialect, fmt, description = PRESETS[spec]
        if dialect == "json":
            return JsonParser(name=spec, description=description)
        if dialect == "firewall":
            return FirewallParser()
        tokens = apache_tokens(fmt) if dialect == "apache" else nginx_tokens(fmt)
        return RegexParser(spec, tokens, description=description, fmt=fmt, trailing=spec == "combined_extra")
    if spec.startswith("json:"):
        return JsonParser(name="json", mapping=parse_mapping(spec[5:]), description=f"JSON lines ({spec[5:]})")
    if "%" in spec or "$" in spec:
        return RegexParser("custom", format_tokens(spec), description=f"custom format {spec!r}", fmt=spec)
    raise FormatError(
        f"unknown log format {spec!r}: use auto, one of {', '.join(PRESETS)}, json:FIELD=KEY,..., "
        "or an Apache LogFormat / nginx log_format string")
