"""What a request path or user agent *is*, as bit flags (cached per distinct string).

The behaviour detectors weigh what was requested, not only how often it failed: a 404 on
``/.env`` or ``/phpmyadmin/`` says far more than a 404 on a stale image link. The word lists
are short and hand-written (generic probe vocabulary, not a copy of any signature set).
"""

from __future__ import annotations

import re

# --- path flags --------------------------------------------------------------------------
SENSITIVE = 1  #: secrets, VCS metadata, backups, dumps, system files
ADMIN = 2  #: admin panels and database front ends
PROBE = 4  #: software/framework/CVE probe targets, web shells
LOGIN = 8  #: authentication endpoints (brute force targets)
FORM = 16  #: registration, comment, contact, trackback forms (spam targets)
STATIC = 32  #: images, styles, scripts, fonts: broken links are common and harmless
DOWNLOAD = 64  #: archives, packages, documents: bulk downloaders follow stale links
SCRIPT = 128  #: server-side script extension (.php, .asp, .jsp, .cgi ...)
SENSITIVE_WEAK = 256  #: config/log-like extension: sensitive only when the site does not serve it

_STATIC_EXT = frozenset((
    "png", "jpg", "jpeg", "gif", "ico", "css", "js", "mjs", "svg", "webp", "avif", "bmp", "woff",
    "woff2", "ttf", "eot", "otf", "map", "mp4", "webm", "mp3", "ogg", "wav", "flac", "txt", "xml",
    "rss", "atom", "json", "csv", "md",
))
_DOWNLOAD_EXT = frozenset((
    "zip", "tar", "gz", "tgz", "bz2", "xz", "7z", "rar", "jar", "war", "deb", "rpm", "iso", "dmg",
    "exe", "msi", "pkg", "apk", "pdf", "epub", "ps", "doc", "docx", "xls", "xlsx", "ppt", "pptx",
    "odt", "ods", "gem", "whl", "egg",
))
_SCRIPT_EXT = frozenset((
    "php", "php3", "php4", "php5", "php7", "phtml", "asp", "aspx", "ashx", "asmx", "jsp", "jspx",
    "do", "action", "cgi", "pl", "py", "sh", "cfm", "shtml", "axd",
))
_BACKUP_EXT = frozenset((
    "sql", "bak", "old", "orig", "save", "swp", "swo", "dump", "sqlite", "sqlite3", "mdb", "key", "pem",
    "p12", "pfx", "env",
))
_CONFIG_EXT = frozenset(("log", "conf", "cfg", "ini", "yml", "yaml", "db", "tmp", "inc", "properties"))
# Archive names scanners try at the web root (``/backup.zip``, ``/www.tar.gz``).
_BACKUP_STEMS = frozenset((
    "backup", "backups", "back", "bak", "www", "web", "site", "wwwroot", "public_html", "htdocs",
    "html", "db", "database", "dump", "data", "old", "archive", "sql", "root", "home", "src",
    "source", "code", "admin", "test",
))

_SENSITIVE_RE = re.compile(
    r"""(?ix)
    (?:^|/)(?:                                       # one segment-start check, then the alternatives
      \.(?!well-known(?:/|$))[^/]+                   # any dot-file or dot-directory segment
    | (?:wp-config|config|configuration|settings|database|db|local|parameters|secrets?|credentials?)
        \.(?:php|inc|ya?ml|json|ini|xml|py|rb|js)(?:[.~_-]\w*|~)+$   # config files with a backup suffix
    | wp-config\.php
    | (?:web|app)\.config$
    | (?:id_rsa|id_dsa|id_ecdsa|id_ed25519|authorized_keys|known_hosts)(?:\.pub)?$
    | etc/(?:passwd|shadow|hosts|group|issue)
    | proc/self/
    | (?:win\.ini|boot\.ini|web-inf/web\.xml|meta-inf/)
    | (?:phpinfo|info|test|i|pi)\.php$
    | server-(?:status|info)$
    | (?:docker-compose|dockerfile|composer|package|secrets?|credentials?)
        (?:\.(?:ya?ml|json|lock))?(?:\.(?:bak|old|save|orig))?$
    | (?:error|access|debug|laravel|php_errors?)[._-]?log(?:\.\w+)?$
    | (?:storage/logs|logs?)/[^/]*\.log$
    | (?:dump|backup|db|database|mysql|data|site|www)\.(?:sql|tar|tgz|gz|zip|rar|7z|bak)(?:\.\w+)?$
    )
    """
)

