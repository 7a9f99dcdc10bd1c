"""Drives a running mastodon-pod with Mastodon.py, unmodified.

    python3 mastodon_py.py BASE_URL USER PASSWORD

Registers an app, logs in on the consent page (as a person would, with the
standard library), lets Mastodon.py exchange the code (it sends extra
parameters to the token endpoint), then uses the API. Exits non-zero on any
failure.
"""
import io
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

from mastodon import Mastodon

OOB = "urn:ietf:wg:oauth:2.0:oob"
SCOPES = ["read", "write", "follow"]


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def consent(url, user, password):
    """Logs in and approves on the consent page; returns the oob code."""
    opener = urllib.request.build_opener(NoRedirect)
    page = opener.open(url)
    cookie = page.headers["Set-Cookie"].split(";")[0]
    html = page.read().decode()
    fields = dict(re.findall(r'<input type="hidden" name="([^"]*)" value="([^"]*)"', html))
    fields.update({"username": user, "password": password, "decision": "approve"})
    base = urllib.parse.urlsplit(url)
    req = urllib.request.Request(
        f"{base.scheme}://{base.netloc}/oauth/authorize",
        data=urllib.parse.urlencode(fields).encode(),
        headers={"Cookie": cookie})
    body = opener.open(req).read().decode()
    return re.search(r'id="code">([^<]+)<', body).group(1)


def main():
    base, user, password, friends_token = sys.argv[1:5]
    client_id, client_secret = Mastodon.create_app(
        "Mastodon.py e2e", scopes=SCOPES, redirect_uris=OOB, api_base_url=base)
    m = Mastodon(client_id=client_id, client_secret=client_secret, api_base_url=base)
    url = m.auth_request_url(redirect_uris=OOB, scopes=SCOPES, allow_http=True)
    code = consent(url, user, password)
    m.log_in(code=code, redirect_uri=OOB, scopes=SCOPES, allow_http=True)

    version = m.retrieve_mastodon_version()
    assert m.verify_minimum_version("4.0.0", cached=True), version
    me = m.account_verify_credentials()
    assert me["username"] == user, me
    status = m.status_post("posted by Mastodon.py")
    assert "posted by Mastodon.py" in status["content"], status
    home = m.timeline_home()
    assert home[0]["id"] == status["id"], home
    m.status_favourite(status["id"])
    assert m.favourites()[0]["id"] == status["id"]
    lst = m.list_create("friends")
    assert any(l["id"] == lst["id"] for l in m.lists())
    m.status_delete(status["id"])
    media(m)
    friend = Mastodon(access_token=friends_token, api_base_url=base)
    streams(m, friend, lst)
    print(f"Mastodon.py against mastodon-pod {version}: ok")


def media(m):
    """Mastodon.py's upload (multipart POST /api/v2/media with the file,
    description and focus as parts), its update, and a status with it."""
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
    media = m.media_post(io.BytesIO(png), mime_type="image/png", description="a pixel",
                         focus=(0.5, -0.25), file_name="pixel.png")
    assert media["type"] == "image", media
    assert media["description"] == "a pixel", media
    assert media["meta"]["focus"] == {"x": 0.5, "y": -0.25}, media
    assert media["meta"]["original"]["filesize"] == len(png), media
    updated = m.media_update(media["id"], description="a black pixel")
    assert updated["description"] == "a black pixel", updated
    assert m.media(media["id"])["description"] == "a black pixel"
    status = m.status_post("with a picture", media_ids=[media["id"]])
    assert status["media_attachments"][0]["id"] == media["id"], status
    served = urllib.request.urlopen(media["url"]).read()
    assert served == png, "the file is served as uploaded"


def streams(m, friend, lst):
    """Mastodon.py's streaming (stream_user, stream_public, stream_hashtag,
    stream_list) against the pod's SSE endpoints: each receives the update
    a status posted through the REST API produces (the list's, one by an
    account on the list)."""
    import threading
    from mastodon.streaming import StreamListener

    class Listener(StreamListener):
        def __init__(self):
            self.updates = []
            self.event = threading.Event()

        def on_update(self, status):
            self.updates.append(status)
            self.event.set()

    friend_id = friend.account_verify_credentials()["id"]
    m.account_follow(friend_id)
    m.list_accounts_add(lst["id"], [friend_id])
    opened = {
        "user": lambda l: m.stream_user(l, run_async=True),
        "public": lambda l: m.stream_public(l, run_async=True),
        "hashtag": lambda l: m.stream_hashtag("streamtest", l, run_async=True),
        "list": lambda l: m.stream_list(lst["id"], l, run_async=True),
    }
    listeners = {}
    handles = []
    for name, open_stream in opened.items():
        listener = Listener()
        listeners[name] = listener
        handles.append(open_stream(listener))
    # The streams open in threads: post again until each has seen one of
    # the posts (a post made before a stream opened is not on it).
    posted = set()
    for _ in range(10):
        posted.add(friend.status_post("streamed to Mastodon.py #streamtest")["id"])
        if all(any(u["id"] in posted for u in l.updates) for l in listeners.values()):
            break
        for listener in listeners.values():
            listener.event.wait(1)
            listener.event.clear()
    for name, listener in listeners.items():
        assert any(u["id"] in posted for u in listener.updates), (name, listener.updates)
    for handle in handles:
        handle.close()


if __name__ == "__main__":
    main()
