#!/bin/sh
# ThreatLens test list
# second line  [2J
# Bans each address in the fail2ban jail 'threatlens' (it must exist).
set -e
fail2ban-client set threatlens banip 9.9.9.9
fail2ban-client set threatlens banip 192.0.2.44
fail2ban-client set threatlens banip 198.51.100.7
fail2ban-client set threatlens banip 203.0.113.9
fail2ban-client set threatlens banip 2001:db8::1
fail2ban-client set threatlens banip 2001:db8::a