_ADMIN_RE = re.compile(
    r"""(?ix)
    (?:^|/)(?:wp-admin|wp-login\.php|administrator|admin(?:istration)?(?:\.php|\.asp|\.aspx|\.html?)?
        |admin[-_]?(?:panel|area|console|login|cp)|adminer(?:[-\d.]*\.php)?|phpmyadmin[^/]*|php-my-admin
        |pma|myadmin|mysqladmin|sqladmin|dbadmin|mysql-admin|sqlweb|websql|webadmin|siteadmin
        |cpanel|whm|plesk|webmin|controlpanel|cp|panel|manager/html|host-manager|jmx-console
        |web-console|admin-console|console|\+cscoe\+|dana-na|remote/login|cgi-bin/luci
        |typo3|bitrix/admin|user/login|system/login)(?:/|$)
    """
)

_PROBE_RE = re.compile(
    r"""(?ix)
    (?:^|/)(?:wp-content/plugins|wp-content/themes/[^/]+/(?:.*\.php)|wp-includes|xmlrpc\.php
        |wp-json/wp/v2/users|cgi-bin|cgi|scripts/setup\.php|setup\.cgi|vendor/phpunit|phpunit
        |_ignition|telescope|actuator|solr|jenkins|struts|invoker|hudson|druid|nacos|geoserver
        |boaform|hnap1|gponform|goform|w00tw00t[^/]*|muieblackcat|fckeditor|ckfinder|kcfinder|elfinder
        |filemanager|tinymce|uploadify|timthumb\.php|shell|cmd|c99|r57|wso|alfa|b374k|webshell
        |eval-stdin\.php|owa|ecp|autodiscover|mapi|exchange|vpn|sslvpn|global-protect|mgmt
        |webui|hudson|zabbix|nagios|cacti|horde|roundcube|webmail|squirrelmail|mysql|sql|mssql
        |install(?:\.php)?|setup(?:\.php)?|installer|upgrade\.php|xampp|lampp|php(?:\d|-cgi)?
        |\.well-known/security\.txt\.php|sftp-config\.json|api/jsonws|jsonws|ws_ftp\.ini
        |magento_version|downloader|laravel|debug/default|_profiler|elmah\.axd|trace\.axd
        |portal/redlion|ztp/cgi-bin|luci|router|device\.rsp|level/15|stssys\.htm|ncsi\.txt
        |nmaplowercheck\d*|sdk|evox|hazelcast|hello\.world|\+CSCOT\+|owncloud|nextcloud|bea_wls_internal
        |wls-wsat|_async|console/login|v2/_catalog|containers/json|apps/zxtm|ueditor|seeyon|weaver
        |mifs|ui/vropspluginui|remote/fgt_lang|pme|phppgadmin|sqlitemanager|sqlite|pgadmin
        )(?:[/?.]|$)
    | (?:shell|backdoor|c99|r57|wso|b374k|indoxploit|alfa)[^/]*\.php$   # web-shell names
    """
)

_LOGIN_RE = re.compile(
    r"""(?ix)
    (?:^|/)(?:wp-login\.php|xmlrpc\.php|login|log-in|logon|log_in|signin|sign-in|sign_in|auth|authenticate
        |authentication|session|sessions|j_security_check|j_spring_security_check|logincheck
        |remote/logincheck|oauth/token|token|api/login|api/auth|user/login|users/sign_in
        |account/login|accounts/login|admin/login|administrator/index\.php|index\.php/admin
        |api/v\d+/(?:login|auth|sessions?|token)|ajax_login|dologin|checklogin|login\.(?:php|asp|aspx|jsp|do|action|html?))
        (?:/|$|\.)
    """
)

