import json

import pytest

from data_prep.errors import S2SError
from serve.auth import ApiKey, RateLimiter, add_key, key_hash, load_keys
from serve.cache import LruCache


def test_lru_cache_evicts_the_least_recently_used_and_zero_is_off():
    cache = LruCache(2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1  # now "b" is the oldest
    cache.put("c", 3)
    assert cache.get("b") is None and cache.get("a") == 1 and cache.get("c") == 3
    off = LruCache(0)
    off.put("a", 1)
    assert off.get("a") is None


def test_keys_are_stored_hashed_and_found_by_hash(tmp_path):
    path = tmp_path / "keys.json"
    key = add_key(path, "alice", per_minute=5)
    text = path.read_text()
    assert key not in text and key_hash(key) in text
    assert load_keys(path)[key_hash(key)] == ApiKey("alice", key_hash(key), 5)
    assert add_key(path, "bob") != key
    assert {k.name for k in load_keys(path).values()} == {"alice", "bob"}
    with pytest.raises(S2SError, match="a key named 'alice' exists already"):
        add_key(path, "alice")


@pytest.mark.parametrize("content,message", [
    (None, "no such API key file"),
    ("{oops", "not an API key file"),
    (json.dumps({"keys": [{"name": "x"}]}), "not an API key file"),
])
def test_bad_key_files_are_named(tmp_path, content, message):
    path = tmp_path / "keys.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(S2SError, match=message):
        load_keys(path)


def test_rate_limiter_allows_a_burst_then_says_when_to_retry():
    limiter = RateLimiter()
    key = ApiKey("k", "h", per_minute=3)
    assert [limiter.retry_after(key) for _ in range(3)] == [0, 0, 0]
    assert 1 <= limiter.retry_after(key) <= 20
    assert limiter.retry_after(ApiKey("free", "f", per_minute=0)) == 0


def test_keys_cli_prints_the_key_once_and_refuses_a_duplicate_name(tmp_path):
    from tests.conftest import run_s2s

    path = tmp_path / "keys.json"
    added = run_s2s("keys", "add", "alice", "--file", str(path), "--per-minute", "30")
    assert added.returncode == 0
    key = added.stdout.splitlines()[-1]
    assert key.startswith("s2s_") and key not in path.read_text()
    assert load_keys(path)[key_hash(key)].per_minute == 30
    again = run_s2s("keys", "add", "alice", "--file", str(path))
    assert again.returncode == 1 and "a key named 'alice' exists already" in again.stderr
