"""Failed logins counted in Redis per account and per client address, shared by every web process.

An attempt is counted before its password is checked, so a burst of parallel
guesses cannot all pass the check before any of them is counted; a right
password then gives its count back. A success never resets a counter: an
address that sprays many accounts stays throttled however many of them it
knows. Unknown emails are counted like known ones.
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from redis import Redis

from replay.core.keys import RedisKeys
from replay.core.settings import Settings

# KEYS: the counters; ARGV: window (ms), then each counter's limit.
# Returns 0 (counted, go ahead) or the ms until the latest-ending full counter expires.
_BEGIN = """
local window = tonumber(ARGV[1])
local wait = 0
for i, key in ipairs(KEYS) do
  if tonumber(redis.call('GET', key) or '0') >= tonumber(ARGV[i + 1]) then
    local ttl = redis.call('PTTL', key)
    if ttl < 0 then
      redis.call('PEXPIRE', key, window)
      ttl = window
    end
    if ttl > wait then wait = ttl end
  end
end
if wait > 0 then return wait end
for _, key in ipairs(KEYS) do
  redis.call('INCR', key)
  if redis.call('PTTL', key) < 0 then redis.call('PEXPIRE', key, window) end
end
return 0
"""

# Give back one count, only to a live counter (DECR on an expired one would
# create a counter without an expiry).
_GIVE_BACK = """
for _, key in ipairs(KEYS) do
  if tonumber(redis.call('GET', key) or '0') > 0 then redis.call('DECR', key) end
end
return 0
"""


def address_bucket(remote_addr: str | None, ipv6_prefix_bits: int = 64) -> str:
    """The client address failures are counted under: IPv4 as is, IPv6 by network (one host holds a whole /64)."""
    try:
        ip = ipaddress.ip_address((remote_addr or "").strip())
    except ValueError:
        return "unknown"  # not an address (a unix socket, a bad forwarded header): one shared bucket
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped:
            return str(ip.ipv4_mapped)
        bits = min(max(ipv6_prefix_bits, 0), 128)
        return str(ipaddress.IPv6Network((ip.packed, bits), strict=False))
    return str(ip)


@dataclass(frozen=True)
class Attempt:
    counters: tuple[str, ...]
    # 0: counted, check the password; else refused, and the counters allow a try again in this many seconds.
    retry_after_s: int

    @property
    def refused(self) -> bool:
        return self.retry_after_s > 0


class LoginThrottle:
    def __init__(self, redis: Redis, keys: RedisKeys, settings: Settings):
        self.keys = keys
        self.settings = settings
        self._begin = redis.register_script(_BEGIN)
        self._give_back = redis.register_script(_GIVE_BACK)

    def begin(self, email: str, address: str) -> Attempt:
        """Count an attempt on this (normalised) email from this address bucket, or refuse it while throttled."""
        s = self.settings
        counters = (self.keys.login_failures_of_account(email), self.keys.login_failures_of_address(address))
        wait_ms = int(self._begin(keys=list(counters), args=[
            max(s.LOGIN_FAILURE_WINDOW_S, 1) * 1000, s.LOGIN_MAX_FAILURES_PER_ACCOUNT, s.LOGIN_MAX_FAILURES_PER_IP]))
        return Attempt(counters, -(-wait_ms // 1000))

    def succeeded(self, attempt: Attempt) -> None:
        """The password was right: what begin counted was no failure."""
        if not attempt.refused:
            self._give_back(keys=list(attempt.counters))