_FORM_RE = re.compile(
    r"""(?ix)
    (?:^|/)(?:register|registration|signup|sign-up|sign_up|join|user/register|account/register
        |wp-signup\.php|wp-comments-post\.php|comments?|trackback|guestbook|contact(?:-us|us)?|feedback
        |newsletter|subscribe|forum/posting\.php|posting\.php|index\.php\?action=register|submit
        |wp-json/contact-form-7)(?:/|$|\.)
    """
)


#: A date in a name (``2015-05-17``, ``201505``, ``/2015/05/``): archives and logs of a period are content a
#: bulk downloader follows stale links to, not software a scanner looks for.
_DATED = re.compile(r"(?:19|20)\d\d[-_/.]?(?:0[1-9]|1[0-2])(?:[-_/.]?(?:[0-2]\d|3[01]))?(?!\d)")


def _extension(path: str) -> str:
    last = path.rpartition("/")[2]
    stem, dot, ext = last.rpartition(".")
    return ext.lower() if dot and stem else ""


def classify_path(path: str | None) -> int:
    """Return the OR of the path flags that describe ``path`` (0 for an ordinary page)."""
    if not path:
        return 0
    p = path if len(path) <= 512 else path[:512]
    flags = 0
    ext = _extension(p)
    if ext in _STATIC_EXT:
        flags |= STATIC
    elif ext in _DOWNLOAD_EXT:
        flags |= DOWNLOAD
        stem = p.rpartition("/")[2].split(".", 1)[0].lower()
        if p.count("/") <= 1 and stem in _BACKUP_STEMS:
            flags |= SENSITIVE
    elif ext in _SCRIPT_EXT:
        flags |= SCRIPT
    elif ext in _BACKUP_EXT or p.endswith("~"):
        flags |= SENSITIVE
    elif ext in _CONFIG_EXT:
        flags |= SENSITIVE_WEAK
    if not flags & (SCRIPT | SENSITIVE) and _DATED.search(p):
        flags |= DOWNLOAD
    if _SENSITIVE_RE.search(p):
        flags |= SENSITIVE
    if _ADMIN_RE.search(p):
        flags |= ADMIN
    if _PROBE_RE.search(p):
        flags |= PROBE
    if _LOGIN_RE.search(p):
        flags |= LOGIN
    if _FORM_RE.search(p):
        flags |= FORM
    return flags


# --- agent flags -------------------------------------------------------------------------
GOOD_CRAWLER = 1  #: claims to be a well-known search/SEO/archive crawler
BAD_TOOL = 2  #: a vulnerability scanner, brute forcer or attack tool
NO_AGENT = 4  #: empty or ``-``
BAD_BOT = 8  #: comment/trackback spammers, e-mail harvesters, site rippers

#: Lower-case substrings, checked with ``in`` (far faster than one big case-insensitive regex).
_GOOD_CRAWLERS: tuple[str, ...] = (
    "googlebot", "adsbot-google", "mediapartners-google", "google-inspectiontool", "googleother",
    "feedfetcher-google", "bingbot", "bingpreview", "msnbot", "adidxbot", "slurp", "duckduckbot",
    "baiduspider", "yandexbot", "yandeximages", "yandexmobilebot", "applebot", "ahrefsbot", "semrushbot",
    "mj12bot", "dotbot", "petalbot", "seznambot", "sogou", "exabot", "ccbot", "archive.org_bot",
    "ia_archiver", "facebookexternalhit", "facebot", "twitterbot", "linkedinbot", "pinterestbot",
    "slackbot", "discordbot", "telegrambot", "whatsapp", "qwantify", "mojeekbot", "yisouspider",
    "360spider", "naver", "yeti/", "rogerbot", "screaming frog", "uptimerobot", "pingdom", "statuscake",
    "feedly", "feedburner", "newsblur", "inoreader",
)
_BAD_TOOLS: tuple[str, ...] = (
    "nikto", "sqlmap", "nmap", "masscan", "zgrab", "nuclei", "wpscan", "dirbuster", "gobuster",
    "feroxbuster", "ffuf", "wfuzz", "acunetix", "netsparker", "invicti", "w3af", "openvas", "nessus",
    "qualys", "arachni", "skipfish", "whatweb", "jorgee", "zmeu", "morfeus", "muieblackcat", "havij",
    "pangolin", "hydra", "medusa", "brutus", "commix", "xsstrike", "joomscan", "droopescan", "cmsmap",
    "wapiti", "vega/", "paros", "burpsuite", "burp collaborator", "owasp zap", "owasp_zap", "zap/",
    "appscan", "webinspect", "fimap", "grabber", "nimbostratus", "dotdotpwn", "jaeles", "xray/",
    "httpx - open-source", "interactsh", "l9explore", "l9tcpid", "struts-pwn", "vulnscan",
    "security scanner", "${jndi:",
)
_BAD_BOTS: tuple[str, ...] = (
    "trackback/", "track backer", "trackbacker", "emailcollector", "email collector", "emailsiphon",
    "emailspider", "emailwolf", "emailextractor", "email extrac", "emailhunter", "email hunter",
    "emailharvester", "extractorpro", "indy library", "guestbook auto", "autosubmitter", "auto submitter",
    "contactbot", "webbandit", "websucker", "web sucker", "webstripper", "webcopier", "httrack",
    "offline explorer", "teleport pro", "teleportpro", "grabnet", "blackwidow", "sitesnagger",
    "webreaper", "scan4mail",
)
_SHELLSHOCK_RE = re.compile(r"\(\s*\)\s*\{")
_TOKEN_RE = re.compile(r"[a-z0-9_]+")


def _split(names: tuple[str, ...]) -> tuple[frozenset[str], tuple[str, ...]]:
    """Single-word names (matched as whole tokens, one set lookup) and phrases (matched with ``in``)."""
    words = frozenset(n for n in names if _TOKEN_RE.fullmatch(n))
    return words, tuple(n for n in names if n not in words)


_TOOL_WORDS, _TOOL_PHRASES = _split(_BAD_TOOLS)
_BOT_WORDS, _BOT_PHRASES = _split(_BAD_BOTS)
_CRAWLER_WORDS, _CRAWLER_PHRASES = _split(_GOOD_CRAWLERS)


def classify_agent(agent: str | None) -> int:
    """Return the OR of the agent flags that describe ``agent``."""
    if not agent or agent == "-":
        return NO_AGENT
    low = agent.lower()
    words = set(_TOKEN_RE.findall(low))
    if (not _TOOL_WORDS.isdisjoint(words) or any(s in low for s in _TOOL_PHRASES)
            or ("{" in low and _SHELLSHOCK_RE.search(low))):
        return BAD_TOOL
    if not _BOT_WORDS.isdisjoint(words) or any(s in low for s in _BOT_PHRASES):
        return BAD_BOT
    if not _CRAWLER_WORDS.isdisjoint(words) or any(s in low for s in _CRAWLER_PHRASES):
        return GOOD_CRAWLER
    return 0


def bad_tool_name(agent: str) -> str:
    """The tool or bot name found in ``agent`` (for the alert's reason)."""
    low = agent.lower()
    if "{" in low and _SHELLSHOCK_RE.search(low):
        return "shellshock payload"
    words = set(_TOKEN_RE.findall(low))
    return next((s.strip("/ ") for s in _BAD_TOOLS + _BAD_BOTS if (s in words if s in _TOOL_WORDS | _BOT_WORDS
                                                                    else s in low)), agent[:40])
